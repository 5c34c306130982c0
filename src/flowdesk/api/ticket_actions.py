"""REST API v1: 催办 (urge) and comments without deciding on a ticket (ADR 0017)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import PersonOut, Strict
from flowdesk.services import ticket_actions

router = APIRouter(generate_unique_id_function=operation_id)


class UrgeOut(BaseModel):
    ticket_id: str
    at: datetime
    urged: list[PersonOut] = Field(
        description="The holders of the open tasks who were notified, in the order the tasks opened"
    )
    next_urge_at: datetime = Field(description="When the ticket may be urged again")


class CommentIn(Strict):
    comment: str = Field(
        description=f"At most {ticket_actions.MAX_COMMENT} characters; not empty or"
        " invisible only; no control characters but newline and tab"
    )
    attachments: list[str] = Field(
        default=[],
        max_length=20,
        description="Ids from POST /attachments: the caller's own uploads, not yet attached"
        " (422 attachment_not_usable naming each other one); listed with the action in the"
        " timeline and downloadable by whoever may read the ticket",
    )


class AttachmentSummaryOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int


class CommentOut(BaseModel):
    id: str
    ticket_id: str
    at: datetime
    author: PersonOut
    comment: str = Field(description="As stored: line ends as newline, blanks trimmed")
    attachments: list[AttachmentSummaryOut] = Field(
        default=[], description="The files the comment carries, in the order sent"
    )


@router.post(
    "/tickets/{ticket_id}/urge",
    response_model=UrgeOut,
    tags=["tickets"],
    responses={429: {"description": DESCRIPTIONS[429]}},
)
async def urge_ticket(ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """催办: notify the holders of the ticket's open tasks again, naming it by its serial.

    The requester or an administrator only (403 `urge_not_allowed`), on a running ticket
    (409 `ticket_not_running`); a ticket may be urged once per interval (4 hours by
    default), whoever urges: sooner is 429 `urged_too_soon` with Retry-After and a
    message saying when. Recorded in the timeline (`ticket_urged`) and the audit log."""
    done = await run_in_threadpool(
        ticket_actions.urge, ctx, actor=actor, ticket_id=ticket_id, locale=request_locale(request)
    )
    return answer(
        {
            "ticket_id": done.ticket_id,
            "at": done.at,
            "urged": [{"id": u, "name": n} for u, n in zip(done.user_ids, done.names, strict=True)],
            "next_urge_at": done.next_urge_at,
        }
    )


@router.post(
    "/tickets/{ticket_id}/comments",
    response_model=CommentOut,
    status_code=201,
    tags=["tickets"],
    openapi_extra=body.openapi_body(CommentIn),
)
async def comment_on_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """A comment without a decision, by anyone who may read the ticket (finished ones
    too). The requester and the holders of its open tasks are notified, never the author;
    it appears in the timeline (`comment_added`) and the audit log. A bad comment is a 422
    naming `comment` (`required`, `too_long`, `invalid_characters`)."""
    data = await body.parse(request, CommentIn)
    done = await run_in_threadpool(
        ticket_actions.add_comment,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        comment=data.comment,
        locale=request_locale(request),
        attachments=data.attachments,
    )
    return answer(
        {
            "id": done.note_id,
            "ticket_id": done.ticket_id,
            "at": done.at,
            "author": {"id": actor.user_id, "name": actor.display_name},
            "comment": done.comment,
            "attachments": list(done.attachments),
        },
        status_code=201,
    )
