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
from flowdesk.engines.audit import mask_personal
from flowdesk.engines.forms import (
    FieldChange,
    FieldType,
    clean_comment,
    validate_edits,
    validate_submission,
)
from flowdesk.engines.forms.spec import TEXT_TYPES
from flowdesk.engines.process import (
    CompleteTask,
    InstanceFinished,
    NodeDecided,
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
from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import serial_year
from flowdesk.services.context import ServiceContext
from flowdesk.services.process_context import StepContext
from flowdesk.services.registry import PublishedApp
from flowdesk.store import steps as steps_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.steps import AuditRecord, SearchTerms

MAX_COMMENT = 2000
_FREE_TEXT = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL})
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
        app, org_generation = ctx.apps.current_and_org_generation(conn, app_key)
        clean = validate_submission(app.spec.form, values, source=source, locale=locale)
        now = ctx.clock.now()
        ticket_id = new_id()
        result = step(
            app.spec.process,
            None,
            Start(starter=actor.user_id, values=clean),
            StepContext(conn, app, actor.user_id, ctx.assignees.at(org_generation)),
        )
        opened = _opened(result)
        write = _step_write(
            app,
            ticket_id,
            result,
            now,
            actor.user_id,
            _event(
                "ticket_submitted",
                actor_id=actor.user_id,
                data={"app": app_key, "version": app.version},
            ),
            AuditRecord(
                actor=actor.username,
                action="ticket.submit",
                details={
                    "app": app_key,
                    "version": app.version,
                    "status": result.state.status,
                    "opened": [_node_of(result, t) for t in opened],
                },
            ),
            values=clean,
            new_ticket={
                "app_id": app.app_id,
                "app_version_id": app.version_id,
                "serial_prefix": app.spec.serial_prefix,
                "serial_year": serial_year(now),  # the store numbers it in this transaction
                "title": _title(app, clean),
                "requester_id": actor.user_id,
                "department_id": actor.department_id,
            },
            search=SearchTerms(document_terms(search_texts(app, "", clean))),
        )
        steps_store.write_step(conn, write)
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
        app = ctx.apps.version(conn, row.app_version_id)
        current_values: dict[str, Any] = dict(row.values)
        changes = _value_changes(app, row.node_id, outcome, values, current_values, source, locale)
        for change in changes:
            if change.new is None:
                current_values.pop(change.field, None)
            else:
                current_values[change.field] = change.new
        changed = [change.field for change in changes]
        recorded = [_recorded_change(change) for change in changes]
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
            StepContext(conn, app, row.requester_id, ctx.assignees.at(row.org_generation)),
        )
        first_event = None
        if changed:
            first_event = _event(
                "values_changed",
                actor_id=actor.user_id,
                node_id=row.node_id,
                task_id=task_id,
                data={"fields": changed, "changes": recorded},
            )
        opened = _opened(result)
        write = _step_write(
            app,
            row.ticket_id,
            result,
            ctx.clock.now(),
            row.requester_id,
            first_event,
            AuditRecord(
                actor=actor.username,
                action=f"task.{outcome}",
                details={
                    "task": task_id,
                    "node": row.node_id,
                    "status": result.state.status,
                    "changed_fields": changed,
                    "changes": recorded,
                    "opened": [_node_of(result, t) for t in opened],
                },
            ),
            values=current_values if changed else None,
            search=search_change(app, row.values, current_values) if changed else None,
            expected_version=row.version,
            status_before=row.ticket_status,
        )
        written = steps_store.write_step(conn, write)
    if not written.applied:
        raise _StaleVersion()
    return StepOutcome(row.ticket_id, result.state.status, opened)


def _value_changes(
    app: PublishedApp,
    node_id: str,
    outcome: Literal["approve", "reject"],
    values: Mapping[str, object] | None,
    current: Mapping[str, object],
    source: Source,
    locale: str,
) -> tuple[FieldChange, ...]:
    """The value changes an approver sends, refused (422, nothing written) unless the task's
    node declares the fields `editable`; a reject changes nothing, it ends the decision."""
    if not values:
        return ()
    node = app.spec.process.nodes.get(node_id)
    editable = node.editable if node is not None and outcome == "approve" else ()
    return validate_edits(
        app.spec.form, values, editable=editable, current=current, source=source, locale=locale
    )


def _recorded_change(change: FieldChange) -> dict[str, object]:
    """Old and new value as the timeline and the audit keep them: free text masked (an ID
    or phone number typed into it), numbers, dates and choices as stored."""

    def kept(value: object) -> object:
        if isinstance(value, str) and change.type in _FREE_TEXT:
            return mask_personal(value)
        return value

    return {"field": change.field, "old": kept(change.old), "new": kept(change.new)}


def _step_write(
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
) -> steps_store.StepWrite:
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
                    "node_id": effect.node_id,
                    "name_en": node.label("en"),
                    "name_zh": node.label("zh"),
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
                _event(
                    "task_opened",
                    node_id=effect.node_id,
                    task_id=effect.task_id,
                    data={"assignees": list(effect.assignees)},
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
                _event(
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
                _event(
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
                _event("node_passed", node_id=effect.node_id, data={"type": effect.node_type})
            )
        elif isinstance(effect, InstanceFinished):
            notices.append(
                {"user_id": requester_id, "kind": f"ticket_{effect.status}", "task_id": None}
            )
            events.append(_event(f"ticket_{effect.status}"))
    return steps_store.StepWrite(
        ticket_id=ticket_id,
        at=now,
        audit=audit,
        values=values,
        state=dump_state(result.state),
        status=result.state.status,
        status_changed=result.state.status != status_before,
        finished_at=now if result.state.status != "running" else None,
        tasks=task_rows,
        assignees=assignee_rows,
        closings=closings,
        events=events,
        notices=notices,
        new_ticket=new_ticket,
        expected_version=expected_version,
        search=search,
    )


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    """A timeline event; fields left out (or None) read back as null."""
    return {"kind": kind, **{k: v for k, v in fields.items() if v is not None}}


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


def search_texts(app: PublishedApp, title: str, values: Mapping[str, object]) -> list[str]:
    """What `q=` searches besides the serial: the title and every text field's value."""
    texts = [title]
    for field in app.spec.form.fields:
        value = values.get(field.key)
        if field.type in TEXT_TYPES and isinstance(value, str):
            texts.append(value)
    return texts


def search_change(
    app: PublishedApp, before: Mapping[str, object], after: Mapping[str, object]
) -> SearchTerms | None:
    """The search terms a change of values adds and removes (None: none change); the
    store keeps those the serial and the title still give."""
    old = document_terms(search_texts(app, "", before))
    new = document_terms(search_texts(app, "", after))
    if old == new:
        return None
    return SearchTerms(frozenset(new - old), frozenset(old - new))


def can_read(actor: Actor, conn: Connection, ticket: Any) -> bool:
    return _may_read(actor, conn, ticket.id, ticket.requester_id)


def _may_read(actor: Actor, conn: Connection, ticket_id: str, requester_id: str) -> bool:
    facts = ResourceFacts(
        requester_id=requester_id,
        participant_ids=tickets_store.participant_ids(conn, ticket_id),
    )
    return bool(decide(actor, "ticket.read", facts))
