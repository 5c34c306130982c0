"""Appending to and reading the audit chain; appends are serialised on the head row."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from flowdesk.engines.audit import AuditEntry, entry_hash, mask_personal
from flowdesk.store.tables import AuditHead, AuditLog, table_of

_log = table_of(AuditLog)
_head = table_of(AuditHead)


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    details: Mapping[str, Any],
) -> int:
    """Adds one entry inside the caller's transaction and returns its sequence number.

    Call it last in a transaction: the head row stays locked until commit.
    """
    query = select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    prev_seq, prev_hash = conn.execute(query).one()
    content = {
        "seq": prev_seq + 1,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": _masked(details),
    }
    digest = entry_hash(prev_hash, content)
    conn.execute(_log.insert(), {**content, "prev_hash": prev_hash, "hash": digest})
    conn.execute(update(_head).where(_head.c.id == 1).values(seq=content["seq"], hash=digest))
    return int(content["seq"])


def _masked(details: Mapping[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return mask_personal(value)
        if isinstance(value, Mapping):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return {k: walk(v) for k, v in details.items()}


def entries(conn: Connection, batch: int = 5000) -> Iterator[AuditEntry]:
    """All entries in sequence order, read in batches so memory stays flat."""
    last = 0
    while True:
        rows = conn.execute(
            select(_log).where(_log.c.seq > last).order_by(_log.c.seq).limit(batch)
        ).all()
        for row in rows:
            yield AuditEntry(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                details=row.details,
                prev_hash=row.prev_hash,
                hash=row.hash,
            )
        if len(rows) < batch:
            return
        last = rows[-1].seq


def head(conn: Connection) -> tuple[int, str]:
    seq, digest = conn.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).one()
    return int(seq), str(digest)
