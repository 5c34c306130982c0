"""转交 (transfer) and the hand-over of a person's open tasks, through the services.

A holder of an open task hands it to another active person (the engine's TransferTask):
the task closes as transferred, the new holder gets a fresh task at the same step and
is notified, and the timeline and the audit say from whom, to whom and why. A hand-over
is the same step run for every open task a person holds, by an administrator, when the
person leaves or moves (and when they are deactivated): to the person chosen, by default
their manager (seed 003: a leaver's work goes to their direct manager). Each ticket is
its own step and transaction, raced like approvals; a task that cannot go to the chosen
person (they already are an approver at that step) is left where it is and reported,
never silently dropped. The running tickets the person filed go to the same person as
their new owner (ADR 0034), each its own step too, reported the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.process import ChangeApplicant, TransferTask, load_state, step
from flowdesk.kernel.errors import (
    Conflict,
    ErrorDetail,
    FlowdeskError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.services import people
from flowdesk.services.context import ServiceContext
from flowdesk.services.task_steps import (
    StepOutcome,
    event,
    open_task_row,
    raced,
    step_context,
    task_step,
)
from flowdesk.services.tickets import MAX_COMMENT
from flowdesk.store import org as org_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.steps import AuditRecord, StepWrite

TRANSFERRED_NOTICE = "task_transferred"  # to the new holder: a task handed to you
OWNED_NOTICE = "ticket_handed_over"  # to the new owner: a leaver's ticket is yours now
MAX_HANDOVER_TASKS = 10_000  # one hand-over's bound; a person holding more is handed over again


@dataclass(frozen=True)
class Recipient:
    user_id: str
    username: str


@dataclass(frozen=True)
class HandOver:
    """What a hand-over did: the tasks moved, and those left with a reason each."""

    from_username: str
    to_username: str
    moved: tuple[str, ...]  # task ids closed as transferred
    left: tuple[tuple[str, str], ...]  # (task id, error code)
    # the running tickets they filed, now the new owner's, and those that stayed (ADR 0034)
    tickets_moved: tuple[str, ...] = ()
    tickets_left: tuple[tuple[str, str], ...] = ()


def _recipient(conn: Connection, username: object, field: str = "to") -> Recipient:
    """The active person `username` names, or a 422 naming the field."""
    if not isinstance(username, str) or not username.strip():
        raise ValidationFailed(
            "Choose the person to hand the task to",
            [ErrorDetail(field, "required", "The person is required")],
            code="transfer_target_required",
        )
    row = people.active(conn, username, field)
    return Recipient(str(row.id), str(row.username))


def transfer(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    to: str,
    comment: str = "",
    locale: str = "en",
) -> StepOutcome:
    """转交 open task `task_id` to the active user named `to`, with an optional note."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(
        ctx,
        lambda conn: _transfer_once(
            ctx, conn, actor, actor.user_id, task_id, _recipient(conn, to), comment, False
        ),
    )


def _transfer_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    holder_id: str,
    task_id: str,
    to: Recipient,
    comment: str,
    by_admin: bool,
) -> tuple[StepWrite, StepOutcome]:
    """One transfer of `holder_id`'s task: by its holder (`actor`), or `by_admin` in a
    hand-over (then `actor` is the administrator and the holder is not asked)."""
    if not by_admin:
        row, state = open_task_row(conn, actor, task_id)
    else:
        found = tickets_store.task_for_step(conn, task_id)
        if found is None or found.state != "open":
            raise Conflict("The task is no longer open", "task_not_open")
        row, state = found, load_state(found.ticket_state)
    if to.user_id == row.requester_id:
        raise Forbidden("The applicant cannot decide their own ticket", "self_approval")
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        state,
        TransferTask(task_id, holder_id, to.user_id, comment),
        step_context(ctx, conn, app, row),
    )
    details: dict[str, object] = {"task": task_id, "node": row.node_id, "to": to.username}
    if by_admin:
        details["hand_over"] = True
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.hand_over" if by_admin else "task.transfer",
            details=details,
        ),
    )
    for entry in write.events:
        if entry["kind"] == "task_transferred":  # to whom, for the timeline
            entry["data"] = {"to": to.user_id}
            if by_admin:  # the administrator, named as they were then
                entry["data"] |= {"by": actor.user_id, "by_name": actor.display_name}
    for notice in write.notices:
        if notice["kind"] == "task_assigned":
            notice["kind"] = TRANSFERRED_NOTICE
    return write, outcome


def _handing(
    ctx: ServiceContext,
    actor: Actor,
    holder_id: str,
    task_id: str,
    to: Recipient,
    comment: str,
) -> Callable[[Connection], tuple[StepWrite, StepOutcome]]:
    return lambda conn: _transfer_once(ctx, conn, actor, holder_id, task_id, to, comment, True)


def hand_over(
    ctx: ServiceContext,
    *,
    actor: Actor,
    username: str,
    to: str | None = None,
    comment: str = "",
    locale: str = "en",
) -> HandOver:
    """Moves every open task `username` holds, and every running ticket they filed, to
    `to` (default: their manager). Only those who manage the org chart; each task and
    ticket is its own step, so one that cannot move (its new holder already approves at
    that step, it is the applicant's own returned ticket, the new owner decides a step of
    it) stays and is listed with the reason."""
    if not decide(actor, "user.manage"):
        raise Forbidden("Only administrators hand over another person's tasks", "not_admin")
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    with ctx.db.read() as conn:
        person = org_store.user_by_username(conn, str(username).strip().lower()[:64])
        if person is None:
            raise NotFound(f"No user {str(username)[:64]}", "user_not_found")
        if to is None:
            to = _manager(conn, person)
            if to is None:
                raise ValidationFailed(
                    f"'{person.username}' has no active manager; choose who takes the tasks",
                    [ErrorDetail("to", "no_manager", "No active manager to hand over to")],
                    code="no_handover_target",
                )
        recipient = _recipient(conn, to)
    if recipient.user_id == person.id:
        raise ValidationFailed(
            "Hand the tasks to someone else",
            [ErrorDetail("to", "transfer_to_self", "The same person")],
            code="transfer_to_self",
        )
    return _hand_over(ctx, actor, str(person.id), str(person.username), recipient, comment)


def hand_over_leaver(ctx: ServiceContext, actor: Actor | None, username: str) -> HandOver | None:
    """A deactivated person's open tasks go to their manager; without an active manager
    they stay (listed on the person's admin page) for an administrator to hand over.
    `actor` None: the command line or the nightly org import."""
    with ctx.db.read() as conn:
        person = org_store.user_by_username(conn, username)
        to = _manager(conn, person) if person is not None else None
        if person is None or to is None:
            return None
        recipient = _recipient(conn, to)
    return _hand_over(ctx, actor or _SYSTEM, str(person.id), str(person.username), recipient, "")


_SYSTEM = Actor(user_id="", username="system", display_name="system", is_admin=True)


def _manager(conn: Connection, person: Any) -> str | None:
    manager = org_store.user_by_id(conn, person.manager_id) if person.manager_id else None
    return str(manager.username) if manager is not None and manager.is_active else None


def _hand_over(
    ctx: ServiceContext,
    actor: Actor,
    holder_id: str,
    holder_name: str,
    to: Recipient,
    comment: str,
) -> HandOver:
    with ctx.db.read() as conn:
        task_ids = [
            str(row.id)
            for row in tickets_store.open_tasks_for_user(conn, holder_id, limit=MAX_HANDOVER_TASKS)
        ]
    moved: list[str] = []
    left: list[tuple[str, str]] = []
    for task_id in task_ids:
        try:
            raced(ctx, _handing(ctx, actor, holder_id, task_id, to, comment))
        except FlowdeskError as error:
            left.append((task_id, error.code))
        else:
            moved.append(task_id)
    owned_moved, owned_left = _hand_over_owned(ctx, actor, holder_id, to, comment)
    return HandOver(holder_name, to.username, tuple(moved), tuple(left), owned_moved, owned_left)


def _hand_over_owned(
    ctx: ServiceContext, actor: Actor, owner_id: str, to: Recipient, comment: str
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The running tickets `owner_id` filed go to `to`, each its own step: the new owner
    withdraws, resubmits, cancels and urges them from now on. One whose step `to`
    decides stays (maker-checker, 403 `self_approval`) and is reported."""
    with ctx.db.read() as conn:
        ticket_ids = tickets_store.running_tickets_of(conn, owner_id, limit=MAX_HANDOVER_TASKS)
    moved: list[str] = []
    left: list[tuple[str, str]] = []
    for ticket_id in ticket_ids:
        try:
            raced(ctx, _owning(ctx, actor, owner_id, ticket_id, to, comment))
        except FlowdeskError as error:
            left.append((ticket_id, error.code))
        else:
            moved.append(ticket_id)
    return tuple(moved), tuple(left)


def _owning(
    ctx: ServiceContext,
    actor: Actor,
    owner_id: str,
    ticket_id: str,
    to: Recipient,
    comment: str,
) -> Callable[[Connection], tuple[StepWrite, StepOutcome]]:
    return lambda conn: _own_once(ctx, conn, actor, owner_id, ticket_id, to, comment)


def _own_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    owner_id: str,
    ticket_id: str,
    to: Recipient,
    comment: str,
) -> tuple[StepWrite, StepOutcome]:
    row = tickets_store.ticket_for_step(conn, ticket_id)
    if row is None or row.requester_id != owner_id or row.ticket_status != "running":
        raise Conflict("The ticket is no longer theirs or no longer running", "ticket_moved")
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        load_state(row.ticket_state),
        ChangeApplicant(to.user_id),
        step_context(ctx, conn, app, row),
    )
    owner = org_store.user_by_id(conn, owner_id)
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="ticket.hand_over",
            details={
                "from": str(owner.username) if owner is not None else owner_id,
                "to": to.username,
                "reason": comment,
            },
        ),
        first_event=event(
            "ticket_owner_changed",
            actor_id=actor.user_id or None,
            comment=comment or None,
            data={"from": owner_id, "to": to.user_id, "by_name": actor.display_name},
        ),
    )
    write.requester_id = to.user_id
    for notice in write.notices:
        if notice["kind"] == "task_assigned":  # their task at the start, if it rests there
            notice["kind"] = TRANSFERRED_NOTICE
    write.notices.append({"user_id": to.user_id, "kind": OWNED_NOTICE, "task_id": None})
    return write, outcome


def open_task_count(ctx: ServiceContext, actor: Actor, username: str) -> int:
    """How many open tasks `username` holds (the admin user page's hand-over card)."""
    if not decide(actor, "user.manage"):
        raise Forbidden("Only administrators see another person's open tasks", "not_admin")
    with ctx.db.read() as conn:
        person = org_store.user_by_username(conn, username)
        return 0 if person is None else tickets_store.count_open_tasks(conn, str(person.id))
