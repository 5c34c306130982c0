"""Filing tickets and working their tasks: the use cases of the first ticket flow.

Each call is one transaction: the engine's new state, the task rows, the timeline
events, the queued notifications and the audit entry commit together or not at all.
The ticket's version column decides races; a step that lost a race on another task
of the same ticket (parallel reviews) is simply re-run on the fresh state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.engines.forms import clean_comment, validate_submission
from flowdesk.engines.process import (
    CompleteTask,
    InstanceFinished,
    NodePassed,
    Start,
    StepResult,
    TaskClosed,
    TaskOpened,
    dump_state,
    load_state,
    step,
)
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound
from flowdesk.kernel.ids import new_id
from flowdesk.services.context import ServiceContext
from flowdesk.services.process_context import StepContext
from flowdesk.services.registry import PublishedApp
from flowdesk.store import audit as audit_store
from flowdesk.store import jobs as jobs_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import pipelined

MAX_COMMENT = 2000
RACE_RETRIES = 5
Source = Literal["json", "html"]


@dataclass(frozen=True)
class StepOutcome:
    ticket_id: str
    status: str
    opened_task_ids: tuple[str, ...]


class _StaleVersion(Exception):
    """The ticket changed between our read and our write; re-run the step."""


def submit(
    ctx: ServiceContext,
    *,
    actor: Actor,
    app_key: str,
    values: Mapping[str, object],
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    if not decide(actor, "ticket.create"):
        raise Forbidden("You may not file tickets in this app")
    with ctx.db.write() as conn:
        app = ctx.apps.current(conn, app_key)
        clean = validate_submission(app.spec.form, values, source=source, locale=locale)
        now = ctx.clock.now()
        ticket_id = new_id()
        result = step(
            app.spec.process,
            None,
            Start(starter=actor.user_id, values=clean),
            StepContext(conn, app, actor.user_id),
        )
        ticket_row = {
            "id": ticket_id,
            "app_id": app.app_id,
            "app_version_id": app.version_id,
            "title": _title(app, clean),
            "status": result.state.status,
            "values": clean,
            "state": dump_state(result.state),
            "version": 1,
            "requester_id": actor.user_id,
            "department_id": actor.department_id,
            "created_at": now,
            "updated_at": now,
            "finished_at": now if result.state.status != "running" else None,
        }
        first_event = {
            "kind": "ticket_submitted",
            "actor_id": actor.user_id,
            "node_id": None,
            "task_id": None,
            "comment": None,
            "data": {"app": app_key, "version": app.version},
        }
        opened = _opened(result)
        audit = {
            "actor": actor.username,
            "action": "ticket.submit",
            "details": {
                "app": app_key,
                "version": app.version,
                "status": result.state.status,
                "opened": [_node_of(result, t) for t in opened],
            },
        }
        _record_step(
            conn,
            app,
            ticket_id,
            result,
            now,
            actor.user_id,
            first_event,
            version=1,
            audit=audit,
            ticket_row=ticket_row,
        )
    return StepOutcome(ticket_id, result.state.status, opened)


def approve(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    comment: str = "",
    values: Mapping[str, object] | None = None,
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    return complete_task(
        ctx,
        actor=actor,
        task_id=task_id,
        outcome="approve",
        comment=comment,
        values=values,
        source=source,
        locale=locale,
    )


def reject(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    comment: str = "",
    values: Mapping[str, object] | None = None,
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    return complete_task(
        ctx,
        actor=actor,
        task_id=task_id,
        outcome="reject",
        comment=comment,
        values=values,
        source=source,
        locale=locale,
    )


def complete_task(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    outcome: Literal["approve", "reject"],
    comment: str = "",
    values: Mapping[str, object] | None = None,
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    for _ in range(RACE_RETRIES):
        try:
            return _complete_once(ctx, actor, task_id, outcome, comment, values, source, locale)
        except _StaleVersion:
            continue
    raise Conflict("The ticket is changing too fast; try again", "ticket_busy")


def _complete_once(
    ctx: ServiceContext,
    actor: Actor,
    task_id: str,
    outcome: Literal["approve", "reject"],
    comment: str,
    values: Mapping[str, object] | None,
    source: Source,
    locale: str,
) -> StepOutcome:
    with ctx.db.write() as conn:
        row = tickets_store.task_for_step(conn, task_id)
        state = load_state(row.ticket_state) if row is not None else None
        open_task = state.tasks.get(task_id) if state is not None else None
        is_assignee = open_task is not None and actor.user_id in open_task.assignees
        if row is None or not (
            is_assignee or _may_read(actor, conn, row.ticket_id, row.requester_id)
        ):
            # A task on a ticket the actor cannot see looks missing: ids reveal nothing.
            raise NotFound("Task not found", "task_not_found")
        if row.state != "open":
            # Checked before the engine so the last task of a finished ticket says the same.
            raise Conflict("The task is no longer open", "task_not_open")
        app = ctx.apps.version(conn, row.app_version_id)
        current_values: dict[str, Any] = dict(row.values)
        changed: list[str] = []
        if values:
            updates = validate_submission(
                app.spec.form, values, source=source, locale=locale, partial=True
            )
            changed = sorted(k for k, v in updates.items() if current_values.get(k) != v)
            current_values.update(updates)
        result = step(
            app.spec.process,
            state,
            CompleteTask(
                task_id=task_id,
                actor=actor.user_id,
                outcome=outcome,
                comment=comment,
                values=current_values,
            ),
            StepContext(conn, app, row.requester_id),
        )
        now = ctx.clock.now()
        finished = result.state.status != "running"
        if not tickets_store.update_ticket(
            conn,
            ticket_id=row.ticket_id,
            expected_version=row.version,
            values=current_values,
            state=dump_state(result.state),
            status=result.state.status,
            updated_at=now,
            finished_at=now if finished else None,
        ):
            raise _StaleVersion()
        first_event = None
        if changed:
            first_event = {
                "kind": "values_changed",
                "actor_id": actor.user_id,
                "node_id": row.node_id,
                "task_id": task_id,
                "comment": None,
                "data": {"fields": changed},
            }
        opened = _opened(result)
        audit = {
            "actor": actor.username,
            "action": f"task.{outcome}",
            "details": {
                "task": task_id,
                "node": row.node_id,
                "status": result.state.status,
                "changed_fields": changed,
                "opened": [_node_of(result, t) for t in opened],
            },
        }
        _record_step(
            conn,
            app,
            row.ticket_id,
            result,
            now,
            row.requester_id,
            first_event,
            version=row.version + 1,
            audit=audit,
        )
    return StepOutcome(row.ticket_id, result.state.status, opened)


def _record_step(
    conn: Connection,
    app: PublishedApp,
    ticket_id: str,
    result: StepResult,
    now: datetime,
    requester_id: str,
    first_event: dict[str, Any] | None,
    *,
    version: int,
    audit: dict[str, Any],
    ticket_row: dict[str, Any] | None = None,
) -> None:
    """Turns the engine's effects into task rows, timeline events and queued notices."""
    nodes = app.spec.process.nodes
    events: list[dict[str, Any]] = [first_event] if first_event else []
    task_rows: list[dict[str, Any]] = []
    assignee_rows: list[dict[str, Any]] = []
    closings: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for effect in result.effects:
        if isinstance(effect, TaskOpened):
            node = nodes[effect.node_id]
            task_rows.append(
                {
                    "id": effect.task_id,
                    "ticket_id": ticket_id,
                    "node_id": effect.node_id,
                    "name_en": node.label("en"),
                    "name_zh": node.label("zh"),
                    "created_at": now,
                }
            )
            assignee_rows.extend(
                {"task_id": effect.task_id, "user_id": user_id, "is_open": True}
                for user_id in effect.assignees
            )
            notices.extend(
                {"user_id": user_id, "kind": "task_assigned", "task_id": effect.task_id}
                for user_id in effect.assignees
            )
            events.append(
                {
                    "kind": "task_opened",
                    "actor_id": None,
                    "node_id": effect.node_id,
                    "task_id": effect.task_id,
                    "comment": None,
                    "data": {"assignees": list(effect.assignees)},
                }
            )
        elif isinstance(effect, TaskClosed):
            closings.append(
                {
                    "id": effect.task_id,
                    "state": effect.outcome,
                    "at": now,
                    "by": effect.actor,
                    "comment": effect.comment or None,
                }
            )
            events.append(
                {
                    "kind": f"task_{effect.outcome}",
                    "actor_id": effect.actor,
                    "node_id": effect.node_id,
                    "task_id": effect.task_id,
                    "comment": effect.comment or None,
                    "data": None,
                }
            )
        elif isinstance(effect, NodePassed):
            events.append(
                {
                    "kind": "node_passed",
                    "actor_id": None,
                    "node_id": effect.node_id,
                    "task_id": None,
                    "comment": None,
                    "data": {"type": effect.node_type},
                }
            )
        elif isinstance(effect, InstanceFinished):
            notices.append(
                {"user_id": requester_id, "kind": f"ticket_{effect.status}", "task_id": None}
            )
            events.append(
                {
                    "kind": f"ticket_{effect.status}",
                    "actor_id": None,
                    "node_id": None,
                    "task_id": None,
                    "comment": None,
                    "data": None,
                }
            )
    for event in events:
        event["ticket_id"] = ticket_id
        event["at"] = now
    # Nothing below reads a result before the end, so on PostgreSQL it all leaves in one
    # round trip. Tasks first: closing rows and events refer to them by foreign key.
    with pipelined(conn):
        if ticket_row is not None:
            tickets_store.insert_ticket(conn, ticket_row)
        tickets_store.insert_tasks(conn, task_rows, assignee_rows)
        closed = tickets_store.close_tasks(conn, closings)
        tickets_store.insert_events(conn, events)
        if notices:
            jobs_store.enqueue(
                conn,
                kind="notify",
                payload={"ticket_id": ticket_id, "notices": notices},
                due_at=now,
                now=now,
                idempotency_key=f"notify:{ticket_id}:{version}",
            )
        audit_store.append(conn, at=now, target_type="ticket", target_id=ticket_id, **audit)
    if closed.count() != len(closings):
        raise Conflict("The task is no longer open", "task_not_open")


def _opened(result: StepResult) -> tuple[str, ...]:
    return tuple(e.task_id for e in result.effects if isinstance(e, TaskOpened))


def _node_of(result: StepResult, task_id: str) -> str:
    for effect in result.effects:
        if isinstance(effect, TaskOpened) and effect.task_id == task_id:
            return effect.node_id
    return ""


def _title(app: PublishedApp, values: Mapping[str, object]) -> str:
    """Only the subject, for the `title` column: the first filled text field, or "". The
    title people see adds the app's name in their language at read time (views.ticket_title)."""
    for field in app.spec.form.fields:
        if field.type == "text" and isinstance(values.get(field.key), str):
            return str(values[field.key])[:200]
    return ""


def can_read(actor: Actor, conn: Connection, ticket: Any) -> bool:
    return _may_read(actor, conn, ticket.id, ticket.requester_id)


def _may_read(actor: Actor, conn: Connection, ticket_id: str, requester_id: str) -> bool:
    facts = ResourceFacts(
        requester_id=requester_id,
        participant_ids=tickets_store.participant_ids(conn, ticket_id),
    )
    return bool(decide(actor, "ticket.read", facts))
