"""Ids sort by creation order, which the timeline and cursor pagination rely on."""

from __future__ import annotations

import os
import time
import uuid

from flowdesk.kernel.ids import new_id


def test_ids_made_in_a_burst_sort_in_creation_order() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_are_version_7_uuids() -> None:
    parsed = uuid.UUID(hex=new_id())
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_an_id_carries_the_millisecond_it_was_made_in() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(hex=new_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after + 1  # +1: a burst may borrow the next one


def test_a_forked_process_does_not_repeat_its_parents_random_bits() -> None:
    # Two server processes forked from one parent must not make the same ids.
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, new_id()[-16:].encode())
        os._exit(0)
    os.waitpid(child, 0)
    in_child = os.read(reader, 16).decode()
    os.close(reader)
    os.close(writer)
    assert new_id()[-16:] != in_child
