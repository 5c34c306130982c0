"""Notifications: the unread ones, or all of them (`?show=all`, read ones muted); older ones
page in by cursor.

Looking changes nothing: a GET never marks anything read (a page another site embeds or
prefetches must not empty someone's inbox). People mark read with a POST carrying the CSRF
token: "mark all read" (up to the newest notification the page showed, so one arriving
meanwhile stays unread) or one at a time (HTMX swaps the row in place).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import NotFound
from flowdesk.services import notifications
from flowdesk.services.views import Page
from flowdesk.web.pages.common import checked_cursor, checked_id
from flowdesk.web.render import redirect, render, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

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
    context = {
        "page": page,
        "older": cursor is not None,
        "show_all": show_all,
        "any_unread": any(not item.read for item in page.items),
    }
    if request.headers.get("HX-Request") == "true" and cursor:
        # Appended to the list; the nav badge is updated out of band.
        context["unread_left"] = notifications.count_unread(ctx, session.actor)
        return render(request, "_notification_rows.html", context, fragment=True, session=session)
    return render(request, "notifications.html", context, session=session)


def _back(form: CheckedForm) -> str:
    return "/notifications?show=all" if form.get("show") == "all" else "/notifications"


@router.post("/notifications/read")
def mark_all_read(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm
) -> Response:
    """Marks read the newest notification the page showed (`up_to`) and all older ones."""
    up_to = form.get("up_to")
    if not isinstance(up_to, str):
        up_to = ""
    notifications.mark_read_up_to(ctx, session.actor, checked_id(up_to, "notification"))
    return redirect(_back(form))


@router.post("/notifications/{notification_id}/read")
def mark_one_read(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, notification_id: str
) -> Response:
    locale = request_locale(request)
    item = notifications.mark_one_read(
        ctx, session.actor, checked_id(notification_id, "notification"), locale=locale
    )
    if item is None:
        raise NotFound("Notification not found", "notification_not_found")
    if request.headers.get("HX-Request") != "true":
        return redirect(_back(form))
    # The row, now read, in place of the old one; the nav badge out of band.
    context = {
        "page": Page([item], None),
        "show_all": form.get("show") == "all",
        "unread_left": notifications.count_unread(ctx, session.actor),
    }
    return render(request, "_notification_rows.html", context, fragment=True, session=session)
