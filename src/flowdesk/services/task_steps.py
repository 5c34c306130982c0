"""One command on a running ticket, as every task action runs it: the open task read and
refused the one way, the engine's result turned into rows, and the write raced.

Approvals, returns, resubmits and the actions that follow them (转交, 加签, 撤回 …) differ
only in the engine command they send and what they add to the audit; the rest is here.
Each attempt is one transaction; the ticket's version decides races, and an attempt that
lost one (another task of the same ticket moved first) is re-run on the fresh state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.engines.audit import mask_personal
from flowdesk.engines.forms import PERSONAL_TYPES, FieldChange, FieldType, mask_number
from flowdesk.engines.process import (
    ApprovalHeld,
    ChildCalled,
    ChildEnded,
    CopiesSent,
    ErrorThrown,
    InstanceFinished,
    InstanceState,
    MessageAwaited,
    MessageReceived,
    NodeDecided,
    NodePassed,
    NodeSkipped,
    StepResult,
    TaskClosed,
    TaskEscalated,
    TaskOpened,
    TimerFired,
    TimerSet,
    WaitCancelled,
    WebhookRequested,
    dump_state,
    load_state,
)
from flowdesk.engines.process.revoke import REVOKE_NAMES, recorded
from flowdesk.kernel.errors import Conflict, NotFound
from flowdesk.services import webhooks
from flowdesk.services.calendar import calendar_in
from flowdesk.services.context import ServiceContext
from flowdesk.services.delegations import ON_BEHALF, stand_ins
from flowdesk.services.process_context import StepContext
from flowdesk.services.registry import PublishedApp
from flowdesk.services.timer_due import DUE, Due, due_at
from flowdesk.store import calls as calls_store
from flowdesk.store import org as org_store
from flowdesk.store import steps as steps_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store import waits as waits_store
from flowdesk.store.steps import AuditRecord, SearchTerms, StepWrite
from flowdesk.store.tickets import TaskForStep

RACE_RETRIES = 5
CALL_CHECK = "flowdesk.call_check"
CALL_WAITS = "flowdesk.call_waits"
CALL_KEEP = "flowdesk.call_keep"  # the call wait a step resumes: its row is "received"
CallCheck = Callable[[str, str, dict[str, Any], int], None]


def check_call_inputs(
    ctx: ServiceContext,
    conn: Connection,
    node_id: str,
    app_key: str,
    values: dict[str, Any],
    version: int = 0,
) -> None:
    """A call activity's child values pass the called app's form (its current version, or
    the pinned `version`), or the parent's step fails with 422 `call_inputs_invalid`
    naming the node (no half-made child, ADR 0033). The called app must be published
    (`unknown_app`)."""
    from flowdesk.engines.forms import validate_submission
    from flowdesk.kernel.errors import ErrorDetail, FlowdeskError, ValidationFailed

    try:
        app, _generation = ctx.apps.called(conn, app_key, version)
    except NotFound as exc:
        raise ValidationFailed(
            f"'{node_id}' calls app '{app_key}'{f' version {version}' if version else ''}, "
            "which is not published",
            [ErrorDetail(f"call.{node_id}", "unknown_app", exc.message)],
            code="unknown_app",
        ) from exc
    try:
        validate_submission(app.spec.form, values, source="json")
    except FlowdeskError as exc:
        raise ValidationFailed(
            f"'{node_id}' cannot file a ticket of '{app_key}': {exc.message}",
            list(exc.errors),
            code="call_inputs_invalid",
        ) from exc


_FREE_TEXT = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL})


@dataclass(frozen=True)
class StepOutcome:
    ticket_id: str
    status: str
    opened_task_ids: tuple[str, ...]


Attempt = Callable[[Connection], tuple[StepWrite, StepOutcome]]


def raced(ctx: ServiceContext, attempt: Attempt) -> StepOutcome:
    """Runs `attempt` in a write transaction until its write wins the version check."""
    for _ in range(RACE_RETRIES):
        with ctx.db.write() as conn:
            write, outcome = attempt(conn)
            written = write_step(conn, write)
        if written.applied:  # on PostgreSQL known once the transaction has ended
            return outcome
    raise Conflict("The ticket is changing too fast; try again", "ticket_busy")


def open_task_row(
    conn: Connection, actor: Actor, task_id: str
) -> tuple[TaskForStep, InstanceState]:
    """The open task and its ticket's state, or the refusal every task action gives: 404
    for a task the actor may not see (ids reveal nothing), 409 for one already closed."""
    row = tickets_store.task_for_step(conn, task_id)
    state = load_state(row.ticket_state) if row is not None else None
    open_task = state.tasks.get(task_id) if state is not None else None
    is_assignee = open_task is not None and actor.user_id in open_task.assignees
    if row is None or not (is_assignee or may_read(actor, conn, row.ticket_id, row.requester_id)):
        raise NotFound("Task not found", "task_not_found")
    if row.state == "cancelled":
        # 或签 and votes: another approver's decision (or a rejection) closed it first.
        raise Conflict(
            "The task was closed: another approver already decided this step, "
            "or the ticket has ended",
            "task_not_open",
        )
    if row.state != "open":
        # Checked before the engine so the last task of a finished ticket says the same.
        raise Conflict("The task is no longer open", "task_not_open")
    assert state is not None
    return row, state


def step_context(
    ctx: ServiceContext, conn: Connection, app: PublishedApp, row: TaskForStep
) -> StepContext:
    return new_step_context(ctx, conn, app, row.requester_id, row.org_generation)


def new_step_context(
    ctx: ServiceContext, conn: Connection, app: PublishedApp, requester_id: str, generation: int
) -> StepContext:
    """The engine's Context for one step on `conn`: assignees cached per org generation,
    out-of-office stand-ins (代理) applied at the step's time."""
    step_ctx = StepContext(
        conn,
        app,
        requester_id,
        ctx.assignees.at(generation),
        stand_ins(ctx, conn, generation),
        ctx.clock.now(),
    )
    conn.info[ON_BEHALF] = step_ctx.on_behalf  # read back by write_step below
    conn.info[DUE] = partial(due_at, lambda: calendar_in(ctx, conn))  # timers (ADR 0023)
    conn.info[CALL_CHECK] = partial(check_call_inputs, ctx, conn)  # call activities (ADR 0033)
    if app.spec.process.calls():  # its steps may leave call waits behind (ADR 0033)
        conn.info[CALL_WAITS] = True
    return step_ctx


def write_step(conn: Connection, write: StepWrite) -> steps_store.StepWritten:
    """Writes the step, its opened tasks saying whom a delegate stands in for (代理: edge
    case 30, "B on behalf of A")."""
    due: Due | None = conn.info.pop(DUE, None)
    check_call: CallCheck | None = conn.info.pop(CALL_CHECK, None)
    for row in write.waits:
        if row["kind"] == "call":  # the child's values, checked by its form now (ADR 0033)
            values = row.pop("values", {})
            version = row.pop("version", 0)
            if check_call is not None:
                check_call(row["node_id"], row["name"], values, version)
        # a timer's due time, with the business calendar (ADR 0023)
        if row["kind"] == "timer" and "delay" in row:
            delay, at, working = row.pop("delay"), row.pop("at"), row.pop("working")
            if due is None:  # every step that can start a timer has a step context
                raise RuntimeError("a step started a timer without a step context")
            row["due_at"] = due(write.at, delay, at, working)
    on_behalf: dict[str, str] = conn.info.pop(ON_BEHALF, None) or {}
    if on_behalf:
        names = org_store.display_names(conn, on_behalf.values())  # as they were then
        for event in write.events:
            if event["kind"] == "task_opened":
                data = event["data"]
                standing = {d: on_behalf[d] for d in data["assignees"] if d in on_behalf}
                if standing:
                    data["on_behalf_of"] = standing
                    data["on_behalf_names"] = {p: names.get(p, p) for p in standing.values()}
    has_calls = conn.info.pop(CALL_WAITS, False)
    keep: list[str] = conn.info.pop(CALL_KEEP, [])
    written = steps_store.write_step(conn, write)
    for wait_id in write.cancel_waits:  # with the step: gated on its version check
        waits_store.finish_after_step(
            conn, written, wait_id, write.ticket_id, "cancelled", write.at
        )
    if has_calls and write.status == "running" and write.new_ticket is None:
        waits = write.state.get("waits")
        kept = [*(waits if isinstance(waits, dict) else {}), *keep]
        calls_store.stale_gone(conn, write.ticket_id, kept, write.at, written)
    return written


def task_step(
    app: PublishedApp,
    row: TaskForStep,
    result: StepResult,
    now: datetime,
    audit: AuditRecord,
    *,
    first_event: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    search: SearchTerms | None = None,
) -> tuple[StepWrite, StepOutcome]:
    """The write of a step on `row`'s ticket, at the version it read, and what it did.
    The audit's details gain the ticket's status after the step and the nodes it opened."""
    opened = opened_tasks(result)
    audit = AuditRecord(
        audit.actor,
        audit.action,
        {
            **audit.details,
            "status": result.state.status,
            "opened": opened_nodes(result),
        },
    )
    write = step_write(
        app,
        row.ticket_id,
        result,
        now,
        row.requester_id,
        first_event,
        audit,
        values=values,
        search=search,
        expected_version=row.version,
        status_before=row.ticket_status,
    )
    return write, StepOutcome(row.ticket_id, result.state.status, opened)


def value_changes(
    actor_id: str, row: TaskForStep, task_id: str, changes: tuple[FieldChange, ...]
) -> tuple[dict[str, Any] | None, list[str], list[dict[str, object]]]:
    """The timeline's `values_changed` event for `changes` (None: nothing changed), the
    changed fields and each change as the audit keeps it."""
    changed = [change.field for change in changes]
    recorded = [_recorded_change(change) for change in changes]
    if not changes:
        return None, changed, recorded
    first_event = event(
        "values_changed",
        actor_id=actor_id,
        node_id=row.node_id,
        task_id=task_id,
        data={"fields": changed, "changes": recorded},
    )
    return first_event, changed, recorded


def _recorded_change(change: FieldChange) -> dict[str, object]:
    """Old and new value as the timeline and the audit keep them: free text masked (an ID
    or phone number typed into it), numbers, dates and choices as stored."""

    def kept(value: object) -> object:
        if change.type is FieldType.TABLE and isinstance(value, list):
            # a sub-table's rows (ADR 0036): every text cell masked as free text is, so a
            # personal column's numbers never reach the timeline or the audit in full
            return [
                {k: mask_personal(v) if isinstance(v, str) else v for k, v in row.items()}
                if isinstance(row, dict)
                else row
                for row in value
            ]
        if isinstance(value, str) and change.type in _FREE_TEXT:
            return mask_personal(value)
        if isinstance(value, str) and change.type in PERSONAL_TYPES:
            return mask_number(change.type, value)
        return value

    return {"field": change.field, "old": kept(change.old), "new": kept(change.new)}


def step_write(
    app: PublishedApp,
    ticket_id: str,
    result: StepResult,
    now: datetime,
    requester_id: str,
    first_event: dict[str, Any] | None,
    audit: AuditRecord,
    *,
    values: dict[str, Any] | None,
    new_ticket: dict[str, Any] | None = None,
    expected_version: int = 0,
    status_before: str | None = None,
    search: SearchTerms | None = None,
) -> StepWrite:
    """Turns the engine's effects into task rows, timeline events and queued notices."""
    nodes = app.spec.process.nodes
    events: list[dict[str, Any]] = [first_event] if first_event else []
    task_rows: list[dict[str, Any]] = []
    assignee_rows: list[dict[str, Any]] = []
    closings: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    copies: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    waits: list[dict[str, Any]] = []
    cancelled_waits: list[str] = []
    for effect in result.effects:
        if isinstance(effect, TaskOpened):
            node = nodes.get(effect.node_id)  # None: the revocation round's (ADR 0042)
            task_rows.append(
                {
                    "id": effect.task_id,
                    "node_id": effect.node_id,
                    "name_en": node.label("en") if node else REVOKE_NAMES["en"],
                    "name_zh": node.label("zh") if node else REVOKE_NAMES["zh"],
                }
            )
            assignee_rows.extend(
                {"task_id": effect.task_id, "user_id": user_id} for user_id in effect.assignees
            )
            notices.extend(
                {"user_id": user_id, "kind": "task_assigned", "task_id": effect.task_id}
                for user_id in effect.assignees
            )
            events.append(
                event(
                    "task_opened",
                    node_id=effect.node_id,
                    task_id=effect.task_id,
                    data={"assignees": list(effect.assignees), "via": effect.via}
                    if effect.via  # the empty rule found them (fallback, leader, admin)
                    else {"assignees": list(effect.assignees)},
                )
            )
        elif isinstance(effect, TaskClosed):
            closings.append(
                {
                    "id": effect.task_id,
                    "state": effect.outcome,
                    "by": effect.actor,
                    "comment": effect.comment or None,
                }
            )
            events.append(
                event(
                    f"task_{effect.outcome}",
                    actor_id=effect.actor,
                    node_id=effect.node_id,
                    task_id=effect.task_id,
                    comment=effect.comment or None,
                    # a cancelled task: why, and whose decision closed it (not its action)
                    data={"reason": effect.reason, "decided_by": effect.decided_by}
                    if effect.reason
                    else None,
                )
            )
        elif isinstance(effect, NodeDecided):
            events.append(
                event(
                    "node_decided",
                    node_id=effect.node_id,
                    data={
                        "mode": effect.mode,
                        "outcome": effect.outcome,
                        "approved": effect.approved,
                        "rejected": effect.rejected,
                        "required": effect.required,
                        "approvers": effect.approvers,
                    },
                )
            )
        elif isinstance(effect, NodePassed):
            events.append(
                event("node_passed", node_id=effect.node_id, data={"type": effect.node_type})
            )
        elif isinstance(effect, NodeSkipped):  # decided by its condition, or nobody to ask
            skipped: dict[str, Any] = {
                "reason": effect.reason,
                "condition": effect.condition or None,
            }
            if effect.approvers:  # de-duplication: whose earlier approvals stand for it
                skipped["approvers"] = list(effect.approvers)
            events.append(event("node_skipped", node_id=effect.node_id, data=skipped))
        elif isinstance(effect, ApprovalHeld):  # 并加签: counts once the signers approved
            events.append(
                event(
                    "task_approval_held",
                    actor_id=effect.actor,
                    node_id=effect.node_id,
                    task_id=effect.task_id,
                    comment=effect.comment or None,
                )
            )
        elif isinstance(effect, CopiesSent):  # 抄送: readers copied, no task (none: skipped)
            copies.extend({"user_id": u, "node_id": effect.node_id} for u in effect.users)
            notices.extend(
                {"user_id": u, "kind": "ticket_copied", "task_id": None} for u in effect.users
            )
            events.append(
                event("copies_sent", node_id=effect.node_id, data={"users": list(effect.users)})
            )
        elif isinstance(effect, ErrorThrown):  # an error end's code, caught or not (ADR 0022)
            events.append(
                event(
                    "error_thrown",
                    node_id=effect.node_id,
                    data={"code": effect.code, "caught_by": effect.caught_by or None},
                )
            )
        elif isinstance(effect, WebhookRequested):  # a service task: its call leaves after commit
            job = webhooks.outbox_job(
                effect,
                ticket_id=ticket_id,
                version=1 if new_ticket is not None else expected_version + 1,
                position=len(outbox),
                app_key=app.spec.key,
                status=result.state.status,
            )
            outbox.append(job)
            events.append(
                event(
                    "webhook_queued",
                    node_id=effect.node_id,
                    data={"delivery": job["payload"]["key"]},
                )
            )
        elif isinstance(effect, TimerSet | MessageAwaited | TimerFired | TaskEscalated):
            _timer_effect(effect, result, waits, events, notices, assignee_rows)
        elif isinstance(effect, ChildCalled):  # a call activity: the worker files the child
            waits.append(
                {
                    "id": effect.wait_id,
                    "kind": "call",
                    "node_id": effect.node_id,
                    "activation_id": "",
                    "fire": 1,
                    "due_at": None,
                    "name": effect.app,
                    "key": effect.item,  # a multi-instance call's item (ADR 0035)
                    "values": dict(effect.values),
                    "version": effect.version,  # checked at the step, not stored
                }
            )
            events.append(
                event(
                    "child_called",
                    node_id=effect.node_id,
                    data={"app": effect.app, "wait_id": effect.wait_id},
                )
            )
        elif isinstance(effect, ChildEnded):
            events.append(
                event(
                    "child_ended",
                    node_id=effect.node_id,
                    data={"outcome": effect.outcome, "caught_by": effect.caught_by or None},
                )
            )
        elif isinstance(effect, WaitCancelled):  # an event-based gateway's loser (ADR 0035)
            cancelled_waits.append(effect.wait_id)
            events.append(
                event(
                    "wait_cancelled",
                    node_id=effect.node_id,
                    data={"by": effect.by, "wait_id": effect.wait_id},
                )
            )
        elif isinstance(effect, MessageReceived):
            events.append(
                event(
                    "message_received",
                    node_id=effect.node_id,
                    data={"name": effect.name, "key": effect.key},
                )
            )
        elif isinstance(effect, InstanceFinished):
            notices.append(
                {"user_id": requester_id, "kind": f"ticket_{effect.status}", "task_id": None}
            )
            events.append(event(f"ticket_{effect.status}"))
    kept_copies = [c for i, c in enumerate(copies) if c["user_id"] not in _earlier(copies, i)]
    decided_at_once = {c["id"] for c in closings if c["state"] == "approved"}
    if decided_at_once:  # de-duplicated tasks (ADR 0041): approved as opened, nothing to do
        notices = [
            n
            for n in notices
            if n["kind"] != "task_assigned" or n["task_id"] not in decided_at_once
        ]
    if copies:  # the audit names whom the step's CC nodes copied (抄送), node by node
        copied: dict[str, list[str]] = {}
        for c in copies:
            copied.setdefault(c["node_id"], []).append(c["user_id"])
        audit = AuditRecord(audit.actor, audit.action, {**audit.details, "copied": copied})
    return StepWrite(
        ticket_id=ticket_id,
        at=now,
        audit=audit,
        values=values,
        # 通过后撤销 (ADR 0042): the app's revoke setting is kept with the approved state
        state=dump_state(recorded(result.state, app.spec.withdraw.revoke_days, now)),
        status=result.state.status,
        status_changed=result.state.status != status_before,
        finished_at=now if result.state.status != "running" else None,
        tasks=task_rows,
        assignees=assignee_rows,
        closings=closings,
        events=events,
        notices=notices,
        copies=kept_copies,
        outbox=outbox,
        waits=waits,
        cancel_waits=cancelled_waits,
        drop_waits=app.spec.process.index.waits,
        new_ticket=new_ticket,
        expected_version=expected_version,
        search=search,
    )


REMINDER_NOTICE = "task_reminder"  # a timer reminds the holders of an open task (ADR 0023)
ESCALATED_NOTICE = "task_escalated"  # an escalation timer added you to a task


def _timer_effect(
    effect: TimerSet | MessageAwaited | TimerFired | TaskEscalated,
    result: StepResult,
    waits: list[dict[str, Any]],
    events: list[dict[str, Any]],
    notices: list[dict[str, Any]],
    assignee_rows: list[dict[str, Any]],
) -> None:
    """A timer's or message's effect as rows, timeline events and notices (ADR 0023). A
    timer's due time is computed by `write_step`, with the business calendar."""
    if isinstance(effect, TimerSet):
        waits.append(
            {
                "id": effect.timer_id,
                "kind": "timer",
                "node_id": effect.node_id,
                "activation_id": effect.activation_id,
                "fire": effect.fire,
                "due_at": None,
                "name": None,
                "key": None,
                "delay": effect.delay,
                "at": effect.at,
                "working": effect.working,
            }
        )
        # the timer's id in the timeline (hidden on the page): a replay hands it out again
        events.append(
            event(
                "timer_set",
                node_id=effect.node_id,
                data={"timer_id": effect.timer_id, "fire": effect.fire},
            )
        )
    elif isinstance(effect, MessageAwaited):
        waits.append(
            {
                "id": effect.wait_id,
                "kind": "message",
                "node_id": effect.node_id,
                "activation_id": effect.activation_id,  # a boundary message's (ADR 0035)
                "fire": 1,
                "due_at": None,
                "name": effect.name,
                "key": effect.key,
            }
        )
        events.append(
            event(
                "message_awaited",
                node_id=effect.node_id,
                data={"name": effect.name, "key": effect.key, "wait_id": effect.wait_id},
            )
        )
    elif isinstance(effect, TimerFired):
        events.append(
            event(
                "timer_fired",
                node_id=effect.node_id,  # the timer's own node; `attached` its task's
                data={
                    "timer": effect.node_id,
                    "attached": effect.attached or None,
                    "action": effect.action,
                    "fire": effect.fire,
                    "held": effect.held or None,
                    "notified": list(effect.notify) or None,
                },
            )
        )
        tasks = result.state.tasks.values()
        for person in effect.notify:
            task_id = next((t.task_id for t in tasks if person in t.assignees), None)
            notices.append({"user_id": person, "kind": REMINDER_NOTICE, "task_id": task_id})
    else:
        assignee_rows.extend({"task_id": effect.task_id, "user_id": u} for u in effect.added)
        notices.extend(
            {"user_id": u, "kind": ESCALATED_NOTICE, "task_id": effect.task_id}
            for u in effect.added
        )
        events.append(
            event(
                "task_escalated",
                node_id=effect.node_id,
                task_id=effect.task_id,
                data={"added": list(effect.added)},
            )
        )


def _earlier(copies: list[dict[str, Any]], i: int) -> set[str]:
    """The people copied before the i-th copy of a step (two CC nodes naming one person
    leave one row, the first)."""
    return {c["user_id"] for c in copies[:i]}


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """A timeline event; fields left out (or None) read back as null."""
    return {"kind": kind, **{k: v for k, v in fields.items() if v is not None}}


def opened_tasks(result: StepResult) -> tuple[str, ...]:
    return tuple(e.task_id for e in result.effects if isinstance(e, TaskOpened))


def _node_of(result: StepResult, task_id: str) -> str:
    for effect in result.effects:
        if isinstance(effect, TaskOpened) and effect.task_id == task_id:
            return effect.node_id
    return ""


def opened_nodes(result: StepResult) -> list[str]:
    """The nodes of the tasks the step opened, in order (for a submit's audit)."""
    return [_node_of(result, task_id) for task_id in opened_tasks(result)]


def may_read(actor: Actor, conn: Connection, ticket_id: str, requester_id: str) -> bool:
    facts = ResourceFacts(
        requester_id=requester_id,
        participant_ids=tickets_store.participant_ids(conn, ticket_id),
    )
    return bool(decide(actor, "ticket.read", facts))
