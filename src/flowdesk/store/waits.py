"""Timers and message waits as rows (ADR 0023, RELIABILITY.md 4).

A step writes the rows of the timers and message waits it starts (`insert_waits`, on
PostgreSQL a statement gated on the step having won its version check) and drops the
pending ones of a ticket that finished (`drop_pending`). The worker finds due timers
(`due_timers`) and fires each in a transaction of its own that first locks the row
(`lock`): a second worker firing the same timer waits for the first one's COMMIT and
then finds it fired. The row's state changes with the step that fired it (`finish`), so
a timer fires once as a committed transition, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from psycopg.types.json import Jsonb
from sqlalchemy import Connection

from flowdesk.store.sql import Sql, is_postgres, queue_before_commit, when
from flowdesk.store.tables import MessageReceipt, TicketWait, table_of

waits = table_of(TicketWait)
receipts = table_of(MessageReceipt)


class WaitRow(NamedTuple):
    id: str
    ticket_id: str
    kind: str
    node_id: str
    activation_id: str
    fire: int
    due_at: datetime | None
    name: str | None
    key: str | None
    state: str


_COLUMNS = "id, ticket_id, kind, node_id, activation_id, fire, due_at, name, key, state"
_INSERT = Sql(
    "INSERT INTO ticket_waits (id, ticket_id, kind, node_id, activation_id, fire, due_at, name,"
    " key, state, created_at, done_at) VALUES (:id, :ticket_id, :kind, :node_id,"
    " :activation_id, :fire, :due_at, :name, :key, 'pending', :at, NULL)"
)
# PostgreSQL: written only if this transaction wrote the ticket row (the step won)
_PG_INSERT = Sql(
    "INSERT INTO ticket_waits (id, ticket_id, kind, node_id, activation_id, fire, due_at, name,"
    " key, state, created_at, done_at) SELECT r.id, CAST(:ticket_id AS varchar), r.kind, r.node_id,"
    " r.activation_id, r.fire, r.due_at, r.name, r.key, 'pending', :at, NULL"
    " FROM jsonb_to_recordset(:rows) AS r(id text, kind text, node_id text,"
    " activation_id text, fire integer, due_at timestamptz, name text, key text)"
    " WHERE EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid)"
)
_DROP = Sql(
    "UPDATE ticket_waits SET state = 'dropped', done_at = :at"
    " WHERE ticket_id = :ticket_id AND state = 'pending'"
)
_PG_DROP = Sql(
    "UPDATE ticket_waits SET state = 'dropped', done_at = :at"
    " WHERE ticket_id = :ticket_id AND state = 'pending' AND EXISTS (SELECT 1 FROM tickets"
    " WHERE id = :ticket_id AND xmin = pg_current_xact_id()::xid)"
)
# A fired timer's own row may have been dropped by its own step a statement earlier (the
# step finished the ticket): it is still the one that fired.
_PG_FINISH = Sql(
    "UPDATE ticket_waits SET state = :state, done_at = :at WHERE id = :id"
    " AND state IN ('pending', 'dropped')"
    " AND EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid)"
)
_FINISH = Sql(
    "UPDATE ticket_waits SET state = :state, done_at = :at WHERE id = :id AND state = 'pending'"
)
_FINISH_OWN = Sql(
    "UPDATE ticket_waits SET state = :state, done_at = :at WHERE id = :id"
    " AND state IN ('pending', 'dropped')"
)
_LOCK = Sql(f"SELECT {_COLUMNS} FROM ticket_waits WHERE id = :id")
_PG_LOCK = Sql(f"SELECT {_COLUMNS} FROM ticket_waits WHERE id = :id FOR UPDATE")
_PG_LOCK_TICKET = Sql("SELECT 1 FROM tickets WHERE id = :ticket_id FOR UPDATE")
_DUE = Sql(
    "SELECT id FROM ticket_waits WHERE state = 'pending' AND kind = 'timer' AND due_at <= :now"
    " ORDER BY due_at, id LIMIT :limit"
)
_BY_MESSAGE = Sql(
    f"SELECT {_COLUMNS} FROM ticket_waits WHERE kind = 'message' AND name = :name"
    " AND key = :key ORDER BY created_at, id"
)
_PENDING_OF_TICKET = Sql(
    f"SELECT {_COLUMNS} FROM ticket_waits WHERE ticket_id = :ticket_id AND state = 'pending'"
    " ORDER BY due_at, id"
)
_RECEIPT = Sql(
    "SELECT message_id, name, key, ticket_id, received_at FROM message_receipts"
    " WHERE message_id = :message_id"
)
_INSERT_RECEIPT = Sql(
    "INSERT INTO message_receipts (message_id, name, key, ticket_id, received_at)"
    " VALUES (:message_id, :name, :key, :ticket_id, :at)"
)


def read_instant(value: Any) -> datetime | None:
    """An instant as either driver returns it (SQLite: text), timezone-aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(found: Sequence[Any]) -> WaitRow:
    values = list(found)
    values[6] = read_instant(values[6])
    return WaitRow(*values)


def insert_waits(
    conn: Connection, ticket_id: str, at: datetime, rows: list[dict[str, Any]]
) -> None:
    """The step's new timers and message waits (id, kind, node_id, activation_id, fire,
    due_at, name, key)."""
    if not rows:
        return
    if is_postgres(conn):
        queue_before_commit(
            conn,
            _PG_INSERT,
            {
                "ticket_id": ticket_id,
                "at": at,
                "rows": Jsonb(
                    [
                        {**r, "due_at": r["due_at"].isoformat() if r["due_at"] else None}
                        for r in rows
                    ]
                ),
            },
        )
        return
    for r in rows:
        _INSERT.run(
            conn,
            {
                **r,
                "ticket_id": ticket_id,
                "due_at": when(conn, r["due_at"]) if r["due_at"] is not None else None,
                "at": when(conn, at),
            },
        )


def drop_pending(conn: Connection, ticket_id: str, at: datetime) -> None:
    """The ticket finished: its pending timers and message waits will never fire."""
    if is_postgres(conn):
        queue_before_commit(conn, _PG_DROP, {"ticket_id": ticket_id, "at": at})
        return
    _DROP.run(conn, {"ticket_id": ticket_id, "at": when(conn, at)})


def due_timers(conn: Connection, now: datetime, limit: int) -> list[str]:
    rows = _DUE.run(conn, {"now": when(conn, now), "limit": limit}).fetchall()
    return [row[0] for row in rows]


def lock(conn: Connection, wait_id: str) -> WaitRow | None:
    """The row, locked until the transaction ends on PostgreSQL (SQLite has one writer).
    Its ticket's row is locked first: a step on the ticket locks the ticket, then drops
    its waits, and taking the two in the same order never deadlocks with it."""
    if not is_postgres(conn):
        found = _LOCK.run(conn, {"id": wait_id}).fetchone()
        return None if found is None else _row(found)
    found = _LOCK.run(conn, {"id": wait_id}).fetchone()
    if found is None:
        return None
    _PG_LOCK_TICKET.run(conn, {"ticket_id": found[1]})
    found = _PG_LOCK.run(conn, {"id": wait_id}).fetchone()
    return None if found is None else _row(found)


def finish(
    conn: Connection, wait_id: str, ticket_id: str, state: str, at: datetime, *, gated: bool
) -> None:
    """Pending -> `state` (fired, stale, received). `gated`: with the step of this
    transaction (PostgreSQL: only if it won its version check)."""
    if gated and is_postgres(conn):
        queue_before_commit(
            conn, _PG_FINISH, {"id": wait_id, "ticket_id": ticket_id, "state": state, "at": at}
        )
        return
    statement = _FINISH_OWN if gated else _FINISH
    statement.run(conn, {"id": wait_id, "state": state, "at": when(conn, at)})


def by_message(conn: Connection, name: str, key: str) -> list[WaitRow]:
    return [_row(r) for r in _BY_MESSAGE.run(conn, {"name": name, "key": key}).fetchall()]


def pending_of_ticket(conn: Connection, ticket_id: str) -> list[WaitRow]:
    return [_row(r) for r in _PENDING_OF_TICKET.run(conn, {"ticket_id": ticket_id}).fetchall()]


def receipt(conn: Connection, message_id: str) -> Any:
    return _RECEIPT.run(conn, {"message_id": message_id}).fetchone()


def insert_receipt(
    conn: Connection, *, message_id: str, name: str, key: str, ticket_id: str, at: datetime
) -> None:
    _INSERT_RECEIPT.run(
        conn,
        {
            "message_id": message_id,
            "name": name,
            "key": key,
            "ticket_id": ticket_id,
            "at": when(conn, at),
        },
    )


def finish_after_step(
    conn: Connection, written: Any, wait_id: str, ticket_id: str, state: str, at: datetime
) -> None:
    """The row's change with the step `written` of this transaction: on PostgreSQL gated
    on the step's version check, on SQLite (where the step's outcome is known at once)
    only if it applied."""
    if is_postgres(conn) or written.applied:
        finish(conn, wait_id, ticket_id, state, at, gated=True)


_PG_RECEIPT = Sql(
    "INSERT INTO message_receipts (message_id, name, key, ticket_id, received_at)"
    " SELECT :message_id, :name, :key, CAST(:ticket_id AS varchar), :at"
    " WHERE EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid)"
    " ON CONFLICT (message_id) DO NOTHING"
)


def receipt_after_step(
    conn: Connection,
    written: Any,
    *,
    message_id: str,
    name: str,
    key: str,
    ticket_id: str,
    at: datetime,
) -> None:
    """The message's receipt, with the step it made (as `finish_after_step`)."""
    params = {"message_id": message_id, "name": name, "key": key, "ticket_id": ticket_id}
    if is_postgres(conn):
        queue_before_commit(conn, _PG_RECEIPT, {**params, "at": at})
    elif written.applied:
        _INSERT_RECEIPT.run(conn, {**params, "at": when(conn, at)})
