"""Typed identifiers: time-ordered UUIDv7 text, so indexes stay append-friendly."""

from __future__ import annotations

import os
import random
import threading
import time
from typing import NewType

UserId = NewType("UserId", str)
TicketId = NewType("TicketId", str)
TaskId = NewType("TaskId", str)

_MILLIS = (1 << 48) - 1
_VERSION = 0x7 << 12
_VARIANT = 0b10 << 62

_lock = threading.Lock()
_last_millis = 0
_counter = 0
# The random bits tell apart ids that two processes make in the same millisecond. They
# come from a generator seeded from the OS once per process (and again in a forked
# child), not from a system call per id: ids are row keys, never secrets (those come
# from `secrets`), and on a busy host os.urandom cost up to a tenth of the pure engine.
_random = random.Random(os.urandom(32))


def _reseed() -> None:
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


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
        rand = _random.getrandbits(62)
    # 48 bits of milliseconds, version 7 atop the 12-bit counter, variant 0b10 atop rand_b
    return f"{(millis & _MILLIS) << 80 | (_VERSION | counter) << 64 | _VARIANT | rand:032x}"
