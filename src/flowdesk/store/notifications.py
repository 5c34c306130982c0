"""Notification rows for the in-app inbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, literal, or_, select, update

from flowdesk.store.tables import Notification, Ticket, table_of

notifications = table_of(Notification)
tickets = table_of(Ticket)


def insert_missing(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts the rows whose ids are not there yet: re-running a job adds nothing."""
    if not rows:
        return
    existing = set(
        conn.execute(
            select(notifications.c.id).where(notifications.c.id.in_([r["id"] for r in rows]))
        ).scalars()
    )
    fresh = [r for r in rows if r["id"] not in existing]
    if fresh:
        conn.execute(notifications.insert(), fresh)


def for_user(
    conn: Connection,
    user_id: str,
    *,
    limit: int,
    unread_only: bool,
    before_id: str | None = None,
    only_id: str | None = None,
) -> list[Row[Any]]:
    """Newest first, ties broken by id; `before_id` (the last one seen) pages to older ones.

    Ids are hashes, not times, so the cursor is looked up for its time; an id that is not
    this user's finds nothing.
    """
    query = (
        select(
            notifications,
            func.coalesce(tickets.c.title, literal("")).label("title"),
            func.coalesce(tickets.c.serial, literal("")).label("serial"),
            tickets.c.app_version_id,
        )
        .outerjoin(tickets, tickets.c.id == notifications.c.ticket_id)
        .where(notifications.c.user_id == user_id)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    if only_id is not None:
        query = query.where(notifications.c.id == only_id)
    if before_id is not None:
        seen = (
            select(notifications.c.created_at)
            .where(notifications.c.id == before_id, notifications.c.user_id == user_id)
            .scalar_subquery()
        )
        query = query.where(
            or_(
                notifications.c.created_at < seen,
                and_(notifications.c.created_at == seen, notifications.c.id < before_id),
            )
        )
    return list(conn.execute(query))


def count_unread(conn: Connection, user_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(notifications)
            .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        ).scalar_one()
    )


def mark_ids_read(conn: Connection, user_id: str, ids: Collection[str], now: datetime) -> int:
    if not ids:
        return 0
    query = update(notifications).where(
        notifications.c.user_id == user_id,
        notifications.c.read_at.is_(None),
        notifications.c.id.in_(list(ids)),
    )
    return conn.execute(query.values(read_at=now)).rowcount


def mark_read(conn: Connection, user_id: str, notification_id: str | None, now: datetime) -> int:
    query = update(notifications).where(
        notifications.c.user_id == user_id, notifications.c.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(notifications.c.id == notification_id)
    return conn.execute(query.values(read_at=now)).rowcount


def mark_read_up_to(conn: Connection, user_id: str, newest_id: str, now: datetime) -> int:
    """Marks read the user's notifications up to `newest_id` (the newest one they were
    shown) in list order; one that arrived after the page was drawn stays unread."""
    anchor = (
        select(notifications.c.created_at)
        .where(notifications.c.id == newest_id, notifications.c.user_id == user_id)
        .scalar_subquery()
    )
    query = update(notifications).where(
        notifications.c.user_id == user_id,
        notifications.c.read_at.is_(None),
        or_(
            notifications.c.created_at < anchor,
            and_(notifications.c.created_at == anchor, notifications.c.id <= newest_id),
        ),
    )
    return conn.execute(query.values(read_at=now)).rowcount
