"""Where attachments are stored and what they may be: built from the settings by the
composition root (ADR 0028)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flowdesk.engines.files import FilePolicy
from flowdesk.store.blobs import BlobStore


@dataclass(frozen=True)
class AttachmentStorage:
    blobs: BlobStore
    policy: FilePolicy = field(default_factory=FilePolicy)
    # An upload no action or form field has linked within this long is purged.
    unlinked_for: timedelta = timedelta(days=1)
    # Attachments one action may carry.
    max_per_action: int = 20
