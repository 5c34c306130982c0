"""REST API v1 /admin/…: repairs of running tickets (ADR 0026): jump a ticket to a step,
reassign any open task, remove a pending 会签 approver, cancel a ticket, migrate tickets
to a newer version of their app.
Administrators and process admins only (403 `not_repair_admin`); each repair is audited
in its own step's transaction. Handlers call services only and write their answers with
`answer` (ADR 0018)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StringConstraints

from flowdesk.api import body
from flowdesk.api.answers import answer, step_answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import StepOut, Strict
from flowdesk.services import repairs
from flowdesk.services.tickets import MAX_COMMENT

router = APIRouter(prefix="/admin", tags=["admin"], generate_unique_id_function=operation_id)
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": DESCRIPTIONS[409]}}
NodeId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
TicketId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=64)]
REASON = "Why, for the timeline, the audit and the people whose tasks close"


class JumpIn(Strict):
    node: NodeId = Field(description="The user task to move the ticket to (its node id)")
    comment: str = Field(default="", max_length=MAX_COMMENT, description=REASON)
    open_tasks: list[TicketId] | None = Field(
        default=None,
        max_length=100,
        description="The open task ids you saw; the jump is refused (409 `ticket_changed`)"
        " when the ticket's open tasks are no longer these",
    )


class ReassignIn(Strict):
    to: list[Username] = Field(
        min_length=1,
        max_length=20,
        description="Usernames of the active people who hold the task instead",
    )
    comment: str = Field(default="", max_length=MAX_COMMENT, description=REASON)


class RemoveApproverIn(Strict):
    comment: str = Field(default="", max_length=MAX_COMMENT, description=REASON)


class AdminCancelIn(Strict):
    comment: str = Field(min_length=1, max_length=MAX_COMMENT, description=REASON)


class MigrateIn(Strict):
    ticket_ids: list[TicketId] = Field(
        min_length=1, max_length=repairs.MAX_MIGRATE, description="Running tickets of one app"
    )
    version: int = Field(ge=1, le=1_000_000, description="The app's newer published version")
    mapping: dict[NodeId, NodeId] = Field(
        max_length=500,
        description="{old node id: new node id}; every node holding a token in a selected "
        "ticket must map to a user task of the new version",
    )
    comment: str = Field(default="", max_length=MAX_COMMENT, description=REASON)


class LeftTicketOut(BaseModel):
    ticket_id: str
    code: str = Field(description="Why it stayed on its version (it changed since the check)")


class MigrationOut(BaseModel):
    version: int = Field(description="The version the tickets moved to")
    moved: list[str] = Field(description="The tickets migrated")
    left: list[LeftTicketOut] = Field(description="Tickets that changed after the check")


@router.post(
    "/tickets/{ticket_id}/jump",
    response_model=StepOut,
    openapi_extra=body.openapi_body(JumpIn),
    responses=_CONFLICT,
)
async def jump_ticket(ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Moves a running ticket to a user task of its version: every open task in every
    branch closes (reason `moved`, by you) and the target opens with its approvers
    resolved as usual (`opened_task_ids`). The timeline says "moved to X by admin Y".

    422 `unknown_node` (no such step), `not_user_task` (a gateway, the start or an end);
    409 `jump_into_parallel` (the target lies between a parallel split and its join: one
    token there would wait forever), `ticket_not_running`, `ticket_changed` (the open
    tasks are no longer `open_tasks`), `ticket_busy`; 422 `no_assignee` when nobody can be
    assigned at the target."""
    data = await body.parse(request, JumpIn)
    result = await run_in_threadpool(
        repairs.jump,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        node=data.node,
        comment=data.comment,
        open_tasks=data.open_tasks,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tasks/{task_id}/reassign",
    response_model=StepOut,
    openapi_extra=body.openapi_body(ReassignIn),
    responses=_CONFLICT,
)
async def reassign_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Gives an open task to other people (转交 by an admin, who need not hold it): the task
    closes (reason `reassigned`) and a new one opens at the same step for `to`, in the
    holders' place among the step's approvers (`opened_task_ids`).

    A task of a step with several approvers (会签, 或签, 依次, vote) goes to exactly one
    person (422 `one_assignee_only`), who must not approve at that step already (409
    `already_approver`). The applicant is never made an approver of their own ticket (403
    `self_approval`). 422 `unknown_user`, `user_inactive`, `assignees_unchanged`; 409
    `task_not_open`, `ticket_returned` (the applicant's own task), `task_in_add_sign`."""
    data = await body.parse(request, ReassignIn)
    result = await run_in_threadpool(
        repairs.reassign,
        ctx,
        actor=actor,
        task_id=task_id,
        to=data.to,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tasks/{task_id}/remove-approver",
    response_model=StepOut,
    openapi_extra=body.openapi_body(RemoveApproverIn),
    responses=_CONFLICT,
)
async def remove_approver(
    task_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """Removes the pending approver of an open task from its 会签 or vote (APPROVALS.md
    edge case 12, ADR 0041): the task closes (reason `approver_removed`) and a 会签 needs
    one approval fewer; when the approvals given are then enough, the step is decided
    as approved and the ticket goes on (`opened_task_ids`). A vote keeps its count (409
    `too_few_approvers` when it could no longer be reached). 409 `task_not_open`,
    `not_a_countersign` (single, 或签, 依次: jump or reassign), `task_in_add_sign`."""
    data = await body.parse(request, RemoveApproverIn)
    result = await run_in_threadpool(
        repairs.remove_approver,
        ctx,
        actor=actor,
        task_id=task_id,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tickets/{ticket_id}/cancel",
    response_model=StepOut,
    openapi_extra=body.openapi_body(AdminCancelIn),
    responses=_CONFLICT,
)
async def admin_cancel_ticket(
    ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> Response:
    """Ends a running ticket, as the applicant's 撤销 but by an admin, who must give the
    reason (`comment`, 422 `required` when blank): every open task is cancelled and the
    status is `cancelled`. The applicant and the holders of the cancelled tasks are
    notified (`ticket_cancelled`). A finished ticket 409 `ticket_not_running`."""
    data = await body.parse(request, AdminCancelIn)
    result = await run_in_threadpool(
        repairs.cancel,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        comment=data.comment,
        locale=request_locale(request),
    )
    return step_answer(result)


@router.post(
    "/tickets/migrate",
    response_model=MigrationOut,
    openapi_extra=body.openapi_body(MigrateIn),
    responses=_CONFLICT,
)
async def migrate_tickets(request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Moves running tickets of one app to its newer published `version`, with `mapping`.

    Checked first against every ticket, before anything changes: a 422
    `migration_invalid` lists every problem — paths `ticket_ids[i]` (`ticket_not_found`,
    `ticket_not_running`, `version_not_newer`, `field_removed`, `field_type_changed`,
    `option_removed`, `field_required`, `tokens_strand`, `no_assignee`) and
    `mapping.<old node>` (`node_not_mapped`, `unknown_node`, `not_user_task`,
    `tokens_merge`, `join_changed`); `several_apps`, `version_not_found`. Then each
    ticket moves in its own transaction: its open tasks close (reason `migrated`) and the
    mapped steps open in the new version; a ticket that changed since the check so the
    mapping no longer fits stays on its version, listed in `left`."""
    data = await body.parse(request, MigrateIn)
    result = await run_in_threadpool(
        repairs.migrate,
        ctx,
        actor=actor,
        ticket_ids=data.ticket_ids,
        version=data.version,
        mapping=data.mapping,
        comment=data.comment,
        locale=request_locale(request),
    )
    return answer(
        {
            "version": result.version,
            "moved": list(result.moved),
            "left": [{"ticket_id": t, "code": code} for t, code in result.left],
        }
    )
