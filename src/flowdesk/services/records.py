"""A record app's records (ADR 0038): create, edit and delete, each change one step.

A record is a ticket row of an app without a process: status `record`, no tasks, no
engine state. So its serial, search terms, timeline, audit, attachments, export and
list paging are the tickets' own. Each change is one transaction writing the row, a
timeline row (old and new value of every changed field) and a hash-chained audit entry;
a refused change writes nothing. Only the app's editors (or an administrator) write;
its readers and editors read (engines/access, `record.write`, `ticket.read`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.apps.records import DELETED_STATUS, RECORD_STATUS
from flowdesk.engines.forms import auto_number_formats, validate_edits
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound
from flowdesk.kernel.ids import new_id
from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import serial_year
from flowdesk.services import link_values, ticket_export, views
from flowdesk.services.context import ServiceContext
from flowdesk.services.form_values import recomputed_changes, submitted_values
from flowdesk.services.list_query import ListQuery
from flowdesk.services.record_access import may_list, may_write, record_facts
from flowdesk.services.registry import PublishedApp
from flowdesk.services.task_steps import StepOutcome, event, raced, value_changes
from flowdesk.services.tickets import Source, search_change, search_texts, ticket_subject
from flowdesk.store import tickets as tickets_store
from flowdesk.store.steps import AuditRecord, SearchTerms, StepWrite, write_step


def check_writer(actor: Actor, app: PublishedApp, locale: str = "en") -> None:
    if not app.spec.is_records:
        raise NotFound(f"No record app {app.spec.key!r}", "record_app_not_found")
    if not may_write(actor, app):
        zh = locale.lower().startswith("zh")
        raise Forbidden(
            "只有该记录应用的编辑角色可以新建、修改、删除记录"
            if zh
            else "Only the record app's editors may create, edit and delete its records",
            "record_write_forbidden",
        )


def create(
    ctx: ServiceContext,
    *,
    actor: Actor,
    app_key: str,
    values: Mapping[str, object],
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    with ctx.db.write() as conn:
        app = ctx.apps.current(conn, app_key)
        check_writer(actor, app, locale)
        clean = submitted_values(
            ctx, conn, app, values, source=source, requester_id=actor.user_id, locale=locale
        )
        return file_record(ctx, conn, actor, app, clean)


def file_record(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    app: PublishedApp,
    clean: Mapping[str, object],
    *,
    audit_details: Mapping[str, object] | None = None,
) -> StepOutcome:
    """One record with validated values, in the caller's transaction (create, import);
    the caller has checked `record.write`."""
    write = record_write(ctx, actor, app, clean, audit_details=audit_details)
    write_step(conn, write)
    return StepOutcome(write.ticket_id, RECORD_STATUS, ())


def record_write(
    ctx: ServiceContext,
    actor: Actor,
    app: PublishedApp,
    clean: Mapping[str, object],
    *,
    audit_details: Mapping[str, object] | None = None,
    record_id: str | None = None,
    at: datetime | None = None,
) -> StepWrite:
    """A new record's write; `at` (an import's one instant for all its rows) or now."""
    now = at or ctx.clock.now()
    values = dict(clean)
    return StepWrite(
        ticket_id=record_id or new_id(),
        at=now,
        audit=AuditRecord(
            actor=actor.username,
            action="record.create",
            details={"app": app.spec.key, "version": app.version, **(audit_details or {})},
        ),
        values=values,
        state={},
        status=RECORD_STATUS,
        status_changed=True,
        finished_at=None,
        new_ticket={
            "app_id": app.app_id,
            "app_version_id": app.version_id,
            "serial_prefix": app.spec.serial_prefix,
            "serial_year": serial_year(now),
            "title": ticket_subject(app, values),
            "requester_id": actor.user_id,
            "department_id": actor.department_id,
        },
        events=[event("record_created", actor_id=actor.user_id, data={"app": app.spec.key})],
        search=SearchTerms(document_terms(search_texts(app, "", values))),
        numbered=auto_number_formats(app.spec.form),
    )


def update(
    ctx: ServiceContext,
    *,
    actor: Actor,
    record_id: str,
    values: Mapping[str, object],
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    """Changes some fields of a record: every given key validated as the form says (all
    errors at once); each changed field's old and new value in the timeline and audit."""

    def attempt(conn: Connection) -> tuple[StepWrite, StepOutcome]:
        row, app = _record_for_change(ctx, conn, actor, record_id, locale)
        form = app.spec.form
        changes = validate_edits(
            form, values, editable=form.keys(), current=row.values, source=source, locale=locale
        )
        changes = recomputed_changes(
            ctx, conn, app, row.values, changes, requester_id=row.requester_id, locale=locale
        )
        current: dict[str, Any] = dict(row.values)
        for change in changes:
            if change.new is None:
                current.pop(change.field, None)
            else:
                current[change.field] = change.new
        first, changed, recorded = value_changes(actor.user_id, row, "", changes)
        write = StepWrite(
            ticket_id=record_id,
            at=ctx.clock.now(),
            audit=AuditRecord(
                actor=actor.username,
                action="record.update",
                details={"app": app.spec.key, "changed_fields": changed, "changes": recorded},
            ),
            values=current if changed else None,
            state=row.ticket_state,
            status=RECORD_STATUS,
            status_changed=False,
            finished_at=None,
            expected_version=row.version,
            events=[first] if first else [event("record_saved", actor_id=actor.user_id)],
            search=search_change(app, row.values, current) if changed else None,
        )
        return write, StepOutcome(record_id, RECORD_STATUS, ())

    return raced(ctx, attempt)


def delete(ctx: ServiceContext, *, actor: Actor, record_id: str, locale: str = "en") -> StepOutcome:
    """Deletes a record from the grid: its row stays with status `deleted` (the timeline
    and the audit chain keep what it held and who removed it)."""

    def attempt(conn: Connection) -> tuple[StepWrite, StepOutcome]:
        row, app = _record_for_change(ctx, conn, actor, record_id, locale)
        now = ctx.clock.now()
        write = StepWrite(
            ticket_id=record_id,
            at=now,
            audit=AuditRecord(
                actor=actor.username,
                action="record.delete",
                details={"app": app.spec.key, "fields": sorted(row.values)},
            ),
            values=None,
            state=row.ticket_state,
            status=DELETED_STATUS,
            status_changed=True,
            finished_at=now,
            expected_version=row.version,
            events=[event("record_deleted", actor_id=actor.user_id)],
        )
        return write, StepOutcome(record_id, DELETED_STATUS, ())

    return raced(ctx, attempt)


def _record_for_change(
    ctx: ServiceContext, conn: Connection, actor: Actor, record_id: str, locale: str
) -> tuple[tickets_store.TaskForStep, PublishedApp]:
    """The record as a step reads it: 404 for a missing one, a ticket that is no record
    or one the actor may not read; 403 for a reader who is no editor; 409 once deleted."""
    row = tickets_store.ticket_for_step(conn, record_id)
    if row is None:
        raise NotFound("Record not found", "record_not_found")
    app = ctx.apps.version(conn, row.app_version_id)
    if not app.spec.is_records or not decide(
        actor, "ticket.read", record_facts(app, row.requester_id)
    ):
        raise NotFound("Record not found", "record_not_found")
    check_writer(actor, app, locale)
    if row.ticket_status != RECORD_STATUS:
        raise Conflict("The record was deleted", "record_deleted")
    return row, app


def record_app(ctx: ServiceContext, actor: Actor, app_key: str) -> PublishedApp:
    """The record app whose grid the actor may see; 404 for any other app or reader (an
    app the actor may not list looks like no record app at all)."""
    with ctx.db.read() as conn:
        app = ctx.apps.current(conn, app_key)
    if not may_list(actor, app):
        raise NotFound(f"No record app {app_key!r}", "record_app_not_found")
    return app


def record_list(
    ctx: ServiceContext, actor: Actor, app_key: str, query: ListQuery, *, locale: str = "en"
) -> views.Page[views.TicketSummary]:
    """The grid: the app's live records with the lists' filters, sort, `q=` and cursor."""
    record_app(ctx, actor, app_key)
    query = replace(query, app=app_key, status=RECORD_STATUS)
    return views.ticket_list(ctx, actor, query, scope="app", locale=locale)


def grid_links(
    ctx: ServiceContext,
    app: PublishedApp,
    items: list[views.TicketSummary],
    *,
    locale: str = "en",
) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Each grid row's linked records and roll-ups, read live (ADR 0038), in one snapshot;
    nothing is read for an app without link fields."""
    if not link_values.link_fields(app.spec.form):
        return [({}, {}) for _ in items]
    with ctx.db.read() as conn:
        return [link_values.resolve(ctx, conn, app, item.stored_values, locale) for item in items]


def export(
    ctx: ServiceContext,
    actor: Actor,
    app_key: str,
    query: ListQuery,
    *,
    format: ticket_export.Format = "xlsx",
    locale: str = "en",
) -> ticket_export.Export:
    """The grid (its filters and sort) as XLSX or CSV, the form's fields as typed columns,
    personal numbers masked: the tickets' export of the app's live records."""
    record_app(ctx, actor, app_key)
    query = replace(query, app=app_key, status=RECORD_STATUS)
    return ticket_export.export_tickets(
        ctx, actor, query, scope="app", format=format, locale=locale
    )
