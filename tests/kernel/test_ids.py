"""Ids sort by creation order, which the timeline and cursor pagination rely on."""

from __future__ import annotations

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
