"""The app catalogue and the new-ticket form generated from an app's FormSpec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from flowdesk.engines.apps import start_locks
from flowdesk.engines.forms import FieldType, FormSpec, validate_submission
from flowdesk.engines.forms.regions import search_divisions
from flowdesk.kernel.errors import ErrorDetail, NotFound, ValidationFailed
from flowdesk.services import apps, form_values, tickets
from flowdesk.services.auth import WebSession
from flowdesk.services.record_access import may_list
from flowdesk.web.forms import capitals_for, field_views, posted_raw, posted_values
from flowdesk.web.i18n import Locale
from flowdesk.web.render import redirect, render, request_locale
from flowdesk.web.session import CSRF_FIELD, CheckedForm, Ctx, CurrentSession
from flowdesk.web.table_names import error_labels, grouped_rows, with_row_action
from flowdesk.web.uploads import field_uploads

router = APIRouter()
MAX_PREVIEW_INPUT = 64
# what a sub-table's add and remove buttons post to the fields round trip
ROW_ACTION = "_row_action"


@dataclass(frozen=True)
class AppCard:
    key: str
    name: Mapping[str, str]
    description: str
    category: str | None
    version: int
    field_count: int
    is_records: bool = False  # a record app (ADR 0038): its card opens the table


@dataclass(frozen=True)
class SummaryError:
    key: str
    label: str
    message: str


@router.get("/apps")
def app_list(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    locale = request_locale(request)
    cards = []
    for summary in apps.list_apps(ctx):
        published = apps.current(ctx, summary.key)
        spec = published.spec
        if spec.is_records and not may_list(session.actor, published):
            continue  # a table the person may not open (ADR 0038)
        cards.append(
            AppCard(
                summary.key,
                summary.name,
                spec.description.get(locale) if spec.description else "",
                summary.category,
                summary.version,
                len(spec.form.fields),
                spec.is_records,
            )
        )
    return render(request, "apps.html", {"cards": cards}, session=session)


def _raw_values(form: FormSpec, data: FormData) -> dict[str, str]:
    """What the person typed, as text, for showing the form again (files are ignored)."""
    return posted_raw(form, data)


def _submission(data: FormData) -> dict[str, object]:
    """Every posted field except the CSRF token: the engine judges the rest."""
    return posted_values(data, frozenset({CSRF_FIELD, ROW_ACTION}))


def _new_ticket_page(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    key: str,
    *,
    raw: Mapping[str, str] | None = None,
    errors: list[ErrorDetail] | None = None,
    status: int = 200,
) -> HTMLResponse:
    locale = request_locale(request)
    published, state = form_values.form_state(
        ctx, session.actor, key, grouped_rows(raw or {}), defaults=raw is None, locale=locale
    )
    form = published.spec.form
    # an attachment field's file errors name the file (`licence[1]`): shown at the field
    attachments = {f.key for f in form.fields if f.type is FieldType.ATTACHMENT}
    errors = [
        replace(e, path=e.path.split("[", 1)[0]) if e.path.split("[", 1)[0] in attachments else e
        for e in errors or []
    ]
    by_field: dict[str, str] = {}
    for error in errors:
        by_field.setdefault(error.path, error.message)
    clean = _clean_subset(form, raw or {}, by_field, locale)
    locks = start_locks(published.spec.process)
    fields = field_views(form, locale, raw, by_field, clean, state, locks)
    labels = error_labels(form, [e.path for e in errors], locale)
    # a field the start hides has no input to link to; a sub-table's cell links to its cell
    shown = {f.key for f in fields}
    summary = [
        SummaryError(
            e.path if e.path in labels and e.path.split("[", 1)[0] in shown else "",
            labels.get(e.path, ""),
            e.message,
        )
        for e in errors
    ]
    return render(
        request,
        "new_ticket.html",
        {
            "app": published.spec,
            "app_key": key,
            "fields": fields,
            "errors": summary,
            "live_fields": published.formulas.active,
        },
        status=status,
        session=session,
    )


def _clean_subset(
    form: FormSpec, raw: Mapping[str, str], errors: Mapping[str, str], locale: Locale
) -> dict[str, object]:
    """The valid money values among what was typed, so their 大写 shows again."""
    money = {
        f.key: raw[f.key]
        for f in form.fields
        if f.type is FieldType.MONEY and f.key in raw and f.key not in errors
    }
    if not money:
        return {}
    try:
        return validate_submission(form, money, source="html", locale=locale, partial=True)
    except ValidationFailed:
        return {}


@router.get("/apps/{key}/new")
def new_ticket_form(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    return _new_ticket_page(request, ctx, session, key)


@router.post("/apps/{key}/new/fields")
def new_ticket_fields(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, key: str
) -> Response:
    """HTMX: the form's fields again for what was typed so far, shown, hidden, required and
    computed as the server's expressions say (ADR 0031); the submit decides again."""
    locale = request_locale(request)
    published = apps.current(ctx, key)
    raw = _raw_values(published.spec.form, form)
    action = form.get(ROW_ACTION)
    if isinstance(action, str):  # a sub-table's add / remove buttons (ADR 0036)
        raw = with_row_action(published.spec.form, raw, action)
    _app, state = form_values.form_state(
        ctx, session.actor, key, grouped_rows(raw), defaults=False, locale=locale
    )
    return render(
        request,
        "_live_fields.html",
        {
            "fields": field_views(
                published.spec.form,
                locale,
                raw,
                {},
                {},
                state,
                start_locks(published.spec.process),
            ),
            "app_key": key,
            "live_fields": True,
        },
        fragment=True,
        session=session,
    )


@router.post("/apps/{key}/new")
def submit_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, key: str
) -> Response:
    locale = request_locale(request)
    try:
        values = _submission(form)
        field_uploads(ctx, session, apps.current(ctx, key).spec.form, form, values, locale)
        outcome = tickets.submit(
            ctx,
            actor=session.actor,
            app_key=key,
            values=values,
            source="html",
            locale=locale,
        )
    except ValidationFailed as exc:
        published = apps.current(ctx, key)
        return _new_ticket_page(
            request,
            ctx,
            session,
            key,
            raw=_raw_values(published.spec.form, form),
            errors=exc.errors or [ErrorDetail("", exc.code, exc.message)],
            status=422,
        )
    return redirect(f"/tickets/{outcome.ticket_id}", flash="submitted")


@router.get("/regions")
def region_options(request: Request, session: CurrentSession, field: str = "") -> Response:
    """HTMX: the divisions matching what a region field holds so far (its name or code),
    as `<option>`s of the field's datalist."""
    typed = request.query_params.get(field, "")[:MAX_PREVIEW_INPUT] if field else ""
    return render(
        request,
        "_region_options.html",
        {"hits": search_divisions(typed)},
        fragment=True,
        session=session,
    )


@router.get("/apps/{key}/capitals")
def capitals_preview(
    request: Request, ctx: Ctx, session: CurrentSession, key: str, field: str = ""
) -> Response:
    """HTMX: the amount typed so far in Chinese capitals, or why it is not a valid amount."""
    locale = request_locale(request)
    spec = apps.current(ctx, key).spec
    try:
        field_spec = spec.form.field(field)
    except KeyError:
        raise NotFound("Field not found", "field_not_found") from None
    typed = request.query_params.get(field, "")[:MAX_PREVIEW_INPUT]
    capitals = ""
    error = ""
    if typed.strip():
        try:
            clean = validate_submission(
                spec.form, {field: typed}, source="html", locale=locale, partial=True
            )
            capitals = capitals_for(field_spec, clean.get(field))
        except ValidationFailed as exc:
            error = exc.errors[0].message if exc.errors else exc.message
    return render(
        request,
        "_capitals.html",
        {"capitals": capitals, "error": error, "key": field},
        fragment=True,
        session=session,
    )
