"""REST API v1: 退回 (return a task's ticket to the applicant or a passed step), the
targets a return may choose, and the applicant's 重新提交 (resubmit). Handlers call
services only and write their answers with `answer` (ADR 0018)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer, step_answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import StepOut, Strict
from flowdesk.services import task_returns
from flowdesk.services.tickets import MAX_COMMENT

router = APIRouter(generate_unique_id_function=operation_id)


class ReturnIn(Strict):
    target: str = Field(
        description="'applicant', or the id of a step the ticket passed: one of the targets"
        " GET /tasks/{task_id}/return-targets lists",
        min_length=1,
        max_length=64,
    )
    comment: str = Field(
        description=f"The reason, required: not empty or invisible only, at most {MAX_COMMENT}"
        " characters (422 at comment: required, too_long, invalid_characters)"
    )
    resubmit: Literal["rerun", "straight_back"] | None = Field(
        default=None,
        description="Only where the step lets the returner choose (returner_chooses): when the"
        " target is done, run every step in between again (rerun, the default) or come"
        " straight back to this step. Elsewhere the step's own setting applies and a"
        " different choice is 422 resubmit_fixed_by_node",
    )
    attachments: list[str] = Field(
        default=[],
        max_length=20,
        description="Ids from POST /attachments: the caller's own uploads, not yet attached"
        " (422 attachment_not_usable naming each other one); listed with the action in the"
        " timeline and downloadable by whoever may read the ticket",
    )


class ResubmitIn(Strict):
    values: dict[str, Any] | None = Field(
        default=None,
        description="Changes to the form's values (omitted: resubmit them as they are); the"
        " values after the changes are checked exactly like a new submission's, and each"
        " change is kept with its old and new value",
    )
    comment: str = Field(default="", max_length=MAX_COMMENT)


class ReturnTargetOut(BaseModel):
    target: str = Field(description="'applicant' or a step's node id, as POST /return takes it")
    name: dict[str, str] = Field(description="The target's name, en and zh")


class ReturnTargetsOut(BaseModel):
    task_id: str
    resubmit: str = Field(
        description="What happens when the target is done: rerun, straight_back, or"
        " returner_chooses (send `resubmit` with the return)"
    )
    returner_chooses: bool
    targets: list[ReturnTargetOut] = Field(
        description="The applicant first, then the passed steps in the order the ticket passed"
        " them; only the targets a return of this task is accepted for"
    )


@router.get(
    "/tasks/{task_id}/return-targets",
    response_model=ReturnTargetsOut,
    tags=["tasks"],
    responses={409: {"description": DESCRIPTIONS[409]}},
)
def list_return_targets(task_id: str, actor: CurrentActor, ctx: Ctx) -> Response:
    """Where the holder of this open task may return it (退回) and how the ticket then comes
    back. Only a holder of the task asks (403 `not_assignee`); a closed task is 409
    `task_not_open`, the applicant's own task 409 `ticket_returned`."""
    options = task_returns.return_options(ctx, actor, task_id)
    return answer(
        {
            "task_id": options.task_id,
            "resubmit": options.resubmit,
            "returner_chooses": options.returner_chooses,
            "targets": [{"target": t.target, "name": t.name} for t in options.targets],
        }
    )


@router.post(
    "/tasks/{task_id}/return",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(ReturnIn),
)
async def return_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """退回: send the ticket back to the applicant or to a step it passed, with a reason.

    Only a holder of the open task (403 `not_assignee`). The task closes as returned; every
    open task at or after the target is cancelled (both branches of a parallel split the
    target precedes). A target that is not a passed step is 422
    `return_target_not_passed`, the task's own step 422 `return_to_current_node`, one on
    another parallel branch 409 `return_across_branches`. A task someone already decided or
    returned is 409 `task_not_open`. The returned-to people are notified
    (`ticket_returned`)."""
    data = await body.parse(request, ReturnIn)
    result = await run_in_threadpool(
        task_returns.return_task,
        ctx,
        actor=actor,
        task_id=task_id,
        target=data.target,
        comment=data.comment,
        resubmit=data.resubmit,
        locale=request_locale(request),
        attachments=data.attachments,
    )
    return step_answer(result)


@router.post(
    "/tickets/{ticket_id}/resubmit",
    response_model=StepOut,
    tags=["tickets"],
    openapi_extra=body.openapi_body(ResubmitIn),
)
async def resubmit_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """重新提交: the applicant resubmits a ticket returned to them, optionally with changed
    values (422 naming each bad field, nothing written). Only the applicant (403
    `not_applicant`); a ticket not returned to its applicant is 409 `not_returned`, a
    finished one 409 `ticket_not_running`."""
    data = await body.parse(request, ResubmitIn)
    result = await run_in_threadpool(
        task_returns.resubmit,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        values=data.values,
        comment=data.comment,
        source="json",
        locale=request_locale(request),
    )
    return step_answer(result)
