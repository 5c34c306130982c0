"""Firing timers (ADR 0023): the worker's side of boundary timers and timer catch events.

Each due timer fires in a transaction of its own, as any step does: its row is locked
first (a second worker waits, then finds it fired), the engine's FireTimer runs on the
ticket's state, and the step's write and the row's change commit together. A timer whose
task or wait is over is stale: its row says so and nothing else changes. A step that lost
its version check to a person deciding the same task at that moment is run again on the
fresh state, where the timer is stale (the person won) or the person's action is refused
with 409 (the timer won). A timer overdue after downtime fires once, and the timeline
says it was late; a repeating one records how many fires it missed and goes on from now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flowdesk.engines.process import FireTimer, load_state, parse_delay, step
from flowdesk.engines.process.timer_task import times_out_alone
from flowdesk.kernel.errors import Conflict, FlowdeskError
from flowdesk.kernel.ids import new_id
from flowdesk.services.context import ServiceContext
from flowdesk.services.task_steps import RACE_RETRIES, new_step_context, task_step, write_step
from flowdesk.store import ticket_notes as notes_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store import waits as waits_store
from flowdesk.store.steps import AuditRecord

log = logging.getLogger(__name__)

SYSTEM = "system"  # the audit's actor of what no person did
LATE = timedelta(minutes=1)  # a fire this much after its due time was late (downtime)
BATCH = 50


@dataclass
class FireStats:
    fired: int = 0
    stale: int = 0
    failed: int = 0


def fire_due(ctx: ServiceContext, *, batch: int = BATCH) -> FireStats:
    """Fires the timers due now, oldest first, each in its own transaction."""
    stats = FireStats()
    with ctx.db.read(snapshot=False) as conn:
        due = waits_store.due_timers(conn, ctx.clock.now(), batch)
    for wait_id in due:
        try:
            outcome = fire(ctx, wait_id)
        except Exception as exc:  # one failing timer must not stop the others
            log.warning("timer %s failed: %s", wait_id, type(exc).__name__)
            stats.failed += 1
            continue
        if outcome == "fired":
            stats.fired += 1
        elif outcome == "stale":
            stats.stale += 1
    return stats


def fire(ctx: ServiceContext, wait_id: str) -> str:
    """Fires timer `wait_id` if still pending: "fired", "stale", "failed" or "gone" (not
    pending any more: another worker fired it, or the ticket finished)."""
    for _ in range(RACE_RETRIES):
        with ctx.db.write() as conn:
            outcome, written = _fire_once(ctx, conn, wait_id)
        if written is None or written.applied:
            return outcome
    raise Conflict("The ticket is changing too fast; the timer fires later", "ticket_busy")


def _fire_once(ctx: ServiceContext, conn: Any, wait_id: str) -> tuple[str, Any]:
    row = waits_store.lock(conn, wait_id)
    if row is None or row.state != "pending" or row.kind != "timer":
        return "gone", None
    now = ctx.clock.now()
    ticket = tickets_store.ticket_for_step(conn, row.ticket_id)
    if ticket is None or ticket.ticket_status != "running":
        waits_store.finish(conn, wait_id, row.ticket_id, "stale", now, gated=False)
        return "stale", None
    app = ctx.apps.version(conn, ticket.app_version_id)
    node = app.spec.process.nodes.get(row.node_id)
    timer = node.timer if node is not None else None
    late = row.due_at is not None and now - row.due_at > LATE
    missed = _missed(timer, row.fire, row.due_at, now) if late else 0
    try:
        result = step(
            app.spec.process,
            load_state(ticket.ticket_state),
            FireTimer(row.id, row.node_id, row.activation_id, row.fire + missed, ticket.values),
            new_step_context(ctx, conn, app, ticket.requester_id, ticket.org_generation),
        )
    except Conflict as exc:
        if exc.code != "timer_stale":
            raise
        waits_store.finish(conn, wait_id, row.ticket_id, "stale", now, gated=False)
        return "stale", None
    except FlowdeskError as exc:  # e.g. the next step names nobody: the timer cannot act
        waits_store.finish(conn, wait_id, row.ticket_id, "failed", now, gated=False)
        notes_store.insert_note(
            conn,
            note_id=new_id(),
            ticket_id=row.ticket_id,
            at=now,
            kind="timer_failed",
            actor_id=None,
            data={"node_id": row.node_id, "code": exc.code, "error": exc.message[:300]},
        )
        return "failed", None
    details: dict[str, Any] = {
        "ticket": row.ticket_id,
        "timer": row.node_id,
        "action": timer.action if timer is not None else "",
        "late": late,
        # what FireTimer was given, so a replay of the history rebuilds the command
        "wait": row.id,
        "activation": row.activation_id,
        "fire": row.fire + missed,
    }
    write, _ = task_step(app, ticket, result, now, AuditRecord(SYSTEM, "timer.fire", details))
    for entry in write.events:
        if entry["kind"] == "timer_fired":
            data = entry.setdefault("data", {})
            data["due_at"] = row.due_at.isoformat() if row.due_at is not None else None
            data["late"] = late
            data["missed"] = missed or None
            if timer is not None:
                data["after"] = timer.delay(row.fire) or None
                data["at"] = timer.at or None
                data["working"] = timer.working
    written = write_step(conn, write)
    waits_store.finish_after_step(conn, written, wait_id, row.ticket_id, "fired", now)
    return "fired", written


def _missed(timer: Any, fire: int, due: datetime | None, now: datetime) -> int:
    """How many further fires of a repeating calendar-time timer passed during downtime:
    they are recorded, not fired one after another."""
    if timer is None or not timer.repeat or due is None or timer.working:
        return 0
    every = parse_delay(timer.delay(fire + 1))
    if every is None:
        return 0
    passed = int((now - due) / every.as_timedelta())
    limit: int = timer.repeat + 1 - fire
    return max(0, min(passed, limit))


@dataclass(frozen=True)
class PendingTimer:
    """A ticket's timer still to fire, for the ticket page ("reminds in 3h")."""

    node_id: str
    attached: str
    action: str
    due_at: datetime
    name: dict[str, str]


def pending(conn: Any, ticket_id: str, process: Any) -> list[PendingTimer]:
    """The ticket's pending timers whose task or wait is still there, soonest first."""
    state = None
    found: list[PendingTimer] = []
    for row in waits_store.pending_of_ticket(conn, ticket_id):
        if row.kind != "timer" or row.due_at is None:
            continue
        node = process.nodes.get(row.node_id)
        if node is None or node.timer is None:
            continue
        if state is None:
            ticket = tickets_store.ticket_for_step(conn, ticket_id)
            if ticket is None:
                return []
            state = load_state(ticket.ticket_state)
        if not row.activation_id:
            live = row.id in state.waits
        elif times_out_alone(process, node):  # one timer per task (ADR 0041)
            live = row.activation_id in state.tasks
        else:
            live = row.activation_id in state.activations
        if live:
            found.append(
                PendingTimer(
                    row.node_id,
                    node.attached_to or "",
                    node.timer.action,
                    row.due_at,
                    dict(node.name),
                )
            )
    return found
