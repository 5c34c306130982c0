"""The values a ticket stores after its form's expressions ran (ADR 0031): defaults,
hidden fields dropped, formulas computed, conditional requiredness, on the server.

The engine (engines/apps/formulas.py) is pure; this module gives it what it may read:
the injected clock (TODAY, NOW), the business calendar (WORKDAYS) and the applicant's
job level and department from the org chart, each looked up only when the form's
expressions use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.apps.applicant import NOBODY_KNOWN, Applicant
from flowdesk.engines.apps.formulas import FormComputer, FormState
from flowdesk.engines.expr import EvalContext
from flowdesk.engines.forms import FieldChange, FieldType, FormSpec, validate_submission
from flowdesk.engines.forms.messages import message
from flowdesk.engines.forms.validate import clean_table, field_of_path
from flowdesk.kernel.errors import ValidationFailed
from flowdesk.services.calendar import calendar_in
from flowdesk.services.context import ServiceContext
from flowdesk.services.link_values import check_links
from flowdesk.services.registry import PublishedApp
from flowdesk.store import org as org_store

Source = Literal["json", "html"]


def _inputs(
    ctx: ServiceContext, conn: Connection, app: PublishedApp | FormComputer, requester_id: str
) -> tuple[EvalContext, Applicant]:
    computer = app if isinstance(app, FormComputer) else app.formulas
    context = EvalContext(
        now=ctx.clock.now(),
        calendar=calendar_in(ctx, conn) if computer.reads_calendar else None,
    )
    applicant = NOBODY_KNOWN
    if computer.reads_applicant:
        level, department = org_store.job_level_and_department(conn, requester_id)
        applicant = Applicant(level, department)
    return context, applicant


def submitted_values(
    ctx: ServiceContext,
    conn: Connection,
    app: PublishedApp,
    raw: Mapping[str, object],
    *,
    source: Source,
    requester_id: str,
    locale: str,
) -> dict[str, object]:
    """A whole form as filed (submit, resubmit): validated, then completed by its
    expressions. One ValidationFailed names every problem at once: the fields' own errors
    (except those of fields hidden now, whose values are dropped anyway) and the visible
    required fields left empty."""
    form = app.spec.form
    try:
        clean = validate_submission(form, raw, source=source, locale=locale)
    except ValidationFailed as exc:
        if not app.formulas.active:
            raise
        valid_so_far = _valid_fields(form, raw, source, locale)
        context, applicant = _inputs(ctx, conn, app, requester_id)
        state = app.formulas.state(
            valid_so_far, context=context, applicant=applicant, locale=locale
        )
        own = [e for e in exc.errors if field_of_path(e.path) not in state.hidden]
        if own:
            failed = {field_of_path(e.path) for e in own}
            errors = own + [e for e in state.errors if e.path not in failed]
            order = {key: index for index, key in enumerate(form.keys())}
            errors.sort(key=lambda e: order.get(field_of_path(e.path), len(order)))
            raise ValidationFailed(message("submission_invalid", locale), errors) from None
        # only hidden fields were wrong: their values are dropped, not judged
        kept = {key: value for key, value in raw.items() if key not in state.hidden}
        clean = validate_submission(form, kept, source=source, locale=locale)
    check_links(ctx, conn, app, clean, locale)  # live records of the linked app (ADR 0038)
    return complete_values(
        ctx, conn, app, clean, requester_id=requester_id, defaults=True, locale=locale
    )


def _valid_fields(
    form: FormSpec, raw: Mapping[str, object], source: Source, locale: str
) -> dict[str, object]:
    """The values among `raw` that are valid on their own, each field judged alone."""
    clean: dict[str, object] = {}
    for field in form.fields:
        if field.key not in raw or field.computed:
            continue
        if field.type is FieldType.TABLE:
            # the rows with their valid cells: a sum shows what was typed well so far
            rows = clean_table(field, raw[field.key], source, locale, [])
            if rows is not None:
                clean[field.key] = rows
            continue
        try:
            clean.update(
                validate_submission(
                    FormSpec((field,)),
                    {field.key: raw[field.key]},
                    source=source,
                    locale=locale,
                    partial=True,
                )
            )
        except ValidationFailed:
            continue
    return clean


def complete_values(
    ctx: ServiceContext,
    conn: Connection,
    app: PublishedApp,
    values: Mapping[str, object],
    *,
    requester_id: str,
    defaults: bool,
    locale: str,
) -> dict[str, object]:
    """`values` (clean, of the whole form) as they are stored; ValidationFailed (422) for
    a visible required field left empty."""
    computer = app.formulas
    if not computer.active:
        return dict(values)
    context, applicant = _inputs(ctx, conn, app, requester_id)
    return computer.complete(
        values, context=context, applicant=applicant, defaults=defaults, locale=locale
    )


def recomputed_changes(
    ctx: ServiceContext,
    conn: Connection,
    app: PublishedApp,
    before: Mapping[str, object],
    changes: tuple[FieldChange, ...],
    *,
    requester_id: str,
    locale: str,
) -> tuple[FieldChange, ...]:
    """An approver's changes plus what they make the formulas and visibility rules change
    (a recomputed formula, a field hidden now), each with its old and new value, so the
    timeline and audit keep them all."""
    check_links(ctx, conn, app, {c.field: c.new for c in changes}, locale)  # ADR 0038
    if not changes or not app.formulas.active:
        return changes
    after = dict(before)
    for change in changes:
        if change.new is None:
            after.pop(change.field, None)
        else:
            after[change.field] = change.new
    final = complete_values(
        ctx, conn, app, after, requester_id=requester_id, defaults=False, locale=locale
    )
    return tuple(
        FieldChange(field.key, field.type, before.get(field.key), final.get(field.key))
        for field in app.spec.form.fields
        if before.get(field.key) != final.get(field.key)
    )


def form_state(
    ctx: ServiceContext,
    actor: Actor,
    app_key: str,
    raw: Mapping[str, object],
    *,
    defaults: bool,
    locale: str,
) -> tuple[PublishedApp, FormState]:
    """The new-ticket form as the server sees it for what was typed so far (HTML source):
    values that are valid so far, defaults (when `defaults`), hidden and required fields,
    computed formulas. For showing the form only; `tickets.submit` decides again."""
    with ctx.db.read() as conn:
        app = ctx.apps.current(conn, app_key)
        clean = _valid_fields(app.spec.form, raw, "html", locale)
        context, applicant = _inputs(ctx, conn, app, actor.user_id)
    state = app.formulas.state(
        clean, context=context, applicant=applicant, defaults=defaults, locale=locale
    )
    return app, state


def draft_state(
    ctx: ServiceContext, actor: Actor, form: FormSpec, raw: Mapping[str, object], *, locale: str
) -> FormState:
    """A form not published yet (the form builder's preview) as `form_state` sees a
    published one, with `actor` as the applicant: what its rules and formulas make of
    what was typed into the preview."""
    computer = FormComputer(form)
    with ctx.db.read() as conn:
        clean = _valid_fields(form, raw, "html", locale)
        context, applicant = _inputs(ctx, conn, computer, actor.user_id)
    return computer.state(clean, context=context, applicant=applicant, locale=locale)
