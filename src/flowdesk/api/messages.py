"""REST API v1: messages that resume tickets waiting at a message event (ADR 0023) or
file a ticket of an app whose process starts on the message (ADR 0035)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.schemas import Strict
from flowdesk.services import messages

router = APIRouter(generate_unique_id_function=operation_id)


class MessageIn(Strict):
    name: str = Field(description="The message's name, as the process's message event names it")
    key: str = Field(
        description="The correlation key: the value the waiting ticket's form field held "
        "when its token reached the event"
    )
    message_id: str = Field(
        description=f"The sender's id of this message (at most {messages.MAX_MESSAGE_ID}"
        " characters): the same id again gets the first answer and changes nothing"
    )
    variables: dict[str, Any] | None = Field(
        default=None,
        description="Form values the message sets on the ticket, checked as the form's fields",
    )


class MessageOut(BaseModel):
    message_id: str
    ticket_id: str
    status: str = Field(description="The ticket's status after the message")
    duplicate: bool = Field(
        description="True when this message id was received before: nothing changed now"
    )
    started: bool = Field(
        description="True when no ticket waited and the message filed a ticket of the app "
        "whose process starts on it (a message start event)"
    )


@router.post(
    "/messages",
    response_model=MessageOut,
    tags=["messages"],
    responses={404: {"description": "No ticket waits for this message (no_waiting_ticket)"}},
    openapi_extra=body.openapi_body(MessageIn),
)
async def send_message(request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Resume the ticket waiting for message `name` with correlation `key` (a message
    catch event, receive task or a user task's boundary message); when none waits and a
    published app's process starts on this message, file a ticket of it for the sender
    (`started`: true; 409 `message_start_ambiguous` when several apps do).
    Administrators and the `message_sender` role only (403 `not_message_sender`); 404
    `no_waiting_ticket` when no ticket waits for it, 409 `message_already_received`
    when the tickets that waited have received it already, 409 `message_id_reused` for
    an id already used by another message, 422 for bad input. Idempotent by
    `message_id`. Recorded in the timeline (`message_received`) and the audit log."""
    data = await body.parse(request, MessageIn)
    done = await run_in_threadpool(
        messages.receive,
        ctx,
        actor=actor,
        name=data.name,
        key=data.key,
        message_id=data.message_id,
        variables=data.variables,
        locale=request_locale(request),
    )
    return answer(
        {
            "message_id": done.message_id,
            "ticket_id": done.ticket_id,
            "status": done.status,
            "duplicate": done.duplicate,
            "started": done.started,
        }
    )
