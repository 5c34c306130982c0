"""REST API v1: 撤回 and 撤销 (ADR 0019): the applicant's withdraw and cancel of a ticket,
and an approver's withdraw of their own approval. Handlers call services only and write
their answers with `answer` (ADR 0018)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from flowdesk.api import body
from flowdesk.api.answers import step_answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import StepOut, Strict
from flowdesk.services import revocations, withdrawals
from flowdesk.services.tickets import MAX_COMMENT

router = APIRouter(generate_unique_id_function=operation_id)
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": DESCRIPTIONS[409]}}


class WithdrawIn(Strict):
    comment: str = Field(
        default="",
        max_length=MAX_COMMENT,
        description="Why, for the timeline and the people whose tasks are cancelled",
    )


@router.post(
    "/tickets/{ticket_id}/withdraw",
    response_model=StepOut,
    tags=["tickets"],
    openapi_extra=body.openapi_body(WithdrawIn),
    responses=_CONFLICT,
)
async def withdraw_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """撤回: the applicant takes the ticket back while nobody has acted on it since it was
    (re)submitted. Every open task is cancelled and the ticket rests with the applicant,
    as after a return to them: resubmit it (POST /tickets/{id}/resubmit) or cancel it.

    Only the applicant (403 `not_applicant`). Once an approver acted (approved, rejected,
    returned, transferred, even one of several countersigners) 409 `already_processed`;
    a ticket already with its applicant 409 `ticket_returned`, a finished one 409
    `ticket_not_running`; an app that does not allow it 409 `withdraw_not_allowed`. The
    holders of the cancelled tasks are notified (`ticket_withdrawn`)."""
    data = await body.parse(request, WithdrawIn)
    result = await run_in_threadpool(
        withdrawals.withdraw_ticket,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tickets/{ticket_id}/cancel",
    response_model=StepOut,
    tags=["tickets"],
    openapi_extra=body.openapi_body(WithdrawIn),
    responses=_CONFLICT,
)
async def cancel_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """撤销: the applicant ends the running ticket; every open task in every branch is
    cancelled and the ticket's status is `cancelled` (final).

    Only the applicant (403 `not_applicant`); a finished ticket 409 `ticket_not_running`
    (an approved ticket is revoked with POST /tickets/{id}/revoke); an app that does not
    allow it 409 `cancel_not_allowed`. The holders of the cancelled tasks are notified
    (`ticket_cancelled`)."""
    data = await body.parse(request, WithdrawIn)
    result = await run_in_threadpool(
        withdrawals.cancel_ticket,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tasks/{task_id}/retract",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(WithdrawIn),
    responses=_CONFLICT,
)
async def retract_approval(
    task_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """撤回 by an approver: take back your approval of this task (your last one) while
    nothing after it was acted on. The tasks it opened are cancelled (their holders are
    notified, `ticket_withdrawn`) and you get a new task at the same step, named in
    `opened_task_ids`; at a 会签 still deciding only your approval is removed.

    Only who approved it (403 `not_decider`); a task that was not approved 409
    `not_approved`; once anything after it was acted on, or it is not your last
    approval, 409 `already_processed`; an approval that completed a parallel join 409
    `decision_completed_join`; a step that does not allow it 409 `withdraw_not_allowed`;
    a finished ticket 409 `ticket_not_running`."""
    data = await body.parse(request, WithdrawIn)
    result = await run_in_threadpool(
        withdrawals.retract_decision,
        ctx,
        actor=actor,
        task_id=task_id,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


class RevokeIn(Strict):
    reason: str = Field(
        default="",
        max_length=MAX_COMMENT,
        description="Why the applicant revokes the approved ticket, for the timeline and "
        "the approvers asked to agree",
    )


@router.post(
    "/tickets/{ticket_id}/revoke",
    response_model=StepOut,
    tags=["tickets"],
    openapi_extra=body.openapi_body(RevokeIn),
    responses=_CONFLICT,
)
async def revoke_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """通过后撤销 (ADR 0042): the applicant asks to revoke their approved ticket. It runs
    again (status `running`) with one revocation task for each person who approved it;
    they approve or reject it with POST /tasks/{id}/approve and /reject. All approve: the
    ticket's status is `revoked` (final); one rejects: it is `approved` again as it was.

    Only the applicant (403 `not_applicant`); 409 `ticket_not_approved` unless the ticket
    is approved, `revoke_off` when the app's `withdraw.revoke_days` was 0 when the ticket
    was approved, `revoke_window_passed` after that many days."""
    data = await body.parse(request, RevokeIn)
    result = await run_in_threadpool(
        revocations.revoke_ticket,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        comment=data.reason,
        locale=request_locale(request),
    )
    return step_answer(result)
