"""Hash chain over audit entries (RELIABILITY.md promise 7)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
# SHA-256, or SM3 (GB/T 32905) for deployments held to the Chinese national standards;
# both give 64 hex digits. A chain keeps the one it started with (`audit_head.algorithm`).
HASH_ALGORITHMS = ("sha256", "sm3")

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_RESIDENT_ID = re.compile(r"(?<![0-9Xx])(\d{3})\d{11}(\d{3}[0-9Xx])(?![0-9Xx])")
_BANK_CARD = re.compile(r"(?<!\d)(\d{6})\d{6,9}(\d{4})(?!\d)")
# Ids and hashes are long lowercase hex words whose digit runs can look like a phone or
# card number; they are kept whole.
_HEX_WORD = re.compile(r"(?<![0-9A-Za-z])([0-9a-f]{32,})(?![0-9A-Za-z])")
# Every pattern above needs at least 11 digits in a row: text without such a run is
# returned as it is, without running them.
_DIGIT_RUN = re.compile(r"\d{11}")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    target_type: str
    target_id: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        """The fields the hash covers: everything but the hashes themselves."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def canonical_json(content: Mapping[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8 text: one byte string per logical content."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, content: Mapping[str, Any], algorithm: str = "sha256") -> str:
    return text_digest(prev_hash + canonical_json(content), algorithm)


def text_digest(text: str, algorithm: str) -> str:
    """The hex digest of the text's UTF-8 bytes (what the databases compute in SQL)."""
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"unknown audit hash algorithm {algorithm!r}")
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()


def mask_personal(text: str) -> str:
    """Masks mobile numbers, resident IDs and bank cards (JR/T 0171 C2) inside free text."""
    if _DIGIT_RUN.search(text) is None:
        return text
    # split() with a group keeps the hex words at the odd positions
    parts = _HEX_WORD.split(text)
    return "".join(part if i % 2 else _mask_numbers(part) for i, part in enumerate(parts))


def _mask_numbers(text: str) -> str:
    text = _RESIDENT_ID.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    text = _BANK_CARD.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 10) + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def verify_chain(
    entries: Iterable[AuditEntry],
    start_hash: str = GENESIS_HASH,
    start_seq: int = 1,
    algorithm: str = "sha256",
) -> ChainBreak | None:
    """Returns the first entry that breaks the chain, or None when every link holds."""
    expected_prev = start_hash
    expected_seq = start_seq
    for entry in entries:
        if entry.seq != expected_seq:
            reason = "missing entry" if entry.seq > expected_seq else "entry out of order"
            return ChainBreak(expected_seq if entry.seq > expected_seq else entry.seq, reason)
        if entry.prev_hash != expected_prev:
            return ChainBreak(entry.seq, "previous hash does not match the entry before it")
        if entry_hash(entry.prev_hash, entry.content(), algorithm) != entry.hash:
            return ChainBreak(entry.seq, "content does not match its hash")
        expected_prev = entry.hash
        expected_seq += 1
    return None
