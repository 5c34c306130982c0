"""Call activities' rows (ADR 0033): the parent's wait (ticket_waits, kind call, `name`
the called app's key) and the link to the child ticket filed for it (call_links).

The worker asks three questions, each a small query: which call waits have no child yet
(`unstarted`), which children ended while their parent still waits (`ended`), and which
children still run although their parent's wait is over (`orphans`: the parent was
cancelled, withdrawn, terminated or moved on).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from flowdesk.store.sql import Sql, is_postgres, queue_before_commit, when


class Link(NamedTuple):
    child_ticket_id: str
    parent_ticket_id: str
    wait_id: str
    node_id: str


_UNSTARTED = Sql(
    "SELECT w.id FROM ticket_waits w LEFT JOIN call_links l ON l.wait_id = w.id"
    " WHERE w.kind = 'call' AND w.state = 'pending' AND l.wait_id IS NULL"
    " ORDER BY w.created_at, w.id LIMIT :limit"
)
_ENDED = Sql(
    "SELECT w.id FROM ticket_waits w JOIN call_links l ON l.wait_id = w.id"
    " JOIN tickets c ON c.id = l.child_ticket_id"
    " WHERE w.kind = 'call' AND w.state = 'pending' AND c.status <> 'running'"
    " ORDER BY w.created_at, w.id LIMIT :limit"
)
_ORPHANS = Sql(
    "SELECT l.child_ticket_id FROM call_links l JOIN ticket_waits w ON w.id = l.wait_id"
    " JOIN tickets c ON c.id = l.child_ticket_id"
    " WHERE w.state <> 'pending' AND c.status = 'running'"
    " ORDER BY l.created_at LIMIT :limit"
)
_INSERT = Sql(
    "INSERT INTO call_links (child_ticket_id, parent_ticket_id, wait_id, node_id, created_at)"
    " VALUES (:child, :parent, :wait_id, :node_id, :at)"
)
_COLUMNS = "child_ticket_id, parent_ticket_id, wait_id, node_id"
_BY_WAIT = Sql(f"SELECT {_COLUMNS} FROM call_links WHERE wait_id = :wait_id")
_BY_CHILD = Sql(f"SELECT {_COLUMNS} FROM call_links WHERE child_ticket_id = :child")
_CHILDREN = Sql(
    f"SELECT {_COLUMNS} FROM call_links WHERE parent_ticket_id = :parent ORDER BY created_at"
)
_LINKED = (
    "SELECT t.id, t.serial, a.key, t.status, l.node_id FROM call_links l"
    " JOIN tickets t ON t.id = l.{side}_ticket_id JOIN apps a ON a.id = t.app_id"
    " WHERE l.{other}_ticket_id = :id ORDER BY l.created_at"
)
_CHILD_ROWS = Sql(_LINKED.format(side="child", other="parent"))
_PARENT_ROWS = Sql(_LINKED.format(side="parent", other="child"))
# A running parent's step that left call waits behind (withdrawn, swept by a terminate or
# an error, jumped): their rows go stale, so the worker cancels their children.
_STALE_GONE = Sql(
    "UPDATE ticket_waits SET state = 'stale', done_at = :at WHERE ticket_id = :ticket_id"
    " AND kind = 'call' AND state = 'pending'"
    " AND id NOT IN (SELECT value FROM json_each(:keep))"
)
_PG_STALE_GONE = Sql(
    "UPDATE ticket_waits SET state = 'stale', done_at = :at WHERE ticket_id = :ticket_id"
    " AND kind = 'call' AND state = 'pending' AND NOT (id = ANY(CAST(:keep AS text[])))"
    " AND EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid)"
)
_DEPARTMENT = Sql("SELECT department_id FROM tickets WHERE id = :id")


def unstarted(conn: Connection, limit: int) -> list[str]:
    return [r[0] for r in _UNSTARTED.run(conn, {"limit": limit}).fetchall()]


def ended(conn: Connection, limit: int) -> list[str]:
    return [r[0] for r in _ENDED.run(conn, {"limit": limit}).fetchall()]


def orphans(conn: Connection, limit: int) -> list[str]:
    return [r[0] for r in _ORPHANS.run(conn, {"limit": limit}).fetchall()]


def insert(
    conn: Connection, *, child: str, parent: str, wait_id: str, node_id: str, at: datetime
) -> None:
    """Written with the child's own write: on PostgreSQL the new ticket's row goes in just
    before COMMIT (ADR 0006), so the link is queued after it."""
    if is_postgres(conn):
        queue_before_commit(
            conn,
            _INSERT,
            {"child": child, "parent": parent, "wait_id": wait_id, "node_id": node_id, "at": at},
        )
        return
    _INSERT.run(
        conn,
        {
            "child": child,
            "parent": parent,
            "wait_id": wait_id,
            "node_id": node_id,
            "at": when(conn, at),
        },
    )


def _link(found: Any) -> Link | None:
    return None if found is None else Link(*found)


def by_wait(conn: Connection, wait_id: str) -> Link | None:
    return _link(_BY_WAIT.run(conn, {"wait_id": wait_id}).fetchone())


def by_child(conn: Connection, child: str) -> Link | None:
    return _link(_BY_CHILD.run(conn, {"child": child}).fetchone())


def children(conn: Connection, parent: str) -> list[Link]:
    return [Link(*r) for r in _CHILDREN.run(conn, {"parent": parent}).fetchall()]


def department_of(conn: Connection, ticket_id: str) -> str | None:
    found = _DEPARTMENT.run(conn, {"id": ticket_id}).fetchone()
    return None if found is None else found[0]


class Linked(NamedTuple):
    """A ticket linked by a call activity, as the other one's page shows it."""

    ticket_id: str
    serial: str
    app_key: str
    status: str
    node_id: str  # the parent's call activity


def linked(conn: Connection, ticket_id: str) -> tuple[Linked | None, list[Linked]]:
    """The parent that called `ticket_id` (None) and the children it called, in order."""
    parents = [Linked(*r) for r in _PARENT_ROWS.run(conn, {"id": ticket_id}).fetchall()]
    children = [Linked(*r) for r in _CHILD_ROWS.run(conn, {"id": ticket_id}).fetchall()]
    return (parents[0] if parents else None), children


def stale_gone(
    conn: Connection, ticket_id: str, keep: list[str], at: datetime, written: Any
) -> None:
    """The ticket's pending call waits not in `keep` (its state's waits after the step)
    go stale, with the step `written`: on PostgreSQL gated on the step's version check
    (known only at COMMIT), on SQLite only if it applied."""
    if is_postgres(conn):
        queue_before_commit(conn, _PG_STALE_GONE, {"ticket_id": ticket_id, "keep": keep, "at": at})
    elif written.applied:
        _STALE_GONE.run(
            conn, {"ticket_id": ticket_id, "keep": json.dumps(keep), "at": when(conn, at)}
        )
