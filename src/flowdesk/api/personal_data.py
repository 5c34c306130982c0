"""REST API v1: personal numbers in full (RELIABILITY promise 8, ADR 0027). Ticket answers
carry resident IDs, mobiles and bank cards masked; a reader holding the role
`personal_data_viewer` asks for them in full here, with a reason that the audit keeps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import Strict
from flowdesk.services import views

router = APIRouter(generate_unique_id_function=operation_id)
_FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"description": DESCRIPTIONS[403]}}


class UnmaskIn(Strict):
    reason: str = Field(
        max_length=views.MAX_UNMASK_REASON,
        description="Why the full numbers are needed (kept in the audit log)",
    )


class UnmaskedOut(BaseModel):
    values: dict[str, str] = Field(
        description="The ticket's personal fields (resident ID, mobile, bank card) as stored"
    )


@router.post(
    "/tickets/{ticket_id}/unmask",
    response_model=UnmaskedOut,
    tags=["tickets"],
    openapi_extra=body.openapi_body(UnmaskIn),
    responses=_FORBIDDEN,
)
async def unmask_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """The ticket's personal fields unmasked, for a reader who holds the role
    `personal_data_viewer` (others 403 `unmask_not_permitted`; a ticket they cannot read
    404). The reason is required (422 `unmask_reason_required`) and the look is an audit
    entry `ticket.unmask` naming the fields shown and the reason, never the values."""
    data = await body.parse(request, UnmaskIn)
    shown = await run_in_threadpool(
        views.unmask_values,
        ctx,
        actor,
        ticket_id,
        reason=data.reason,
        locale=request_locale(request),
    )
    return answer({"values": shown})
