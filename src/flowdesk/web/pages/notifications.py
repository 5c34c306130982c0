"""Notifications: the unread ones, listed once and then marked read, or all of them
(`?show=all`, read ones muted); older ones page in by cursor."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import notifications
from flowdesk.web.pages.common import checked_cursor
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 50


@router.get("/notifications")
def notifications_list(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    cursor: str | None = None,
    show: Literal["unread", "all"] = "unread",
) -> Response:
    show_all = show == "all"
    page = notifications.notifications_page(
        ctx,
        session.actor,
        unread_only=not show_all,
        cursor=checked_cursor(cursor),
        limit=PAGE_SIZE,
        locale=request_locale(request),
    )
    # Only what is shown is marked read, so a notice arriving meanwhile stays unread.
    notifications.mark_shown_read(ctx, session.actor, [item.id for item in page.items])
    context = {"page": page, "older": cursor is not None, "show_all": show_all}
    if request.headers.get("HX-Request") == "true" and cursor:
        # Appended to the list; the nav badge is updated out of band.
        context["unread_left"] = notifications.count_unread(ctx, session.actor)
        return render(request, "_notification_rows.html", context, fragment=True, session=session)
    return render(request, "notifications.html", context, session=session)
