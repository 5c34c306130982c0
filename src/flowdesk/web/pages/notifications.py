"""Unread notifications: listed once, then marked read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import notifications
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 50


@router.get("/notifications")
def unread(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    items = notifications.unread(
        ctx, session.actor, limit=PAGE_SIZE, locale=request_locale(request)
    )
    # Only what is shown is marked read, so a notice arriving meanwhile stays unread.
    for item in items:
        notifications.mark_read(ctx, session.actor, item.id)
    return render(request, "notifications.html", {"items": items}, session=session)
