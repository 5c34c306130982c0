"""委派 (per-task delegation) through the services: the holder of an open task asks an
active colleague to work it, and the colleague *resolves* it back (ADR 0034, APPROVALS.md
edge case 29). Not 代理, the out-of-office substitute (services/delegations.py, ADR 0021).

Both run as every task action does (services/task_steps: read and refused once, raced on
the ticket's version, written as one step with its audit entry). The delegate is notified
(`task_delegated`) and finds the task in 待办 marked "delegated by" the owner; the owner is
notified when it comes back (`task_resolved`). The timeline says who delegated to whom
and why (`task_delegated`), and the delegate's comment and opinion (`task_resolved`); the
audit keeps `task.delegate` and `task.resolve` with the same.
"""

from __future__ import annotations

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.process import DelegateTask, ResolveTask, step
from flowdesk.engines.process.delegate_task import delegated_task
from flowdesk.kernel.errors import ErrorDetail, Forbidden, ValidationFailed
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
from flowdesk.store.steps import AuditRecord, StepWrite

DELEGATED_NOTICE = "task_delegated"  # to the delegate: a task delegated (委派) to you
RESOLVED_NOTICE = "task_resolved"  # to the owner: your delegated task is back
OPINIONS = ("", "approve", "reject")


def delegate(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    to: object,
    comment: str = "",
    locale: str = "en",
) -> StepOutcome:
    """委派 open task `task_id` to the active user named `to`, with an optional note."""
    if not isinstance(to, str) or not to.strip():
        raise ValidationFailed(
            "Choose the person to delegate the task to",
            [ErrorDetail("to", "required", "The person is required")],
            code="delegate_target_required",
        )
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(ctx, lambda conn: _delegate_once(ctx, conn, actor, task_id, to, comment))


def _delegate_once(
    ctx: ServiceContext, conn: Connection, actor: Actor, task_id: str, to: str, comment: str
) -> tuple[StepWrite, StepOutcome]:
    row, state = open_task_row(conn, actor, task_id)
    person = people.active(conn, to, "to")
    delegate_id = str(person.id)
    if delegate_id == row.requester_id:  # maker-checker: not even as a delegate
        raise Forbidden("The applicant cannot work on their own ticket", "self_approval")
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        state,
        DelegateTask(task_id, actor.user_id, delegate_id, comment, values=row.values),
        step_context(ctx, conn, app, row),
    )
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.delegate",
            details={
                "task": task_id,
                "node": row.node_id,
                "to": str(person.username),
                "reason": comment,
            },
        ),
        first_event=event(
            "task_delegated",
            actor_id=actor.user_id,
            node_id=row.node_id,
            task_id=task_id,
            comment=comment or None,
            data={"to": delegate_id},
        ),
    )
    for opened in write.events:
        if opened["kind"] == "task_opened":  # the delegate's task: whose it works on
            opened["data"]["delegated_by"] = actor.user_id
    for task_row in write.tasks:  # and its row, for 待办's mark
        task_row["delegated_by"] = actor.user_id
    for notice in write.notices:
        if notice["kind"] == "task_assigned":
            notice["kind"] = DELEGATED_NOTICE
    return write, outcome


def resolve(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    comment: str = "",
    opinion: object = "",
    locale: str = "en",
) -> StepOutcome:
    """The delegate resolves their task `task_id`: it goes back to its owner to decide."""
    if opinion is None:
        opinion = ""
    if not isinstance(opinion, str) or opinion not in OPINIONS:
        raise ValidationFailed(
            "opinion is approve, reject or empty",
            [ErrorDetail("opinion", "invalid_choice", "Choose approve or reject")],
            code="invalid_opinion",
        )
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(ctx, lambda conn: _resolve_once(ctx, conn, actor, task_id, comment, opinion))


def _resolve_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    task_id: str,
    comment: str,
    opinion: str,
) -> tuple[StepWrite, StepOutcome]:
    row, state = open_task_row(conn, actor, task_id)
    sign = delegated_task(state, task_id)
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        state,
        ResolveTask(task_id, actor.user_id, comment, opinion),  # type: ignore[arg-type]
        step_context(ctx, conn, app, row),
    )
    assert sign is not None  # the engine refused a task that is not delegated
    owner = org_store.user_by_id(conn, sign.by)
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.resolve",
            details={
                "task": task_id,
                "node": row.node_id,
                "owner": str(owner.username) if owner is not None else sign.by,
                "opinion": opinion or None,
                "reason": comment,
            },
        ),
    )
    for closed in write.events:
        if closed["kind"] == "task_resolved":
            closed["data"] = {"owner": sign.by, "opinion": opinion or None}
    write.notices.append({"user_id": sign.by, "kind": RESOLVED_NOTICE, "task_id": sign.parent})
    return write, outcome
