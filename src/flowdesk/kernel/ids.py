"""Typed identifiers: time-ordered UUIDv7 text, so indexes stay append-friendly."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import NewType

UserId = NewType("UserId", str)
TicketId = NewType("TicketId", str)
TaskId = NewType("TaskId", str)

_lock = threading.Lock()
_last_millis = 0
_counter = 0


def new_id() -> str:
    """A UUIDv7 (RFC 9562) as 32 hex chars, strictly increasing within this process.

    Ids made in the same millisecond count up in the 12-bit `rand_a` field (RFC 9562
    method 1), so two tasks opened by one step sort in the order they were opened.
    """
    global _last_millis, _counter
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last_millis:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_millis += 1
                _counter = 0
            millis = _last_millis
        else:
            _last_millis = millis
            _counter = 0
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value).hex
