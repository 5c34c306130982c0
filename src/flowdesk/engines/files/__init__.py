"""Attachments' safety checks: names, sizes, types by extension and by their bytes,
and archive bombs, decided from the bytes given (no storage, no database)."""

from flowdesk.engines.files.check import (
    CODES,
    MAX_NAME_LENGTH,
    AttachmentRefused,
    CheckedFile,
    FileName,
    check_file,
    check_name,
    sanitise_filename,
)
from flowdesk.engines.files.policy import (
    DANGEROUS_EXTENSIONS,
    DEFAULT_EXTENSIONS,
    KNOWN_TYPES,
    FilePolicy,
)

__all__ = [
    "CODES",
    "DANGEROUS_EXTENSIONS",
    "DEFAULT_EXTENSIONS",
    "KNOWN_TYPES",
    "MAX_NAME_LENGTH",
    "AttachmentRefused",
    "CheckedFile",
    "FileName",
    "FilePolicy",
    "check_file",
    "check_name",
    "sanitise_filename",
]
