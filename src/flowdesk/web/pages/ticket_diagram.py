"""GET /tickets/{id}/diagram: the ticket's process (BPMN) with its current and passed
steps, as JSON for the ticket page's viewer (static/designer/ticket_diagram.js).

Checked like the ticket page itself: someone who may not read the ticket gets 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from flowdesk.services.ticket_diagram import ticket_diagram
from flowdesk.web.pages.common import checked_id
from flowdesk.web.render import SECURITY_HEADERS
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()


@router.get("/tickets/{ticket_id}/diagram")
async def diagram(ctx: Ctx, session: CurrentSession, ticket_id: str) -> Response:
    found = await run_in_threadpool(ticket_diagram, ctx, session.actor, checked_id(ticket_id))
    return JSONResponse(
        {
            "bpmn": found.bpmn,
            "current": list(found.current),
            "passed": list(found.passed),
            "holders": {node: list(people) for node, people in found.holders.items()},
            "modes": dict(found.modes),
        },
        headers=dict(SECURITY_HEADERS),
    )
