"""Typed identifiers: time-ordered UUIDv7 text, so indexes stay append-friendly."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

UserId = NewType("UserId", str)
TicketId = NewType("TicketId", str)
TaskId = NewType("TaskId", str)


def new_id() -> str:
    """A UUIDv7 (RFC 9562) as 32 hex chars: sortable by creation time."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value).hex
