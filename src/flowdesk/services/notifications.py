"""In-app notifications: written by the 'notify' job after the step that caused them.

The job may run more than once (at-least-once delivery); deterministic ids make the
second run insert nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.services import views
from flowdesk.services.context import ServiceContext
from flowdesk.services.jobs import handler
from flowdesk.store import notifications as notifications_store


@dataclass(frozen=True)
class NotificationView:
    id: str
    kind: str
    ticket_id: str | None
    task_id: str | None
    serial: str  # the ticket's serial (LN-2026-000123), as lists and tab titles name it
    title: str  # the ticket's title in the viewer's language
    created_at: datetime
    read: bool


@handler("notify")
def deliver(conn: Connection, payload: dict[str, Any], ctx: ServiceContext) -> None:
    ticket_id = payload["ticket_id"]
    now = ctx.clock.now()
    rows = []
    for index, notice in enumerate(payload["notices"]):
        key = f"{ticket_id}:{notice['kind']}:{notice.get('task_id')}:{notice['user_id']}:{index}"
        if notice.get("note_id"):  # an urge or comment: each is its own notification
            key += f":{notice['note_id']}"
        rows.append(
            {
                "id": hashlib.sha256(key.encode()).hexdigest()[:32],
                "user_id": notice["user_id"],
                "ticket_id": ticket_id,
                "kind": notice["kind"],
                "data": {"task_id": notice.get("task_id")},
                "created_at": now,
                "read_at": None,
            }
        )
    notifications_store.insert_missing(conn, rows)


def unread(
    ctx: ServiceContext, actor: Actor, limit: int = 50, *, locale: str = "en"
) -> list[NotificationView]:
    return notifications_page(ctx, actor, limit=limit, locale=locale).items


def notifications_page(
    ctx: ServiceContext,
    actor: Actor,
    *,
    unread_only: bool = True,
    cursor: str | None = None,
    limit: int = 50,
    locale: str = "en",
    only_id: str | None = None,
) -> views.Page[NotificationView]:
    """The actor's notifications (only the unread ones unless `unread_only` is False),
    newest first; `next_cursor` pages on to older ones; `only_id` picks one of them."""
    limit = max(1, min(limit, views.MAX_PAGE))
    with ctx.db.read() as conn:
        rows = notifications_store.for_user(
            conn,
            actor.user_id,
            limit=limit + 1,
            unread_only=unread_only,
            before_id=cursor,
            only_id=only_id,
        )
        more, rows = len(rows) > limit, rows[:limit]
        names = views.app_names(ctx, conn, {r.app_version_id for r in rows if r.app_version_id})
    items = [
        NotificationView(
            row.id,
            row.kind,
            row.ticket_id,
            row.data.get("task_id"),
            row.serial,
            views.ticket_title(names[row.app_version_id], row.title, locale)
            if row.app_version_id
            else "",
            row.created_at,
            row.read_at is not None,
        )
        for row in rows
    ]
    return views.Page(items, items[-1].id if more else None)


def count_unread(ctx: ServiceContext, actor: Actor) -> int:
    with ctx.db.read() as conn:
        return notifications_store.count_unread(conn, actor.user_id)


def mark_read(ctx: ServiceContext, actor: Actor, notification_id: str | None = None) -> int:
    with ctx.db.write() as conn:
        return notifications_store.mark_read(conn, actor.user_id, notification_id, ctx.clock.now())


def mark_shown_read(ctx: ServiceContext, actor: Actor, notification_ids: Collection[str]) -> int:
    """Marks exactly the listed notifications read, in one transaction."""
    with ctx.db.write() as conn:
        return notifications_store.mark_ids_read(
            conn, actor.user_id, notification_ids, ctx.clock.now()
        )


def mark_read_up_to(ctx: ServiceContext, actor: Actor, newest_id: str) -> int:
    """ "Mark all read" from a page whose newest notification was `newest_id`: it and every
    older one; a notification that arrived after the page was drawn stays unread."""
    with ctx.db.write() as conn:
        return notifications_store.mark_read_up_to(conn, actor.user_id, newest_id, ctx.clock.now())


def mark_one_read(
    ctx: ServiceContext, actor: Actor, notification_id: str, *, locale: str = "en"
) -> NotificationView | None:
    """Marks one of the actor's notifications read; returns it as now shown, or None when it
    is not theirs (others' ids look missing)."""
    mark_shown_read(ctx, actor, [notification_id])
    page = notifications_page(ctx, actor, unread_only=False, only_id=notification_id, locale=locale)
    return page.items[0] if page.items else None
