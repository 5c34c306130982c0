"""REST API v1: 转交 (hand an open task to another person) and an administrator's
hand-over of all of a person's open tasks. Handlers call services only and write their
answers with `answer` (ADR 0018)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer, step_answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import StepOut, Strict
from flowdesk.services import transfers
from flowdesk.services.tickets import MAX_COMMENT

router = APIRouter(generate_unique_id_function=operation_id)


class TransferIn(Strict):
    to: str = Field(
        description="The username of the active person who decides the task in your place",
        min_length=1,
        max_length=64,
    )
    comment: str = Field(default="", max_length=MAX_COMMENT, description="A note for them")


class HandOverIn(Strict):
    to: str | None = Field(
        default=None,
        max_length=64,
        description="Who takes the tasks (username); omitted: the person's active manager",
    )
    comment: str = Field(default="", max_length=MAX_COMMENT)


class LeftTaskOut(BaseModel):
    task_id: str
    code: str = Field(
        description="Why it stayed: already_approver (the new holder already approves at"
        " that step), ticket_returned (the applicant's own returned ticket), task_not_open"
    )


class LeftTicketOut(BaseModel):
    ticket_id: str
    code: str = Field(
        description="Why it stayed with them: self_approval (the new owner decides a step of"
        " it), ticket_moved (it finished meanwhile)"
    )


class HandOverOut(BaseModel):
    username: str = Field(description="Whose tasks were handed over")
    to: str = Field(description="Who holds them now")
    moved: list[str] = Field(description="The tasks handed over (their old ids: now closed)")
    left: list[LeftTaskOut] = Field(description="The tasks that stayed, each with the reason")
    tickets_moved: list[str] = Field(
        description="The running tickets they filed, now owned by `to`: who withdraws,"
        " resubmits, cancels and urges them (ADR 0034)"
    )
    tickets_left: list[LeftTicketOut] = Field(
        description="Their running tickets that stayed with them, each with the reason"
    )


@router.post(
    "/tasks/{task_id}/transfer",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(TransferIn),
    responses={409: {"description": DESCRIPTIONS[409]}},
)
async def transfer_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """转交: hand this open task to another person, who decides it in your place.

    Only a holder of the task (403 `not_assignee`). Your task closes as transferred (it is
    in your 已办) and the new holder gets a new task at the same step, notified
    (`task_transferred`); the answer's `opened_task_ids` names it. An unknown person is
    422 `unknown_user`, an inactive one 422 `user_inactive`, yourself 422
    `transfer_to_self`; someone who already approves at this step 409 `already_approver`;
    a task already decided 409 `task_not_open`."""
    data = await body.parse(request, TransferIn)
    result = await run_in_threadpool(
        transfers.transfer,
        ctx,
        actor=actor,
        task_id=task_id,
        to=data.to,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/admin/users/{username}/hand-over",
    response_model=HandOverOut,
    tags=["admin"],
    openapi_extra=body.openapi_body(HandOverIn),
)
async def hand_over_tasks(
    username: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """Hands every open task and every running ticket they filed of a person who leaves or
    moves to `to` (default: their manager). Administrators and org admins only (403). Each
    task and ticket is its own step; one that cannot move stays with the person and is
    listed in `left` / `tickets_left` with the reason. A
    person without an active manager and no `to` is 422 `no_handover_target`. Deactivating
    a person does this by itself when they have an active manager."""
    data = await body.parse(request, HandOverIn)
    result = await run_in_threadpool(
        transfers.hand_over,
        ctx,
        actor=actor,
        username=username,
        to=data.to,
        comment=data.comment,
        locale=request_locale(request),
    )
    return answer(
        {
            "username": result.from_username,
            "to": result.to_username,
            "moved": list(result.moved),
            "left": [{"task_id": task_id, "code": code} for task_id, code in result.left],
            "tickets_moved": list(result.tickets_moved),
            "tickets_left": [
                {"ticket_id": ticket_id, "code": code} for ticket_id, code in result.tickets_left
            ],
        }
    )
