"""Ticket copies (抄送): who was copied on a ticket, the 抄送我 list, and read marks.

A CC node's copies are written with the step that passed it (store/steps.py, both
paths); an ad-hoc copy is written beside the steps like a note (ADR 0017), never touching
the ticket's version. One row per person and ticket: a later copy of someone already
copied keeps the first (ON CONFLICT DO NOTHING). Nothing sweeps these rows: a reject,
return or withdraw leaves them (APPROVALS.md edge case 37).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flowdesk.store.sql import is_postgres
from flowdesk.store.tables import Ticket, TicketCopy, User, table_of

copies = table_of(TicketCopy)
tickets = table_of(Ticket)
users = table_of(User)


def insert_copies(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts (ticket_id, user_id, by_id, node_id, note_id, at) rows, skipping people
    already copied on the ticket."""
    if not rows:
        return
    insert = pg_insert if is_postgres(conn) else sqlite_insert
    full = [
        {
            "ticket_id": r["ticket_id"],
            "user_id": r["user_id"],
            "by_id": r.get("by_id"),
            "node_id": r.get("node_id"),
            "note_id": r.get("note_id"),
            "at": r["at"],
            "read_at": None,
        }
        for r in rows
    ]
    conn.execute(insert(copies).on_conflict_do_nothing(), full)


def copied_user_ids(conn: Connection, ticket_id: str) -> frozenset[str]:
    rows = conn.execute(select(copies.c.user_id).where(copies.c.ticket_id == ticket_id))
    return frozenset(rows.scalars())


def mark_read(conn: Connection, ticket_id: str, user_id: str, now: datetime) -> int:
    """Sets the copy's read mark the first time its person opens the ticket."""
    result = conn.execute(
        update(copies)
        .where(
            copies.c.ticket_id == ticket_id,
            copies.c.user_id == user_id,
            copies.c.read_at.is_(None),
        )
        .values(read_at=now)
    )
    return result.rowcount


def for_user(
    conn: Connection,
    user_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    unread_only: bool = False,
) -> list[Row[Any]]:
    """The user's copies, newest first (then by ticket id), with their tickets' serial,
    title, status and app version; `after` is the (at, ticket_id) of the last row of the
    previous page."""
    query = (
        select(
            copies.c.ticket_id,
            copies.c.by_id,
            copies.c.node_id,
            copies.c.note_id,
            copies.c.at,
            copies.c.read_at,
            tickets.c.serial,
            tickets.c.title,
            tickets.c.status,
            tickets.c.app_version_id,
            tickets.c.requester_id,
        )
        .join(tickets, tickets.c.id == copies.c.ticket_id)
        .where(copies.c.user_id == user_id)
        .order_by(copies.c.at.desc(), copies.c.ticket_id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(copies.c.read_at.is_(None))
    if after is not None:
        at, ticket_id = after
        query = query.where(
            or_(copies.c.at < at, and_(copies.c.at == at, copies.c.ticket_id < ticket_id))
        )
    return list(conn.execute(query))


def count_unread(conn: Connection, user_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(copies)
            .where(copies.c.user_id == user_id, copies.c.read_at.is_(None))
        ).scalar_one()
    )


def active_users_by_username(conn: Connection, usernames: Iterable[str]) -> dict[str, str]:
    """username → id of the active users among `usernames`."""
    names = list(usernames)
    if not names:
        return {}
    rows = conn.execute(
        select(users.c.username, users.c.id).where(
            users.c.username.in_(names), users.c.is_active.is_(True)
        )
    )
    return {str(username): str(user_id) for username, user_id in rows}


def people_in(events: Iterable[Any]) -> list[str]:
    """The people copied in timeline `events` (a CC node's copies_sent, an ad-hoc
    ticket_copied), whose names the ticket page shows."""
    return [
        user
        for e in events
        if e.kind in ("copies_sent", "ticket_copied")
        for user in (e.data or {}).get("users", ())
    ]
