"""My inbox: 待办 (open tasks assigned to me) and 已办 (tasks I decided), filtered,
searched and sorted with the lists' shared vocabulary, "load more" by cursor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import apps, views
from flowdesk.web.pages.list_page import fetch_page, list_page, read_query
from flowdesk.web.render import request_locale
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 20
TABS = ("open", "done")


@router.get("/tasks")
def inbox(request: Request, ctx: Ctx, session: CurrentSession, tab: str = "open") -> Response:
    chosen = tab if tab in TABS else "open"
    query, errors = read_query(
        request,
        ignore=("tab",),
        default_sort="updated" if chosen == "done" else "created",
        page_size=PAGE_SIZE,
    )
    page, errors = fetch_page(
        errors,
        lambda: views.task_list(
            ctx, session.actor, query, done=chosen == "done", locale=request_locale(request)
        ),
    )
    return list_page(
        request,
        session,
        query,
        errors,
        page,
        full="tasks.html",
        rows="_task_rows.html",
        extra={"tab": chosen, "apps": apps.list_apps(ctx), "base_params": {"tab": chosen}},
    )
