"""退回 (return) and 重新提交 (resubmit) through the services: the engine's ReturnTask and
Resubmit commands, permission-checked, raced like approvals and written as one step.

A return is decided by the holder of an open task: back to the applicant or to a node the
ticket actually passed (the engine checks the target; `return_options` lists the ones it
accepts by asking it). The applicant of a ticket returned to them resubmits it, with the
start form's values checked exactly like a new submission and every change kept, old and
new, in the timeline and the audit like an approver's edits. Each call is one
transaction and the ticket's version decides races, exactly as `tickets.complete_task`:
a return and an approval of the same task racing each other, one wins and the other is a
409 `task_not_open`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.apps import start_locked
from flowdesk.engines.forms import (
    FieldChange,
    auto_numbers,
    clean_comment,
    restore_masked,
)
from flowdesk.engines.process import (
    Resubmit,
    ResubmitMode,
    ReturnTask,
    step,
)
from flowdesk.kernel.errors import (
    Conflict,
    ErrorDetail,
    FlowdeskError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.services import attachments as attachments_service
from flowdesk.services import field_files, views
from flowdesk.services.context import ServiceContext
from flowdesk.services.form_values import submitted_values
from flowdesk.services.registry import PublishedApp
from flowdesk.services.task_steps import (
    StepOutcome,
    may_read,
    open_task_row,
    raced,
    step_context,
    task_step,
    value_changes,
)
from flowdesk.services.tickets import MAX_COMMENT, Source, refuse_start_locked, search_change
from flowdesk.store import tickets as tickets_store
from flowdesk.store.steps import AuditRecord, StepWrite

APPLICANT = "applicant"  # the return target that sends a ticket back to who filed it
RETURNED_NOTICE = "ticket_returned"  # to the holders of the tasks a return opens
RESUBMIT_MODES: tuple[ResubmitMode, ...] = ("rerun", "straight_back")


@dataclass(frozen=True)
class ReturnTarget:
    target: str  # APPLICANT or a node id
    name: dict[str, str]  # en, zh


@dataclass(frozen=True)
class ReturnOptions:
    """Where the holder of `task_id` may return it, and how the ticket comes back:
    `resubmit` is the node's setting (rerun, straight_back or returner_chooses)."""

    task_id: str
    targets: tuple[ReturnTarget, ...]
    resubmit: str

    @property
    def returner_chooses(self) -> bool:
        return self.resubmit == "returner_chooses"


def _names(app: PublishedApp, node_id: str) -> dict[str, str]:
    node = app.spec.process.nodes[node_id]
    return {"en": node.label("en"), "zh": node.label("zh")}


def _applicant_names() -> dict[str, str]:
    return {"en": "Applicant", "zh": "申请人"}


def return_options(ctx: ServiceContext, actor: Actor, task_id: str) -> ReturnOptions:
    """The targets the engine accepts for a return of this open task by `actor`: the
    applicant and the passed nodes, in the order the ticket passed them, less those the
    engine refuses (the current node, one on another parallel branch, one that would
    strand a branch). Asking the engine itself keeps one definition of what is valid."""
    with ctx.db.read() as conn:
        row, state = open_task_row(conn, actor, task_id)
        app = ctx.apps.version(conn, row.app_version_id)
        task = state.tasks.get(task_id)
        if task is None or actor.user_id not in task.assignees:
            raise Forbidden("Only the task's assignees can return it", "not_assignee")
        process = app.spec.process
        if task.node_id == process.index.start.id:
            raise Conflict("The ticket is already with its applicant", "ticket_returned")
        if task.node_id not in process.nodes:  # a revocation task (ADR 0042): no return
            return ReturnOptions(task_id, (), "rerun")
        step_ctx = step_context(ctx, conn, app, row)
        targets = []
        for candidate in (None, *state.passed):
            try:
                step(
                    process,
                    state,
                    ReturnTask(task_id, actor.user_id, candidate, values=row.values),
                    step_ctx,
                )
            except FlowdeskError:
                continue
            if candidate is None:
                targets.append(ReturnTarget(APPLICANT, _applicant_names()))
            else:
                targets.append(ReturnTarget(candidate, _names(app, candidate)))
        return ReturnOptions(task_id, tuple(targets), process.nodes[task.node_id].resubmit)


def return_task(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    target: str,
    comment: str,
    resubmit: str | None = None,
    locale: str = "en",
    attachments: Sequence[str] = (),
) -> StepOutcome:
    """退回 open task `task_id` to `target` (APPLICANT or a node id), with a reason and
    optionally attachments (the actor's own unlinked uploads, ADR 0028)."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale, required=True)
    if not isinstance(target, str) or not target:
        raise ValidationFailed(
            "Choose where to return the ticket: the applicant or a step it passed",
            [ErrorDetail("target", "required", "The return target is required")],
            code="return_target_required",
        )
    if resubmit is not None and resubmit not in RESUBMIT_MODES:
        raise ValidationFailed(
            "resubmit is rerun or straight_back",
            [ErrorDetail("resubmit", "invalid_choice", "Choose rerun or straight_back")],
            code="invalid_resubmit",
        )
    mode: ResubmitMode | None = resubmit  # checked against RESUBMIT_MODES above
    return raced(
        ctx,
        lambda conn: _return_once(
            ctx, conn, actor, task_id, target, comment, mode, attachments, locale
        ),
    )


def _return_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    task_id: str,
    target: str,
    comment: str,
    mode: ResubmitMode | None,
    attachments: Sequence[str] = (),
    locale: str = "en",
) -> tuple[StepWrite, StepOutcome]:
    row, state = open_task_row(conn, actor, task_id)
    app = ctx.apps.version(conn, row.app_version_id)
    to = None if target == APPLICANT else target
    result = step(
        app.spec.process,
        state,
        ReturnTask(task_id, actor.user_id, to, comment, mode, values=row.values),
        step_context(ctx, conn, app, row),
    )
    to_name = _applicant_names() if to is None else _names(app, to)
    chosen = next((a.resubmit for a in result.state.activations.values() if a.returned_from), "")
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.return",
            details={"task": task_id, "node": row.node_id, "to": target, "resubmit": chosen},
        ),
    )
    for event in write.events:
        if event["kind"] == "task_returned":  # where it went, for the timeline
            event["data"] = {"to": target, "to_name": to_name, "resubmit": chosen}
    for notice in write.notices:
        if notice["kind"] == "task_assigned":  # "returned to you", not a new task
            notice["kind"] = RETURNED_NOTICE
    carried = attachments_service.unlinked_of(ctx, conn, actor, attachments, locale)
    attachments_service.attach_to_step(
        write, actor_id=actor.user_id, task_id=task_id, action="return", carried=carried
    )
    return write, outcome


def returned_task_id(actor: Actor, view: views.TicketView) -> str | None:
    """The applicant's open task of a ticket returned to them, if `actor` is that applicant
    (from the ticket as the page read it: no second read)."""
    if view.requester.id != actor.user_id or view.published is None:
        return None
    start_id = view.published.spec.process.index.start.id
    return next((t.id for t in view.open_tasks if t.node_id == start_id), None)


def resubmit(
    ctx: ServiceContext,
    *,
    actor: Actor,
    ticket_id: str,
    values: Mapping[str, object] | None = None,
    comment: str = "",
    source: Source = "json",
    locale: str = "en",
) -> StepOutcome:
    """The applicant resubmits a ticket returned to them, with its start form's values
    (None: as they are; from the API, the changed fields; from the web form, all of them).
    The values that result are checked exactly like a new submission's."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(
        ctx,
        lambda conn: _resubmit_once(ctx, conn, actor, ticket_id, values, comment, source, locale),
    )


def _resubmit_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    ticket_id: str,
    values: Mapping[str, object] | None,
    comment: str,
    source: Source,
    locale: str,
) -> tuple[StepWrite, StepOutcome]:
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    if ticket is None or not may_read(actor, conn, ticket.id, ticket.requester_id):
        raise NotFound("Ticket not found", "ticket_not_found")
    if ticket.requester_id != actor.user_id:
        raise Forbidden("Only the applicant resubmits a ticket", "not_applicant")
    if ticket.status != "running":
        raise Conflict(
            "The ticket has finished; there is nothing to resubmit", "ticket_not_running"
        )
    task_id = _start_task(ctx, conn, ticket_id)
    if task_id is None:
        raise Conflict(
            "The ticket is not returned to you; it can be resubmitted only after a return",
            "not_returned",
        )
    row, state = open_task_row(conn, actor, task_id)
    app = ctx.apps.version(conn, row.app_version_id)
    current: dict[str, Any] = dict(row.values)
    files: field_files.Carried = {}
    if values is None:
        clean = current
    else:
        # A web form posts the whole start form, as a new ticket does (an unticked box
        # posts nothing); an API client sends only the fields it changes.
        # formula fields are the server's to compute (ADR 0031): never sent back
        computed = {f.key for f in app.spec.form.fields if f.computed}
        kept = {key: value for key, value in current.items() if key not in computed}
        # the start form's hidden and read-only fields (ADR 0037) are not the applicant's
        # to change: refused when sent, kept as they are when the web form leaves them out
        refuse_start_locked(app, values, locale)
        locked = start_locked(app.spec.process)
        given = (
            {**{k: v for k, v in kept.items() if k in locked}, **values}
            if source == "html"
            else {**kept, **values}
        )
        # the form showed personal numbers masked: sent back as shown, they stay as stored
        given = restore_masked(app.spec.form, given, current)
        clean = submitted_values(
            ctx, conn, app, given, source=source, requester_id=row.requester_id, locale=locale
        )
        # attachment fields (ADR 0037): files added now are the applicant's own uploads
        files = field_files.carried_files(
            ctx, conn, actor, app.spec.form, clean, before=current, locale=locale
        )

    # an auto-number was given when the ticket was filed (ADR 0038): it stays
    clean = {**clean, **auto_numbers(app.spec.form, current)}
    changes = _changes(app, current, clean)
    if not app.spec.edit_on_resubmit:
        _refuse_edits(app, changes, locale)
    first_event, changed, recorded = value_changes(actor.user_id, row, task_id, changes)
    result = step(
        app.spec.process,
        state,
        Resubmit(task_id, actor.user_id, comment, values=clean),
        step_context(ctx, conn, app, row),
    )
    write, outcome = task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="ticket.resubmit",
            details={"task": task_id, "changed_fields": changed, "changes": recorded},
        ),
        first_event=first_event,
        values=clean if changed else None,
        search=search_change(app, row.values, clean) if changed else None,
    )
    write.attachments = [*write.attachments, *field_files.step_links(files, "resubmit")]
    return write, outcome


def _start_task(ctx: ServiceContext, conn: Connection, ticket_id: str) -> str | None:
    """The open task at the start node (a ticket returned to its applicant), if any."""
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    assert ticket is not None
    start_id = ctx.apps.version(conn, ticket.app_version_id).spec.process.index.start.id
    for task in tickets_store.tasks_of_ticket(conn, ticket_id):
        if task.state == "open" and task.node_id == start_id:
            return str(task.id)
    return None


def _refuse_edits(app: PublishedApp, changes: tuple[FieldChange, ...], locale: str) -> None:
    """An app with `edit_on_resubmit: false` takes a ticket back only as it was filed: a
    change to any field but a computed one's (formulas, auto-numbers: the server's) is 422
    `resubmit_edits_not_allowed`, naming each field (ADR 0034)."""
    computed = {f.key for f in app.spec.form.fields if f.computed}
    edited = [change.field for change in changes if change.field not in computed]
    if edited:
        zh = locale.lower().startswith("zh")
        raise ValidationFailed(
            "此应用重新提交时不能修改内容"
            if zh
            else "This app does not allow changes when a ticket is resubmitted",
            [
                ErrorDetail(
                    key,
                    "field_not_editable",
                    "重新提交时不能修改该字段"
                    if zh
                    else "This field cannot be changed on resubmit",
                )
                for key in edited
            ],
            code="resubmit_edits_not_allowed",
        )


def _changes(
    app: PublishedApp, before: Mapping[str, object], after: Mapping[str, object]
) -> tuple[FieldChange, ...]:
    """Each form field whose stored value the resubmission changes, in form order."""
    return tuple(
        FieldChange(f.key, f.type, before.get(f.key), after.get(f.key))
        for f in app.spec.form.fields
        if before.get(f.key) != after.get(f.key)
    )
