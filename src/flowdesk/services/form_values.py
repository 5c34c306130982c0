"""The values a ticket stores after its form's expressions ran (ADR 0031): defaults,
hidden fields dropped, formulas computed, conditional requiredness, on the server.

The engine (engines/apps/formulas.py) is pure; this module gives it what it may read:
the injected clock (TODAY, NOW), the business calendar (WORKDAYS) and the applicant's
job level and department from the org chart, each looked up only when the form's
expressions use it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.apps.applicant import NOBODY_KNOWN, Applicant
from flowdesk.engines.apps.formulas import FormState
from flowdesk.engines.expr import EvalContext
from flowdesk.engines.forms import FieldChange, FieldType, FormSpec, validate_submission
from flowdesk.kernel.errors import ValidationFailed
from flowdesk.services.calendar import calendar_in
from flowdesk.services.context import ServiceContext
from flowdesk.services.registry import PublishedApp
from flowdesk.store import org as org_store


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
    context = EvalContext(
        now=ctx.clock.now(),
        calendar=calendar_in(ctx, conn) if computer.reads_calendar else None,
    )
    applicant = NOBODY_KNOWN
    if computer.reads_applicant:
        level, department = org_store.job_level_and_department(conn, requester_id)
        applicant = Applicant(level, department)
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
        form = app.spec.form
        clean: dict[str, object] = {}
        for field in form.fields:
            if field.key not in raw or field.type is FieldType.FORMULA:
                continue
            try:
                clean.update(
                    validate_submission(
                        FormSpec((field,)),
                        {field.key: raw[field.key]},
                        source="html",
                        locale=locale,
                        partial=True,
                    )
                )
            except ValidationFailed:
                continue  # not valid yet: the submit will say why
        computer = app.formulas
        context = EvalContext(
            now=ctx.clock.now(),
            calendar=calendar_in(ctx, conn) if computer.reads_calendar else None,
        )
        applicant = NOBODY_KNOWN
        if computer.reads_applicant:
            level, department = org_store.job_level_and_department(conn, actor.user_id)
            applicant = Applicant(level, department)
    state = computer.state(
        clean, context=context, applicant=applicant, defaults=defaults, locale=locale
    )
    return app, state
