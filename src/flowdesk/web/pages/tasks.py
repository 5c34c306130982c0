"""My inbox: open tasks assigned to me, newest first, with "load more" by cursor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import views
from flowdesk.web.pages.common import checked_cursor
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 20


@router.get("/tasks")
def inbox(
    request: Request, ctx: Ctx, session: CurrentSession, cursor: str | None = None
) -> Response:
    page = views.my_tasks(
        ctx,
        session.actor,
        cursor=checked_cursor(cursor),
        limit=PAGE_SIZE,
        locale=request_locale(request),
    )
    context = {"page": page}
    if request.headers.get("HX-Request") == "true" and cursor:
        return render(request, "_task_rows.html", context, fragment=True, session=session)
    return render(request, "tasks.html", context, session=session)
