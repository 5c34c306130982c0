"""REST API v1: 委派 (per-task delegation): the holder of an open task asks someone to work
it, and the delegate resolves it back (ADR 0034). Not 代理, the out-of-office substitutes
at /delegations (api/delegations.py). Handlers call services only and write their answers
with `answer` (ADR 0018)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from flowdesk.api import body
from flowdesk.api.answers import step_answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import StepOut, Strict
from flowdesk.services import delegate_task as delegating
from flowdesk.services.tickets import MAX_COMMENT

router = APIRouter(generate_unique_id_function=operation_id)


class DelegateIn(Strict):
    to: str = Field(
        description="The username of the active person who works the task and resolves it"
        " back to you",
        min_length=1,
        max_length=64,
    )
    comment: str = Field(default="", max_length=MAX_COMMENT, description="What to look at")


class ResolveIn(Strict):
    comment: str = Field(default="", max_length=MAX_COMMENT, description="What you found")
    opinion: Literal["approve", "reject"] | None = Field(
        default=None,
        description="Your advice to the task's owner; they decide (it is not a decision)",
    )


@router.post(
    "/tasks/{task_id}/delegate",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(DelegateIn),
    responses={409: {"description": DESCRIPTIONS[409]}},
)
async def delegate_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """委派: ask another person to work this open task; it comes back to you to decide.

    Only a holder of the task (403 `not_assignee`). Your task stays open but waits: while
    it is delegated, approving, rejecting, returning or transferring it is 409
    `task_delegated`. The delegate gets a task at the same step, notified
    (`task_delegated`), that they resolve (POST /tasks/{id}/resolve); the answer's
    `opened_task_ids` names it. An unknown person is 422 `unknown_user`, an inactive one
    422 `user_inactive`, yourself 422 `delegate_to_self`, the applicant 403
    `self_approval`; someone who already holds a task at this step 409 `already_approver`;
    a delegate delegating on 409 `delegated_task_resolve`."""
    data = await body.parse(request, DelegateIn)
    result = await run_in_threadpool(
        delegating.delegate,
        ctx,
        actor=actor,
        task_id=task_id,
        to=data.to,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tasks/{task_id}/resolve",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(ResolveIn),
    responses={409: {"description": DESCRIPTIONS[409]}},
)
async def resolve_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """委派: resolve a task delegated to you, with a comment and optionally your opinion.

    Your task closes as resolved (in your 已办) and the owner's task is theirs to decide
    again; they are notified (`task_resolved`). Approving or rejecting a delegated task is
    409 `delegated_task_resolve`; a task not delegated to you is 409 `task_not_delegated`;
    a task already resolved 409 `task_not_open`."""
    data = await body.parse(request, ResolveIn)
    result = await run_in_threadpool(
        delegating.resolve,
        ctx,
        actor=actor,
        task_id=task_id,
        comment=data.comment,
        opinion=data.opinion or "",
        locale=request_locale(request),
    )
    return step_answer(result)
