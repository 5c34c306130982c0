"""撤回 and 撤销 through the services (ADR 0019): the applicant's withdraw (the ticket back
to them while nobody has acted on it) and cancel (the ticket ends, status cancelled), and
an approver's withdraw of their own last approval.

Each is the engine's command (Withdraw, CancelInstance, RetractDecision) run as one step
through services/task_steps: one transaction, raced on the ticket's version, so a
withdraw racing an approval of the next step has exactly one winner and the other gets a
409 (`task_not_open` for the approval, `already_processed` for the withdraw). The app's
`withdraw` setting (AppSpec.withdraw) switches the applicant's two actions off, a step's
`withdraw: false` the approvers'. The people whose open tasks were cancelled are notified
(`ticket_withdrawn` / `ticket_cancelled`); the applicant's own action does not notify the
applicant. Every action is in the timeline (who, when, why) and the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.process import (
    CancelInstance,
    InstanceState,
    RetractDecision,
    StepResult,
    TaskClosed,
    Withdraw,
    load_state,
    step,
)
from flowdesk.engines.process.withdraw import at_applicant, retractable, untouched
from flowdesk.kernel.errors import Conflict, FlowdeskError, Forbidden, NotFound
from flowdesk.services import views
from flowdesk.services.context import ServiceContext
from flowdesk.services.registry import PublishedApp
from flowdesk.services.task_steps import (
    StepOutcome,
    event,
    may_read,
    raced,
    step_context,
    task_step,
)
from flowdesk.services.tickets import MAX_COMMENT
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import read_document
from flowdesk.store.steps import AuditRecord, StepWrite
from flowdesk.store.tickets import TaskForStep

WITHDRAWN_NOTICE = "ticket_withdrawn"  # to the holders of the tasks a withdraw cancelled
CANCELLED_NOTICE = "ticket_cancelled"  # to the holders of the tasks a cancel cancelled
Action = Literal["withdraw", "cancel"]


@dataclass(frozen=True)
class WithdrawOptions:
    """What `actor` may do on a ticket now: the applicant's withdraw and cancel, and the
    approver's task whose approval they may withdraw (None: none)."""

    withdraw: bool
    cancel: bool
    retract_task_id: str | None
    withdrawn: bool = False  # it rests with its applicant by their own withdraw, not a return


def options(actor: Actor, view: views.TicketView) -> WithdrawOptions:
    """The buttons the ticket page offers, from the ticket as the page read it (no second
    read); each action still checks everything itself."""
    if view.status != "running" or view.published is None or view.state is None:
        return WithdrawOptions(False, False, None, False)
    app = view.published
    state = load_state(read_document(view.state))
    process = app.spec.process
    applicant = view.requester.id == actor.user_id
    settings = app.spec.withdraw
    decision = state.decisions.get(actor.user_id)
    retract = None
    if (
        decision is not None
        and not decision.blocked
        and process.nodes[decision.activation.node_id].withdraw
        and retractable(state, decision)
    ):
        retract = decision.task_id
    return WithdrawOptions(
        withdraw=applicant
        and settings.applicant
        and untouched(state)
        and not at_applicant(process, state),
        cancel=applicant and settings.cancel,
        retract_task_id=retract,
        withdrawn=applicant
        and any(
            a.node_id == process.index.start.id and not a.returned_from
            for a in state.activations.values()
        ),
    )


def withdraw_ticket(
    ctx: ServiceContext, *, actor: Actor, ticket_id: str, comment: str = "", locale: str = "en"
) -> StepOutcome:
    """撤回: the applicant takes the ticket back while nobody has acted on it since it was
    (re)submitted; it rests with them to edit and resubmit (task_returns.resubmit), or to
    cancel."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(
        ctx, lambda conn: _applicant_once(ctx, conn, actor, ticket_id, comment, "withdraw")
    )


def cancel_ticket(
    ctx: ServiceContext, *, actor: Actor, ticket_id: str, comment: str = "", locale: str = "en"
) -> StepOutcome:
    """撤销: the applicant ends the running ticket; every open task is cancelled and the
    ticket's status is cancelled. An approved ticket is revoked by revocations.py."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(ctx, lambda conn: _applicant_once(ctx, conn, actor, ticket_id, comment, "cancel"))


def retract_decision(
    ctx: ServiceContext, *, actor: Actor, task_id: str, comment: str = "", locale: str = "en"
) -> StepOutcome:
    """撤回 by an approver: take back the approval of `task_id` (their last one) while
    nothing after it was acted on; the tasks it opened are cancelled and their task
    reopens (a new task)."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(ctx, lambda conn: _retract_once(ctx, conn, actor, task_id, comment))


def _ticket_row(
    ctx: ServiceContext, conn: Connection, actor: Actor, ticket_id: str
) -> tuple[TaskForStep, InstanceState, PublishedApp]:
    """The ticket as a step reads it (through one of its open tasks), or the refusal: 404
    for a ticket the actor may not see, 403 for anyone but its applicant, 409 finished."""
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    if ticket is None or not may_read(actor, conn, ticket.id, ticket.requester_id):
        raise NotFound("Ticket not found", "ticket_not_found")
    if ticket.requester_id != actor.user_id:
        raise Forbidden("Only the applicant can withdraw or cancel the ticket", "not_applicant")
    row = _open_row(conn, ticket_id) if ticket.status == "running" else None
    if row is None:
        raise Conflict("The ticket has finished; it cannot be withdrawn", "ticket_not_running")
    return row, load_state(row.ticket_state), ctx.apps.version(conn, row.app_version_id)


def _open_row(conn: Connection, ticket_id: str) -> TaskForStep | None:
    """The ticket and its state as a step reads them, through one of its open tasks (a
    running ticket always has one)."""
    for task in tickets_store.tasks_of_ticket(conn, ticket_id):
        if task.state == "open":
            return tickets_store.task_for_step(conn, task.id)
    # a ticket whose tokens all wait at timer or message events has no open task (ADR 0023)
    return tickets_store.ticket_for_step(conn, ticket_id)


def _applicant_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    ticket_id: str,
    comment: str,
    action: Action,
) -> tuple[StepWrite, StepOutcome]:
    row, state, app = _ticket_row(ctx, conn, actor, ticket_id)
    settings = app.spec.withdraw
    if not (settings.applicant if action == "withdraw" else settings.cancel):
        raise Conflict(
            f"This app does not let the applicant {action} a ticket", f"{action}_not_allowed"
        )
    command = Withdraw(actor.user_id) if action == "withdraw" else CancelInstance(actor.user_id)
    result = step(app.spec.process, state, command, step_context(ctx, conn, app, row))
    kind = "ticket_withdrawn" if action == "withdraw" else "ticket_cancelled"
    cancelled = _cancelled(result)
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action=f"ticket.{action}",
            details={"ticket": ticket_id, "cancelled": [c.node_id for c in cancelled]},
        ),
        first_event=event(kind, actor_id=actor.user_id, comment=comment or None)
        if action == "withdraw"
        else None,
    )
    for entry in write.events:
        if entry["kind"] == "ticket_cancelled":  # the outcome says who cancelled and why
            entry["actor_id"] = actor.user_id
            if comment:
                entry["comment"] = comment
    _notify(conn, write, cancelled, actor, kind)
    return write, outcome


def _retract_once(
    ctx: ServiceContext, conn: Connection, actor: Actor, task_id: str, comment: str
) -> tuple[StepWrite, StepOutcome]:
    row = tickets_store.task_for_step(conn, task_id)
    if row is None or not may_read(actor, conn, row.ticket_id, row.requester_id):
        raise NotFound("Task not found", "task_not_found")
    if row.state != "approved":
        raise Conflict("Only an approval can be withdrawn", "not_approved")
    task = next(t for t in tickets_store.tasks_of_ticket(conn, row.ticket_id) if t.id == task_id)
    if task.completed_by != actor.user_id:
        raise Forbidden("Only the approver withdraws their own approval", "not_decider")
    if row.ticket_status != "running":
        raise Conflict("The ticket has finished; the approval stands", "ticket_not_running")
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        load_state(row.ticket_state),
        RetractDecision(task_id, actor.user_id),
        step_context(ctx, conn, app, row),
    )
    cancelled = _cancelled(result)
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.withdraw",
            details={
                "task": task_id,
                "node": row.node_id,
                "cancelled": [c.node_id for c in cancelled],
            },
        ),
        first_event=event(
            "decision_withdrawn",
            actor_id=actor.user_id,
            node_id=row.node_id,
            task_id=task_id,
            comment=comment or None,
        ),
    )
    _notify(conn, write, cancelled, actor, WITHDRAWN_NOTICE)
    return write, outcome


def _cancelled(result: StepResult) -> list[TaskClosed]:
    return [
        e
        for e in result.effects
        if isinstance(e, TaskClosed) and e.reason in ("withdrawn", "cancelled")
    ]


def _notify(
    conn: Connection, write: StepWrite, cancelled: list[TaskClosed], actor: Actor, kind: str
) -> None:
    """The holders of the cancelled tasks hear why; the actor never hears of their own
    action (the applicant's ticket_cancelled outcome notice is dropped for that reason)."""
    holders = tickets_store.assignees_of(conn, [c.task_id for c in cancelled])
    notices: list[dict[str, Any]] = [
        n for n in write.notices if not (n["user_id"] == actor.user_id and n["task_id"] is None)
    ]
    seen: set[str] = set()
    for closed in cancelled:
        for user_id in holders.get(closed.task_id, ()):
            if user_id != actor.user_id and user_id not in seen:
                seen.add(user_id)
                notices.append({"user_id": user_id, "kind": kind, "task_id": closed.task_id})
    write.notices[:] = notices


def refusal(exc: FlowdeskError) -> str:
    """The stable code a page shows its text for."""
    return exc.errors[0].code if exc.errors else exc.code
