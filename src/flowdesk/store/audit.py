"""Appending to and reading the audit chain; appends are serialised on the head row."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, select, update

from flowdesk.engines.audit import AuditEntry, canonical_json, mask_personal, text_digest
from flowdesk.store.sql import Sql, document, is_postgres
from flowdesk.store.tables import AuditHead, AuditLog, table_of

_log = table_of(AuditLog)
_head = table_of(AuditHead)
# SQLite: the entry is hashed in SQL from the head with the chain's algorithm, like
# PostgreSQL's below (`flowdesk_digest`: registered on every SQLite connection, a
# function of migration 0005 on PostgreSQL), then the head moves to it; BEGIN IMMEDIATE
# already serialises writers. The head moves only here, never by itself when a row is
# inserted, so an entry added by hand past it is caught by `audit verify`.
_SQLITE_APPEND = Sql(
    "INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, details, prev_hash,"
    " hash) SELECT seq + 1, :audit_at, :audit_actor, :audit_action, :audit_target_type,"
    " :audit_target_id, :audit_details, hash, flowdesk_digest(hash || :audit_before_seq"
    " || (seq + 1) || :audit_after_seq, algorithm) FROM audit_head WHERE id = 1"
)
_SQLITE_MOVE_HEAD = Sql(
    "UPDATE audit_head SET (seq, hash) = (SELECT seq, hash FROM audit_log"
    " WHERE seq = audit_head.seq + 1) WHERE id = 1"
)
# PostgreSQL: lock the head, insert the entry hashed in SQL, move the head: one statement,
# so the head row (which serialises every writer) is held for as short a time as possible.
# The hashed text is the same canonical JSON as in Python, with the new seq spliced in.
# `{gate}` lets a caller's statement append only when its own write happened.
PG_APPEND_CTES = (
    "audit_next AS (SELECT seq + 1 AS seq, hash AS prev, algorithm FROM audit_head"
    " WHERE id = 1{gate} FOR UPDATE OF audit_head),"
    " audit_entry AS (INSERT INTO audit_log (seq, at, actor, action, target_type, target_id,"
    " details, prev_hash, hash) SELECT seq, :audit_at, :audit_actor, :audit_action,"
    " :audit_target_type, :audit_target_id, :audit_details, prev, flowdesk_digest("
    "prev || :audit_before_seq || seq::text || :audit_after_seq, algorithm)"
    " FROM audit_next RETURNING seq, hash),"
    " audit_moved AS (UPDATE audit_head SET seq = audit_entry.seq, hash = audit_entry.hash"
    " FROM audit_entry WHERE audit_head.id = 1 RETURNING 1)"
)
_PG_APPEND = Sql(f"WITH {PG_APPEND_CTES.format(gate='')} SELECT 1")
_SEQ_MARK = -987654321


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    details: Mapping[str, Any],
) -> None:
    """Adds one entry inside the caller's transaction.

    Call it last in a transaction: the head row stays locked until commit.
    """
    params = entry_params(
        conn,
        at=at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    if is_postgres(conn):
        _PG_APPEND.run(conn, params)
    else:
        _SQLITE_APPEND.run(conn, params)
        _SQLITE_MOVE_HEAD.run(conn, {})


_SQLITE_HEAD = Sql("SELECT seq, hash, algorithm FROM audit_head WHERE id = 1")
_SQLITE_INSERT = Sql(
    "INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, details,"
    " prev_hash, hash) VALUES (:seq, :audit_at, :audit_actor, :audit_action,"
    " :audit_target_type, :audit_target_id, :audit_details, :prev_hash, :hash)"
)
_SQLITE_SET_HEAD = Sql("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1")


def append_many_sqlite(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """SQLite: appends many entries (each the keyword arguments of `append`) in one
    executemany, hashed here exactly as `flowdesk_digest` hashes them in SQL, and moves the
    head once. BEGIN IMMEDIATE serialises writers, so the head cannot move meanwhile."""
    if not entries:
        return
    seq, digest, algorithm = _SQLITE_HEAD.run(conn, {}).fetchone()
    rows = []
    for entry in entries:
        params = entry_params(conn, **entry)
        seq += 1
        new = text_digest(
            f"{digest}{params['audit_before_seq']}{seq}{params['audit_after_seq']}", algorithm
        )
        rows.append({**params, "seq": seq, "prev_hash": digest, "hash": new})
        digest = new
    _SQLITE_INSERT.run_many(conn, rows)
    _SQLITE_SET_HEAD.run(conn, {"seq": seq, "hash": digest})


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """`flowdesk_digest(text, algorithm)`: the hex digest of the text's UTF-8 bytes."""
    dbapi_connection.create_function("flowdesk_digest", 2, text_digest, deterministic=True)


def entry_params(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """The `:audit_*` parameters of an append, with the entry's canonical JSON split
    around its seq, which only the head (read inside the statement) decides."""
    content: dict[str, Any] = {
        "seq": _SEQ_MARK,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": _masked(details),
    }
    params = {
        "audit_at": content["at"],
        "audit_actor": actor,
        "audit_action": action,
        "audit_target_type": target_type,
        "audit_target_id": target_id,
        "audit_details": document(conn, content["details"]),
    }
    # The top-level "seq" key sorts after "details", so its mark is the last one.
    before, mark, after = canonical_json(content).rpartition(f'"seq":{_SEQ_MARK}')
    return {
        **params,
        "audit_before_seq": before + mark.removesuffix(str(_SEQ_MARK)),
        "audit_after_seq": after,
    }


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


class ChainHead(NamedTuple):
    seq: int
    hash: str
    algorithm: str


def head(conn: Connection) -> ChainHead:
    seq, digest, algorithm = conn.execute(
        select(_head.c.seq, _head.c.hash, _head.c.algorithm).where(_head.c.id == 1)
    ).one()
    return ChainHead(int(seq), str(digest), str(algorithm))


def start_with_algorithm(conn: Connection, algorithm: str) -> bool:
    """Sets the hash algorithm of a chain with no entries yet; False when it has some."""
    started = conn.execute(
        update(_head).where(_head.c.id == 1, _head.c.seq == 0).values(algorithm=algorithm)
    )
    return bool(started.rowcount == 1)


def create_pgcrypto(conn: Connection) -> None:
    """PostgreSQL: the extension behind SM3 (`digest`); a no-op when it is there."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgcrypto")
