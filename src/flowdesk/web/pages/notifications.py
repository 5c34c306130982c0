"""Unread notifications: listed once, then marked read; older ones page in by cursor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import notifications
from flowdesk.web.pages.common import checked_cursor
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 50


@router.get("/notifications")
def unread(
    request: Request, ctx: Ctx, session: CurrentSession, cursor: str | None = None
) -> Response:
    page = notifications.unread_page(
        ctx,
        session.actor,
        cursor=checked_cursor(cursor),
        limit=PAGE_SIZE,
        locale=request_locale(request),
    )
    # Only what is shown is marked read, so a notice arriving meanwhile stays unread.
    notifications.mark_shown_read(ctx, session.actor, [item.id for item in page.items])
    context = {"page": page, "older": cursor is not None}
    if request.headers.get("HX-Request") == "true" and cursor:
        # Appended to the list; the nav badge is updated out of band.
        context["unread_left"] = notifications.count_unread(ctx, session.actor)
        return render(request, "_notification_rows.html", context, fragment=True, session=session)
    return render(request, "notifications.html", context, session=session)
