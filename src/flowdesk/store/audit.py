"""Appending to and reading the audit chain; appends are serialised on the head row."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from flowdesk.engines.audit import AuditEntry, entry_hash, mask_personal
from flowdesk.store.sql import Sql, document, is_postgres
from flowdesk.store.tables import AuditHead, AuditLog, table_of

_log = table_of(AuditLog)
_head = table_of(AuditHead)
_READ_HEAD = Sql("SELECT seq, hash FROM audit_head WHERE id = 1")
_LOCK_HEAD = Sql("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
_INSERT = Sql(
    "INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, details, prev_hash,"
    " hash) VALUES (:seq, :at, :actor, :action, :target_type, :target_id, :details, :prev_hash,"
    " :hash)"
)
_MOVE_HEAD = Sql("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1")


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
    # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL locks the head row.
    query = _LOCK_HEAD if is_postgres(conn) else _READ_HEAD
    prev_seq, prev_hash = query.run(conn, {}).fetchone()
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
    _INSERT.run(
        conn,
        {
            **content,
            "details": document(conn, content["details"]),
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    _MOVE_HEAD.run(conn, {"seq": content["seq"], "hash": digest})
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
