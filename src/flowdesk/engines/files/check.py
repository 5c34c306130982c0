"""Checks one uploaded file against a FilePolicy: name, size, extension, the bytes'
signature, and for ZIP-based files the central directory (never extracted).

Pure: reads only the seekable binary stream it is given. Every refusal is an
AttachmentRefused with a stable code and a message in the caller's language.
"""

from __future__ import annotations

import codecs
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import filetype

from flowdesk.engines.files.messages import message
from flowdesk.engines.files.policy import (
    ARCHIVE_EXTENSIONS,
    DANGEROUS_EXTENSIONS,
    KNOWN_TYPES,
    ZIP_PACKAGES,
    FilePolicy,
)
from flowdesk.kernel.errors import ErrorDetail, FlowdeskError

MAX_NAME_LENGTH = 200
SNIFF_BYTES = 8192
_TEXT_CHUNK = 64 * 1024
# A ZIP local file header is 30 bytes before its name and extra field.
_LOCAL_HEADER = 30
_BIDI_AND_INVISIBLE = (
    frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff")
    | frozenset(chr(c) for c in range(0x202A, 0x202F))
    | frozenset(chr(c) for c in range(0x2066, 0x206A))
)

CODES = {
    "too_large": "attachment_too_large",
    "empty": "attachment_empty",
    "type_refused": "attachment_type_refused",
    "double_extension": "attachment_double_extension",
    "type_mismatch": "attachment_type_mismatch",
    "archive_bomb": "attachment_archive_bomb",
    "archive_nested": "attachment_archive_nested",
    "archive_encrypted": "attachment_archive_encrypted",
}


class AttachmentRefused(FlowdeskError):
    """A file the policy refuses: 413 when too large, else 422; one detail at `file`."""

    def __init__(self, key: str, locale: str, limit: object = "") -> None:
        text = message(key, locale, limit)
        code = CODES[key]
        status = 413 if key == "too_large" else 422
        super().__init__(text, code, [ErrorDetail("file", code, text)], status)


@dataclass(frozen=True)
class FileName:
    display: str  # what people see and download it as: NFC Unicode, no path, no controls
    extension: str  # lower case, without the dot


@dataclass(frozen=True)
class CheckedFile:
    display_name: str
    extension: str
    content_type: str  # from the extension the bytes proved, never the client's header


def sanitise_filename(raw: str) -> str:
    """The name to show: the last path component, NFC, without control, bidirectional
    or zero-width characters (a right-to-left override can make `exe.pdf` read as
    `fdp.exe`), no leading dots, trailing dots or blanks, at most 200 characters with
    the extension kept. "attachment" when nothing is left."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    # Printable characters stay (CJK included); other spaces become one; controls,
    # format characters, separators and unassigned code points go.
    name = "".join(
        c if c.isprintable() else " "
        for c in name
        if c not in _BIDI_AND_INVISIBLE and (c.isprintable() or unicodedata.category(c) == "Zs")
    )
    # ':' names an NTFS alternate stream, the rest are refused by Windows file names.
    for reserved in ':*?"<>|':
        name = name.replace(reserved, "_")
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or "attachment"


def check_name(raw: str, policy: FilePolicy, locale: str = "en") -> FileName:
    """The name's display form and extension, or a refusal: an extension the policy does
    not allow (`attachment_type_refused`), or a dangerous type hidden before the last
    extension (`invoice.pdf.exe`, `a.php.jpg`: `attachment_double_extension`)."""
    display = sanitise_filename(raw)
    # Compatibility forms too: a full-width dot or letters must not hide an extension.
    parts = [p.strip() for p in unicodedata.normalize("NFKC", display).casefold().split(".")]
    extension = parts[-1] if len(parts) > 1 else ""
    if any(part in DANGEROUS_EXTENSIONS for part in parts[1:-1]) or (
        extension in DANGEROUS_EXTENSIONS and len(parts) > 2
    ):
        raise AttachmentRefused("double_extension", locale)
    if extension not in policy.extensions:
        raise AttachmentRefused("type_refused", locale, ", ".join(sorted(policy.extensions)))
    return FileName(display, extension)


def check_file(
    raw_name: str, content: BinaryIO, size: int, policy: FilePolicy, locale: str = "en"
) -> CheckedFile:
    """Checks a whole upload of `size` bytes readable from `content` (seekable; left at
    an unspecified position). Raises AttachmentRefused; returns what to store it as."""
    name = check_name(raw_name, policy, locale)
    if size > policy.max_bytes:
        raise AttachmentRefused("too_large", locale, policy.max_bytes)
    if size == 0:
        raise AttachmentRefused("empty", locale)
    content_type, kinds = KNOWN_TYPES[name.extension]
    content.seek(0)
    head = content.read(SNIFF_BYTES)
    sniffed = filetype.guess(head)
    sniffed_kind: str | None = sniffed.extension if sniffed is not None else None
    if kinds:
        if sniffed_kind not in kinds:
            raise AttachmentRefused("type_mismatch", locale, name.extension)
    elif sniffed_kind is not None or not _is_text(content):
        raise AttachmentRefused("type_mismatch", locale, name.extension)
    if name.extension in ZIP_PACKAGES:
        _check_zip(content, size, name.extension, policy, locale)
    return CheckedFile(name.display, name.extension, content_type)


def _is_text(content: BinaryIO) -> bool:
    """Text without NUL bytes, in UTF-8 (a BOM allowed) or else GB18030, which Chinese
    Excel writes its CSV in."""
    for encoding in ("utf-8", "gb18030"):
        content.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := content.read(_TEXT_CHUNK):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _check_zip(
    content: BinaryIO, size: int, extension: str, policy: FilePolicy, locale: str
) -> None:
    """The central directory alone decides: entry count, total and per-entry expansion,
    entries sharing bytes (overlapping-entry bombs), and for a .zip nested archives,
    programs and encrypted entries; a package must hold the members its format needs."""
    content.seek(0)
    try:
        with zipfile.ZipFile(content) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise AttachmentRefused("type_mismatch", locale, extension) from None
    if len(entries) > policy.archive_max_entries:
        raise AttachmentRefused("archive_bomb", locale, f"> {policy.archive_max_entries} entries")
    total = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if total > policy.archive_max_uncompressed:
        raise AttachmentRefused(
            "archive_bomb", locale, f"> {policy.archive_max_uncompressed} bytes uncompressed"
        )
    ratio_limit = policy.archive_max_ratio
    if total > policy.archive_ratio_floor and total > ratio_limit * max(packed, 1):
        raise AttachmentRefused("archive_bomb", locale, f"ratio > {ratio_limit}")
    for entry in entries:
        if entry.file_size > policy.archive_ratio_floor and entry.file_size > ratio_limit * max(
            entry.compress_size, 1
        ):
            raise AttachmentRefused("archive_bomb", locale, f"ratio > {ratio_limit}")
    if packed > size or _overlapping(entries, size):
        raise AttachmentRefused("archive_bomb", locale, "overlapping entries")
    names = {entry.filename for entry in entries}
    if any(required not in names for required in ZIP_PACKAGES[extension]):
        raise AttachmentRefused("type_mismatch", locale, extension)
    if extension == "zip":
        _check_members(entries, locale)


def _overlapping(entries: list[zipfile.ZipInfo], size: int) -> bool:
    """Whether two entries' data share bytes, or one runs past the end: the trick of
    the non-recursive bombs, which point many entries at one compressed stream."""
    ordered = sorted(entries, key=lambda entry: entry.header_offset)
    for entry, following in zip(ordered, [*ordered[1:], None], strict=True):
        end = (
            entry.header_offset
            + _LOCAL_HEADER
            + len(entry.orig_filename.encode("utf-8", "replace"))
        )
        end += entry.compress_size
        limit = following.header_offset if following is not None else size
        if end > limit:
            return True
    return False


def _check_members(entries: list[zipfile.ZipInfo], locale: str) -> None:
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise AttachmentRefused("archive_encrypted", locale)
        if entry.is_dir():
            continue
        parts = unicodedata.normalize("NFKC", entry.filename).casefold().rsplit("/", 1)[-1]
        pieces = parts.split(".")
        extensions = pieces[1:]
        if any(ext in ARCHIVE_EXTENSIONS for ext in extensions[-1:]):
            raise AttachmentRefused("archive_nested", locale, entry.filename[:100])
        if any(ext in DANGEROUS_EXTENSIONS for ext in extensions):
            raise AttachmentRefused("archive_nested", locale, entry.filename[:100])
