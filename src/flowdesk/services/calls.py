"""Call activities (ADR 0033): the worker files a parent's child ticket, resumes the
parent when the child ends, and cancels children whose parent no longer waits.

Each of the three is a transaction of its own that first locks the parent's call wait
row (the ticket row, then the wait row, as timers do), so two workers never file two
children for one wait nor resume a parent twice, and a parent being cancelled while its
child ends comes out one way: whichever step wins the parent's version decides, and the
loser finds the wait gone (the child, if still running, is then cancelled). The child is
a normal ticket of the called app's current version, filed for the parent's applicant
and department; the parent's timeline gets a note naming it.

Why the worker and not the parent's own step: on PostgreSQL a step's write is known to
have won its version check only after COMMIT (ADR 0006), so a child filed inside the
parent's step could outlive a parent step that lost; the wait row, written gated with
the step, is the durable promise the worker keeps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.forms import validate_submission
from flowdesk.engines.process import FinishCall, Start, load_state, step
from flowdesk.engines.process import repair as engine
from flowdesk.kernel.errors import Conflict, FlowdeskError
from flowdesk.kernel.ids import new_id
from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import serial_year
from flowdesk.services.context import ServiceContext
from flowdesk.services.task_steps import (
    CALL_KEEP,
    RACE_RETRIES,
    event,
    new_step_context,
    opened_nodes,
    step_write,
    task_step,
    write_step,
)
from flowdesk.store import calls as calls_store
from flowdesk.store import ticket_notes as notes_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store import waits as waits_store
from flowdesk.store.steps import AuditRecord, SearchTerms

log = logging.getLogger(__name__)

SYSTEM = "system"
BATCH = 50


@dataclass
class CallStats:
    started: int = 0
    resumed: int = 0
    cancelled: int = 0
    failed: int = 0

    @property
    def worked(self) -> int:
        return self.started + self.resumed + self.cancelled + self.failed


def run_due(ctx: ServiceContext, *, batch: int = BATCH) -> CallStats:
    """One pass: file the children still to file, resume the parents whose child ended,
    cancel the children no parent waits for any more."""
    stats = CallStats()
    with ctx.db.read(snapshot=False) as conn:
        unstarted = calls_store.unstarted(conn, batch)
        ended = calls_store.ended(conn, batch)
        orphans = calls_store.orphans(conn, batch)
    for wait_id in unstarted:
        outcome = _guarded(start_child, ctx, wait_id)
        stats.started += outcome == "started"
        stats.failed += outcome == "failed"
    for wait_id in ended:
        outcome = _guarded(resume_parent, ctx, wait_id)
        stats.resumed += outcome == "resumed"
        stats.failed += outcome == "failed"
    for child_id in orphans:
        outcome = _guarded(cancel_orphan, ctx, child_id)
        stats.cancelled += outcome == "cancelled"
        stats.failed += outcome == "failed"
    return stats


def run_until_idle(ctx: ServiceContext, *, rounds: int = 10) -> CallStats:
    """Passes until nothing is left to do (tests, `load-demo`): a child's child, a
    parent's parent."""
    total = CallStats()
    for _ in range(rounds):
        stats = run_due(ctx)
        total.started += stats.started
        total.resumed += stats.resumed
        total.cancelled += stats.cancelled
        total.failed += stats.failed
        if not stats.worked:
            break
    return total


def _guarded(action: Any, ctx: ServiceContext, key: str) -> str:
    try:
        return str(action(ctx, key))
    except Exception as exc:  # one failing call must not stop the others
        log.warning("call %s failed: %s", key, type(exc).__name__)
        return "error"


def _retried(ctx: ServiceContext, once: Any, key: str) -> str:
    for _ in range(RACE_RETRIES):
        with ctx.db.write() as conn:
            outcome, written = once(ctx, conn, key)
        if written is None or written.applied:
            return str(outcome)
    raise Conflict("The ticket is changing too fast; the call goes on later", "ticket_busy")


def _note(conn: Connection, ticket_id: str, kind: str, at: Any, data: dict[str, Any]) -> None:
    notes_store.insert_note(
        conn, note_id=new_id(), ticket_id=ticket_id, at=at, kind=kind, actor_id=None, data=data
    )


# --- filing the child ---------------------------------------------------------------------


def start_child(ctx: ServiceContext, wait_id: str) -> str:
    """Files the child of call wait `wait_id`: "started", "stale" (the parent no longer
    waits), "failed" (the child cannot be filed: a note says why) or "gone"."""
    with ctx.db.write() as conn:
        return _start_once(ctx, conn, wait_id)


def _start_once(ctx: ServiceContext, conn: Connection, wait_id: str) -> str:
    row = waits_store.lock(conn, wait_id)
    if row is None or row.state != "pending" or row.kind != "call":
        return "gone"
    if calls_store.by_wait(conn, wait_id) is not None:
        return "gone"  # another worker filed it first
    now = ctx.clock.now()
    parent = tickets_store.ticket_for_step(conn, row.ticket_id)
    state = load_state(parent.ticket_state) if parent is not None else None
    if parent is None or state is None or wait_id not in state.waits:
        waits_store.finish(conn, wait_id, row.ticket_id, "stale", now, gated=False)
        return "stale"
    parent_app = ctx.apps.version(conn, parent.app_version_id)
    call = parent_app.spec.process.nodes[row.node_id].call
    assert call is not None  # a call wait is only ever at a call activity
    child_id = new_id()
    try:
        app, generation = ctx.apps.called(conn, call.app, call.version)
        given = call.child_values(parent.values)
        if call.each:  # a multi-instance call: this child's item (ADR 0035)
            given[call.item_field] = row.key or ""
        values = validate_submission(app.spec.form, given, source="json")
        step_ctx = new_step_context(ctx, conn, app, parent.requester_id, generation)
        result = step(app.spec.process, None, Start(parent.requester_id, values), step_ctx)
    except FlowdeskError as exc:  # the child cannot be filed: the parent waits for a repair
        waits_store.finish(conn, wait_id, row.ticket_id, "failed", now, gated=False)
        _note(
            conn,
            row.ticket_id,
            "call_failed",
            now,
            {"node_id": row.node_id, "app": call.app, "code": exc.code, "error": exc.message[:300]},
        )
        return "failed"
    from flowdesk.services.tickets import search_texts, ticket_subject  # tickets imports task_steps

    parent_serial = tickets_store.ticket_by_id(conn, row.ticket_id)
    write = step_write(
        app,
        child_id,
        result,
        now,
        parent.requester_id,
        event(
            "ticket_submitted",
            actor_id=parent.requester_id,
            data={
                "app": call.app,
                "version": app.version,
                "parent": row.ticket_id,
                "parent_serial": getattr(parent_serial, "serial", None),
            },
        ),
        AuditRecord(
            SYSTEM,
            "call.start_child",
            {
                "app": call.app,
                "version": app.version,
                "parent": row.ticket_id,
                "node": row.node_id,
                "status": result.state.status,
                "opened": opened_nodes(result),
            },
        ),
        values=values,
        new_ticket={
            "app_id": app.app_id,
            "app_version_id": app.version_id,
            "serial_prefix": app.spec.serial_prefix,
            "serial_year": serial_year(now),
            "title": ticket_subject(app, values),
            "requester_id": parent.requester_id,
            "department_id": calls_store.department_of(conn, row.ticket_id),
        },
        search=SearchTerms(document_terms(search_texts(app, "", values))),
    )
    write_step(conn, write)
    calls_store.insert(
        conn, child=child_id, parent=row.ticket_id, wait_id=wait_id, node_id=row.node_id, at=now
    )
    _note(
        conn,
        row.ticket_id,
        "child_started",
        now,
        {"node_id": row.node_id, "child": child_id, "app": call.app},
    )
    return "started"


# --- resuming the parent ------------------------------------------------------------------


def resume_parent(ctx: ServiceContext, wait_id: str) -> str:
    """The child of `wait_id` ended: the parent goes on ("resumed"), or its wait is over
    ("stale", "gone")."""
    return _retried(ctx, _resume_once, wait_id)


def _resume_once(ctx: ServiceContext, conn: Connection, wait_id: str) -> tuple[str, Any]:
    row = waits_store.lock(conn, wait_id)
    link = calls_store.by_wait(conn, wait_id)
    if row is None or row.state != "pending" or link is None:
        return "gone", None
    child = tickets_store.ticket_for_step(conn, link.child_ticket_id)
    if child is None or child.ticket_status == "running":
        return "gone", None
    now = ctx.clock.now()
    parent = tickets_store.ticket_for_step(conn, row.ticket_id)
    state = load_state(parent.ticket_state) if parent is not None else None
    if parent is None or state is None or state.status != "running" or wait_id not in state.waits:
        waits_store.finish(conn, wait_id, row.ticket_id, "stale", now, gated=False)
        return "stale", None
    app = ctx.apps.version(conn, parent.app_version_id)
    call = app.spec.process.nodes[row.node_id].call
    assert call is not None
    outcome = child.ticket_status
    outputs = call.output_values(child.values) if outcome == "approved" else {}
    values = {**parent.values, **outputs}
    changed = [k for k, v in outputs.items() if parent.values.get(k) != v]
    try:
        result = step(
            app.spec.process,
            state,
            FinishCall(wait_id, outcome, values),
            new_step_context(ctx, conn, app, parent.requester_id, parent.org_generation),
        )
    except FlowdeskError as exc:  # e.g. the next step names nobody: an admin repairs it
        waits_store.finish(conn, wait_id, row.ticket_id, "failed", now, gated=False)
        _note(
            conn,
            row.ticket_id,
            "call_failed",
            now,
            {"node_id": row.node_id, "app": call.app, "code": exc.code, "error": exc.message[:300]},
        )
        return "failed", None
    write, _ = task_step(
        app,
        parent,
        result,
        now,
        AuditRecord(
            SYSTEM,
            "call.resume_parent",
            {
                "ticket": row.ticket_id,
                "node": row.node_id,
                "child": link.child_ticket_id,
                "child_status": outcome,
                "changed_fields": changed,
            },
        ),
        values=values if changed else None,
    )
    for entry in write.events:
        if entry["kind"] == "child_ended":
            entry.setdefault("data", {})["child"] = link.child_ticket_id
            entry["data"]["changed_fields"] = changed or None
    conn.info[CALL_KEEP] = [wait_id]  # marked received below, not stale
    written = write_step(conn, write)
    waits_store.finish_after_step(conn, written, wait_id, row.ticket_id, "received", now)
    return "resumed", written


# --- cancelling orphans -------------------------------------------------------------------


def cancel_orphan(ctx: ServiceContext, child_id: str) -> str:
    """Child `child_id` runs though its parent's wait is over: it is cancelled, by the
    system, saying why ("cancelled"), unless it ended meanwhile ("gone")."""
    return _retried(ctx, _cancel_once, child_id)


def _cancel_once(ctx: ServiceContext, conn: Connection, child_id: str) -> tuple[str, Any]:
    link = calls_store.by_child(conn, child_id)
    if link is None:
        return "gone", None
    row = waits_store.lock(conn, link.wait_id)  # the parent first, as every call step
    if row is None or row.state == "pending":
        return "gone", None
    child = tickets_store.ticket_for_step(conn, child_id)
    if child is None or child.ticket_status != "running":
        return "gone", None
    app = ctx.apps.version(conn, child.app_version_id)
    result = engine.cancel(load_state(child.ticket_state), SYSTEM)
    write, _ = task_step(
        app,
        child,
        result,
        ctx.clock.now(),
        AuditRecord(
            SYSTEM,
            "call.cancel_child",
            {"ticket": child_id, "parent": link.parent_ticket_id, "wait": row.state},
        ),
    )
    for entry in write.events:
        if entry["kind"] == "ticket_cancelled":
            entry["data"] = {"parent": link.parent_ticket_id, "reason": "parent_ended"}
    return "cancelled", write_step(conn, write)
