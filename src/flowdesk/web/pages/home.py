"""The home page: my open tasks and my latest tickets."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import apps, views
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()
HOME_TASKS = 5
HOME_TICKETS = 10


@router.get("/")
def home(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    actor = session.actor
    locale = request_locale(request)
    return render(
        request,
        "home.html",
        {
            "tasks": views.my_tasks(ctx, actor, limit=HOME_TASKS, locale=locale),
            "task_count": views.count_my_tasks(ctx, actor),
            "tickets": views.tickets(ctx, actor, mine=True, limit=HOME_TICKETS, locale=locale),
            "apps": apps.list_apps(ctx),
        },
        session=session,
    )
