"""A record app's grid and its record forms (ADR 0038): the table with the lists' search,
filters, sort and "load more"; new, edit and delete for the app's editors. A record's own
page is the ticket page (timeline, attachments), with Edit and Delete for editors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from flowdesk.kernel.errors import ErrorDetail, NotFound, ValidationFailed
from flowdesk.services import apps, links, records, views
from flowdesk.services.auth import WebSession
from flowdesk.services.list_query import parse_list_query
from flowdesk.services.record_access import may_write
from flowdesk.services.registry import PublishedApp
from flowdesk.web.forms import (
    LIST_SUFFIX,
    ValueRow,
    field_views,
    posted_raw,
    posted_values,
    stored_as_raw,
    value_rows,
    with_links,
)
from flowdesk.web.pages.apps import SummaryError
from flowdesk.web.pages.common import checked_id
from flowdesk.web.pages.list_page import fetch_page, list_page, read_query
from flowdesk.web.render import redirect, render, request_locale
from flowdesk.web.session import CSRF_FIELD, CheckedForm, Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 25
MAX_GRID_COLUMNS = 6  # a phone shows each row as a card; a desktop this many columns


@dataclass(frozen=True)
class GridRow:
    id: str
    serial: str
    cells: list[ValueRow]


@router.get("/apps/{key}/records")
def record_grid(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    locale = request_locale(request)
    app = records.record_app(ctx, session.actor, key)
    query, errors = read_query(request, ignore=(), default_sort="created", page_size=PAGE_SIZE)
    for name in ("app", "status", "node", "assignee", "finished_from", "finished_to"):
        if request.query_params.get(name):
            errors.append(ErrorDetail(name, "unknown_parameter", "Not a filter of this table"))
    if query.sort == "waiting":
        errors.append(ErrorDetail("sort", "invalid_sort", "One of: created, updated"))
    page, errors = fetch_page(
        errors, lambda: records.record_list(ctx, session.actor, key, query, locale=locale)
    )
    fields = app.spec.form.fields[:MAX_GRID_COLUMNS]
    items = page.items if page else []
    rows = [
        GridRow(
            item.id,
            item.serial,
            with_links(
                value_rows(app.spec.form, item.stored_values, locale)[:MAX_GRID_COLUMNS],
                linked,
                rolled,
                locale,
            ),
        )
        for item, (linked, rolled) in zip(
            items, records.grid_links(ctx, app, items, locale=locale), strict=True
        )
    ]
    return list_page(
        request,
        session,
        query,
        errors,
        page,
        full="records.html",
        rows="_record_rows.html",
        extra={
            "app": app.spec,
            "app_key": key,
            "columns": [f.label.get(locale) for f in fields],
            "grid_rows": rows,
            "may_write": may_write(session.actor, app),
            "grid": True,
            "base_params": {},
        },
    )


def _form_page(
    request: Request,
    session: WebSession,
    app: PublishedApp,
    *,
    raw: Mapping[str, str],
    errors: list[ErrorDetail] | None = None,
    record: views.TicketView | None = None,
    status: int = 200,
) -> HTMLResponse:
    locale = request_locale(request)
    form = app.spec.form
    by_field: dict[str, str] = {}
    for error in errors or []:
        by_field.setdefault(error.path, error.message)
    labels = {f.key: f.label.get(locale) for f in form.fields}
    return render(
        request,
        "record_form.html",
        {
            "app": app.spec,
            "app_key": app.spec.key,
            "record": record,
            "fields": field_views(form, locale, raw, by_field, {}),
            "errors": [
                SummaryError(e.path if e.path in labels else "", labels.get(e.path, ""), e.message)
                for e in errors or []
            ],
        },
        status=status,
        session=session,
    )


@router.get("/apps/{key}/records/export")
def record_export_file(
    request: Request, ctx: Ctx, session: CurrentSession, key: str, format: str = "xlsx"
) -> Response:
    """The table as shown (the URL's search, filters and sort) as XLSX or CSV."""
    params = {k: v for k, v in request.query_params.items() if k != "format" and v != ""}
    made = records.export(
        ctx,
        session.actor,
        key,
        parse_list_query(params),
        format="csv" if format == "csv" else "xlsx",
        locale=request_locale(request),
    )
    return StreamingResponse(
        made.chunks,
        media_type=made.media_type,
        headers={"Content-Disposition": made.content_disposition},
    )


@router.get("/apps/{key}/records/new")
def new_record_form(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    app = records.record_app(ctx, session.actor, key)
    records.check_writer(session.actor, app, request_locale(request))
    return _form_page(request, session, app, raw={})


@router.post("/apps/{key}/records/new")
def create_record(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, key: str
) -> Response:
    locale = request_locale(request)
    app = records.record_app(ctx, session.actor, key)

    def save(values: dict[str, object]) -> str:
        return records.create(
            ctx, actor=session.actor, app_key=key, values=values, source="html", locale=locale
        ).ticket_id

    return _saved(request, session, app, form, save)


def _saved(
    request: Request,
    session: WebSession,
    app: PublishedApp,
    form: CheckedForm,
    save: Callable[[dict[str, object]], str],
    record: views.TicketView | None = None,
) -> Response:
    """The form's values saved (to the record's page), or the form again with every error."""
    try:
        record_id = save(posted_values(form, frozenset({CSRF_FIELD})))
    except ValidationFailed as exc:
        return _form_page(
            request,
            session,
            app,
            raw=posted_raw(app.spec.form, form),
            errors=exc.errors or [ErrorDetail("", exc.code, exc.message)],
            record=record,
            status=422,
        )
    return redirect(f"/tickets/{record_id}", flash="record_saved")


def _record(
    ctx: Ctx, session: WebSession, record_id: str, locale: str
) -> tuple[views.TicketView, PublishedApp]:
    """The record and its app; 404 for any other ticket, as the service answers."""
    view = views.ticket(ctx, session.actor, checked_id(record_id, "record"), locale=locale)
    if view.published is None or not view.published.spec.is_records:
        raise NotFound("Record not found", "record_not_found")
    return view, view.published


@router.get("/records/{record_id}/edit")
def edit_record_form(
    request: Request, ctx: Ctx, session: CurrentSession, record_id: str
) -> Response:
    locale = request_locale(request)
    view, app = _record(ctx, session, record_id, locale)
    records.check_writer(session.actor, app, locale)
    return _form_page(request, session, app, raw=stored_as_raw(view.form, view.values), record=view)


@router.post("/records/{record_id}/edit")
def edit_record(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, record_id: str
) -> Response:
    locale = request_locale(request)
    view, app = _record(ctx, session, record_id, locale)

    def save(values: dict[str, object]) -> str:
        records.update(
            ctx,
            actor=session.actor,
            record_id=record_id,
            values=values,
            source="html",
            locale=locale,
        )
        return record_id

    return _saved(request, session, app, form, save, view)


@router.post("/records/{record_id}/delete")
def delete_record(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, record_id: str
) -> Response:
    locale = request_locale(request)
    view, _app = _record(ctx, session, record_id, locale)
    records.delete(ctx, actor=session.actor, record_id=record_id, locale=locale)
    return redirect(f"/apps/{view.app_key}/records", flash="record_deleted")


@router.get("/apps/{key}/links/{field}/options")
def link_options(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    key: str,
    field: str,
    q: str = "",
    chosen: str = "",
) -> Response:
    """HTMX: a link field's picker (ADR 0038): the records chosen so far, then what the
    search finds, as radios or boxes named as the form posts them."""
    locale = request_locale(request)
    app = apps.current(ctx, key)
    spec = next((f for f in app.spec.form.fields if f.key == field), None)
    if spec is None:
        raise NotFound(f"No link field {field!r}", "link_field_not_found")
    name = spec.key + LIST_SUFFIX if spec.multiple else spec.key
    given = [i for i in chosen.split(",") if i] + [
        str(v) for v in request.query_params.getlist(name)
    ]
    picked = links.chosen(ctx, session.actor, key, field, given, locale=locale)
    found = links.options(ctx, session.actor, key, field, q, locale=locale)
    ids = {r.id for r in picked}
    return render(
        request,
        "_link_options.html",
        {
            "options": [*picked, *(r for r in found if r.id not in ids)],
            "chosen": ids,
            "name": name,
            "multiple": spec.multiple,
        },
        fragment=True,
        session=session,
    )
