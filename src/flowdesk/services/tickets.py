"""Filing tickets and working their tasks: the use cases of the first ticket flow.

Each call is one transaction: the engine's new state, the task rows, the timeline
events, the queued notifications and the audit entry commit together or not at all.
The ticket's version column decides races; a step that lost a race on another task
of the same ticket (parallel reviews) is simply re-run on the fresh state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.apps import start_hidden, start_locked
from flowdesk.engines.forms import (
    FieldChange,
    FieldType,
    auto_number_formats,
    clean_comment,
    refuse_locked,
    validate_edits,
)
from flowdesk.engines.forms.spec import TEXT_TYPES
from flowdesk.engines.process import CompleteTask, Start, step
from flowdesk.kernel.errors import Conflict, Forbidden
from flowdesk.kernel.ids import new_id
from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import serial_year
from flowdesk.services import attachments as attachments_service
from flowdesk.services import field_files
from flowdesk.services.context import ServiceContext
from flowdesk.services.form_values import recomputed_changes, submitted_values
from flowdesk.services.registry import PublishedApp
from flowdesk.services.task_steps import (
    StepOutcome,
    event,
    may_read,
    new_step_context,
    open_task_row,
    opened_nodes,
    opened_tasks,
    raced,
    step_context,
    step_write,
    task_step,
    value_changes,
    write_step,
)
from flowdesk.store.steps import AuditRecord, SearchTerms, StepWrite, StepWritten

MAX_COMMENT = 2000
Source = Literal["json", "html"]


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
        if app.spec.is_records:  # ADR 0038: its records are written through /records
            raise Conflict(
                f"{app_key!r} is a record app: create its records with"
                f" POST /api/v1/apps/{app_key}/records",
                "record_app",
            )
        refuse_start_locked(app, values, locale)
        clean = submitted_values(
            ctx, conn, app, values, source=source, requester_id=actor.user_id, locale=locale
        )
        # attachment fields (ADR 0037): the writer's own uploads, linked with the ticket
        files = field_files.carried_files(ctx, conn, actor, app.spec.form, clean, locale=locale)
        return file_ticket(
            ctx,
            conn,
            actor,
            app,
            org_generation,
            clean,
            links=field_files.step_links(files, "submit"),
        )


def refuse_start_locked(app: PublishedApp, raw: Mapping[str, object], locale: str) -> None:
    """422 `values_not_editable` naming each field the start form hides or shows read-only
    (ADR 0037) that `raw` tries to fill; nothing is written."""
    process = app.spec.process
    refuse_locked(
        app.spec.form,
        raw,
        locked=start_locked(process),
        hidden=start_hidden(process),
        locale=locale,
    )


def file_ticket(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    app: PublishedApp,
    org_generation: int,
    clean: Mapping[str, object],
    *,
    audit_details: Mapping[str, object] | None = None,
    links: list[dict[str, Any]] | None = None,
    after: Callable[[StepWritten, str], None] | None = None,
) -> StepOutcome:
    """Files one ticket with already validated values inside the caller's transaction:
    `submit`'s work, and each row of an import (services/ticket_import.py), where all the
    rows commit together or not at all. The caller has checked `ticket.create`. `after`
    gets the step's write and the new ticket's id, for a row that goes with it (a
    message's receipt, ADR 0035)."""
    now = ctx.clock.now()
    ticket_id = new_id()
    app_key = app.spec.key
    result = step(
        app.spec.process,
        None,
        Start(starter=actor.user_id, values=dict(clean)),
        new_step_context(ctx, conn, app, actor.user_id, org_generation),
    )
    write = step_write(
        app,
        ticket_id,
        result,
        now,
        actor.user_id,
        event(
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
                "opened": opened_nodes(result),
                **(audit_details or {}),
            },
        ),
        values=dict(clean),
        new_ticket={
            "app_id": app.app_id,
            "app_version_id": app.version_id,
            "serial_prefix": app.spec.serial_prefix,
            "serial_year": serial_year(now),  # the store numbers it in this transaction
            "title": ticket_subject(app, clean),
            "requester_id": actor.user_id,
            "department_id": actor.department_id,
        },
        search=SearchTerms(document_terms(search_texts(app, "", clean))),
    )
    write.attachments = list(links or ())  # an attachment field's files (ADR 0037)
    write.numbered = auto_number_formats(app.spec.form)  # ADR 0038
    written = write_step(conn, write)
    if after is not None:
        after(written, ticket_id)
    return StepOutcome(ticket_id, result.state.status, opened_tasks(result))


def approve(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    comment: str = "",
    values: Mapping[str, object] | None = None,
    source: Source = "json",
    locale: str = "en",
    attachments: Sequence[str] = (),
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
        attachments=attachments,
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
    attachments: Sequence[str] = (),
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
        attachments=attachments,
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
    attachments: Sequence[str] = (),
) -> StepOutcome:
    """Approves or rejects the open task; `attachments` (the actor's own unlinked uploads,
    ADR 0028) are linked with the step and listed in its timeline entry."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(
        ctx,
        lambda conn: _complete_once(
            ctx, conn, actor, task_id, outcome, comment, values, source, locale, attachments
        ),
    )


def _complete_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    task_id: str,
    outcome: Literal["approve", "reject"],
    comment: str,
    values: Mapping[str, object] | None,
    source: Source,
    locale: str,
    attachments: Sequence[str] = (),
) -> tuple[StepWrite, StepOutcome]:
    row, state = open_task_row(conn, actor, task_id)
    app = ctx.apps.version(conn, row.app_version_id)
    holds = task_id in state.tasks and actor.user_id in state.tasks[task_id].assignees
    start = app.spec.process.index.start.id
    if holds and actor.user_id == row.requester_id and row.node_id != start:
        # maker-checker, whatever put the task here (not their returned ticket to resubmit)
        raise Forbidden("The applicant cannot decide their own ticket", "self_approval")
    current_values: dict[str, Any] = dict(row.values)
    changes = _value_changes(app, row.node_id, outcome, values, current_values, source, locale)
    # formulas and visibility follow the edit (ADR 0031), each change kept with its old value
    changes = recomputed_changes(
        ctx, conn, app, row.values, changes, requester_id=row.requester_id, locale=locale
    )
    for change in changes:
        if change.new is None:
            current_values.pop(change.field, None)
        else:
            current_values[change.field] = change.new
    first_event, changed, recorded = value_changes(actor.user_id, row, task_id, changes)
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
        step_context(ctx, conn, app, row),
    )
    carried = attachments_service.unlinked_of(ctx, conn, actor, attachments, locale)
    write, step_outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action=f"task.{outcome}",
            details={
                "task": task_id,
                "node": row.node_id,
                "changed_fields": changed,
                "changes": recorded,
            },
        ),
        first_event=first_event,
        values=current_values if changed else None,
        search=search_change(app, row.values, current_values) if changed else None,
    )
    attachments_service.attach_to_step(
        write, actor_id=actor.user_id, task_id=task_id, action=outcome, carried=carried
    )
    return write, step_outcome


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
    node declares the fields `editable` (ADR 0037: `field_hidden` for one it hides); a
    reject changes nothing, it ends the decision."""
    if not values:
        return ()
    node = app.spec.process.nodes.get(node_id)
    editable = node.editable if node is not None and outcome == "approve" else ()
    return validate_edits(
        app.spec.form,
        values,
        editable=editable,
        hidden=node.hidden() if node is not None else (),
        current=current,
        source=source,
        locale=locale,
    )


def ticket_subject(app: PublishedApp, values: Mapping[str, object]) -> str:
    """Only the subject, for the `title` column: the first filled text field, or "". The
    title people see adds the app's name in their language at read time (views.ticket_title)."""
    for field in app.spec.form.fields:
        if field.type == "text" and isinstance(values.get(field.key), str):
            return str(values[field.key])[:200]
    return ""


def search_texts(app: PublishedApp, title: str, values: Mapping[str, object]) -> list[str]:
    """What `q=` searches besides the serial: the title and every text field's value, a
    sub-table's text columns in every row included (ADR 0036)."""
    texts = [title]
    for field in app.spec.form.fields:
        value = values.get(field.key)
        if field.type in TEXT_TYPES and isinstance(value, str):
            texts.append(value)
        elif field.type is FieldType.TABLE and isinstance(value, list):
            columns = [c.key for c in field.columns if c.type in TEXT_TYPES]
            texts.extend(
                cell
                for row in value
                if isinstance(row, dict)
                for key in columns
                if isinstance(cell := row.get(key), str)
            )
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
    return may_read(actor, conn, ticket.id, ticket.requester_id)
