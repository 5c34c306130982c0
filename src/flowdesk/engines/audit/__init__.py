"""Tamper-evident audit chain: pure hashing and verification, no storage.

Each entry's hash covers the previous entry's hash and its own canonical JSON, so
changing, removing, inserting or swapping any entry breaks every hash after it.
Signed checkpoints (`checkpoint`) pin the chain from outside the database.
"""

from flowdesk.engines.audit.chain import (
    GENESIS_HASH,
    HASH_ALGORITHMS,
    AuditEntry,
    ChainBreak,
    canonical_json,
    entry_hash,
    mask_personal,
    text_digest,
    verify_chain,
)
from flowdesk.engines.audit.checkpoint import Checkpoint, CheckpointError

__all__ = [
    "GENESIS_HASH",
    "HASH_ALGORITHMS",
    "AuditEntry",
    "ChainBreak",
    "Checkpoint",
    "CheckpointError",
    "canonical_json",
    "entry_hash",
    "mask_personal",
    "text_digest",
    "verify_chain",
]
