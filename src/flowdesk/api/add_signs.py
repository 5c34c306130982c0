"""REST API v1: 加签 (add signers before, after or in parallel with a task's holder) and
减签 (remove pending added signers), ADR 0020. Handlers call services only and write
their answers with `answer` (ADR 0018)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from flowdesk.api import body
from flowdesk.api.answers import step_answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.schemas import StepOut, Strict
from flowdesk.engines.process.add_sign import MAX_SIGNERS
from flowdesk.services import add_signs
from flowdesk.services.tickets import MAX_COMMENT

router = APIRouter(generate_unique_id_function=operation_id)


class AddSignersIn(Strict):
    users: list[str] = Field(
        description=f"Usernames of active people to add, 1 to {MAX_SIGNERS} (422 at users:"
        " unknown_user, user_inactive, add_sign_self; 409 add_sign_already_holder for"
        " someone already deciding this step)",
        min_length=1,
        max_length=MAX_SIGNERS,
    )
    position: Literal["before", "after", "parallel"] = Field(
        description="before: they decide first, then the task is yours again; after: you"
        " approve now and it counts once they approved (their rejection rejects your task);"
        " parallel: they decide beside you, your approval counts once they approved too"
    )
    mode: Literal["any", "all", "sequential"] = Field(
        default="all",
        description="How the added people decide among themselves: any one of them, all of"
        " them, or all in the order given",
    )
    comment: str = Field(
        default="",
        max_length=MAX_COMMENT,
        description="Why (and, for after, your approval's comment)",
    )


class RemoveSignerIn(Strict):
    users: list[str] = Field(
        description="Usernames of pending added signers to remove (409 signer_not_pending for"
        " anyone else)",
        min_length=1,
        max_length=MAX_SIGNERS,
    )
    comment: str = Field(default="", max_length=MAX_COMMENT)


@router.post(
    "/tasks/{task_id}/add-signers",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(AddSignersIn),
)
async def add_signers(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """加签: add people who decide before, after or in parallel with you on this open task.

    Only a holder of the task (403 `not_assignee`). The added people get tasks at the same
    step and are notified (`task_assigned`); they never count among the step's own
    approvers. A task waiting behind added signers is 409 `waiting_for_added_signers`
    (for every action on it), one whose added signers are still deciding 409
    `add_sign_pending`; an added signer adding again beyond the configured depth is 409
    `add_sign_too_deep`; a closed task 409 `task_not_open`."""
    data = await body.parse(request, AddSignersIn)
    result = await run_in_threadpool(
        add_signs.add_signers,
        ctx,
        actor=actor,
        task_id=task_id,
        users=data.users,
        position=data.position,
        mode=data.mode,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tasks/{task_id}/remove-signer",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(RemoveSignerIn),
)
async def remove_signer(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """减签: remove pending people you added to this task. Their tasks are cancelled; when
    nobody is left the task is yours to decide again (before, parallel) or your held
    approval counts (after). Only who added them (403 `not_adder`); a task with no added
    signers is 409 `no_added_signers`."""
    data = await body.parse(request, RemoveSignerIn)
    result = await run_in_threadpool(
        add_signs.remove_signers,
        ctx,
        actor=actor,
        task_id=task_id,
        users=data.users,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)
