"""REST API v1: a record app's records (ADR 0038). A record is a ticket of an app without
a process, so `GET /tickets/{id}` reads one (TicketOut); these routes list the grid and
create, edit and delete. Handlers call services only and write their answers with
`answer` (ADR 0018)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.query_models import query_model, query_parameters
from flowdesk.api.routes import linked_record, ticket_body
from flowdesk.api.schemas import LinkedRecordOut, PersonOut, SubmitTicket, TicketOut, list_text
from flowdesk.engines.forms import masked_values
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services import links, records, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.services.spreadsheets import XLSX_MEDIA_TYPE

router = APIRouter(generate_unique_id_function=operation_id)
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": DESCRIPTIONS[409]}}
# The lists' vocabulary a grid takes (services/list_query.py); the app is the path's.
GRID_PARAMS = (
    "q",
    "requester",
    "department",
    "created_from",
    "created_to",
    "sort",
    "order",
    "cursor",
    "limit",
)


class RecordListParams(BaseModel):
    q: str | None = list_text(
        "Search the serial (or its start, e.g. CUS-2026), the title and the text fields"
    )
    requester: str | None = list_text("Created by this person: me or a username")
    department: str | None = list_text("Created from this department (its code)")
    created_from: str | None = list_text("Created on or after this day (YYYY-MM-DD, China time)")
    created_to: str | None = list_text("Created on or before this day (YYYY-MM-DD, China time)")
    sort: str | None = list_text("created or updated")
    order: str | None = list_text("desc (the default: newest first) or asc")
    cursor: str | None = list_text("The next_cursor of the previous page")
    limit: str | None = list_text("Rows per page, 1 to 100 (default 50)")


class RecordRow(BaseModel):
    id: str
    serial: str
    title: str
    values: dict[str, Any] = Field(description="The record's fields (personal numbers masked)")
    created_by: PersonOut
    created_at: datetime
    updated_at: datetime


class RecordPage(BaseModel):
    items: list[RecordRow]
    next_cursor: str | None


class RecordEdit(BaseModel):
    model_config = SubmitTicket.model_config
    values: dict[str, Any] = Field(
        description="The fields to change (others stay); null or blank clears an optional one"
    )


Sort = Literal["created", "updated"]


def grid_query(request: Request, own: tuple[str, ...] = ()) -> Any:
    """The grid's parameters read once, as every list reads them: unknown, repeated and
    bad ones refused together (422 `invalid_query`); `own` are the route's own ones."""
    params = request.query_params
    errors = [
        ErrorDetail(k, "repeated_parameter", "Give this parameter once")
        for k in sorted({k for k in params if len(params.getlist(k)) > 1})
    ]
    errors += [
        ErrorDetail(k, "unknown_parameter", f"Unknown parameter '{k}'")
        for k in params
        if k not in GRID_PARAMS and k not in own
    ]
    if params.get("sort") == "waiting":
        errors.append(ErrorDetail("sort", "invalid_sort", "One of: created, updated"))
    if errors:
        raise ValidationFailed("The list's parameters are invalid", errors, code="invalid_query")
    return parse_list_query({k: v for k, v in params.items() if k not in own}, default_limit=50)


def page_body(page: views.Page[views.TicketSummary]) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": t.id,
                "serial": t.serial,
                "title": t.subject,
                "values": masked_values(t.published.spec.form, t.stored_values)
                if t.published is not None
                else {},
                "created_by": {"id": t.requester_id, "name": t.requester.name}
                if t.requester is not None
                else {"id": t.requester_id, "name": ""},
                "created_at": t.created_at,
                "updated_at": t.updated_at,
            }
            for t in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/apps/{key}/records",
    response_model=RecordPage,
    tags=["records"],
    openapi_extra=query_parameters(RecordListParams),
)
def list_records(
    key: str,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    params: Annotated[RecordListParams, Depends(query_model(RecordListParams))],
) -> Response:
    """The record app's grid: its records (deleted ones left out) with the lists' search
    (`q=`), filters, sort (created or updated) and cursor paging. The app's readers and
    editors, administrators and auditors; anyone else, and an app that is no record app,
    404 `record_app_not_found`."""
    del params  # read whole by grid_query, as every list does
    query = grid_query(request)
    page = records.record_list(ctx, actor, key, query, locale=request_locale(request))
    return answer(page_body(page))


class RecordExportParams(RecordListParams):
    format: Literal["xlsx", "csv"] = Field(default="xlsx", description="xlsx or csv")


@router.get(
    "/apps/{key}/records/export",
    tags=["records"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The grid as a spreadsheet",
            "content": {
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
    openapi_extra=query_parameters(RecordExportParams),
)
def export_records(
    key: str,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    params: Annotated[RecordExportParams, Depends(query_model(RecordExportParams))],
) -> Response:
    """The grid (`GET /apps/{key}/records`'s filters, sort and permission) as an XLSX or
    CSV file: the form's fields as typed columns, personal numbers masked; at most
    100,000 rows (more is a 422 `export_too_large`)."""
    query = grid_query(request, own=("format",))
    made = records.export(
        ctx, actor, key, query, format=params.format, locale=request_locale(request)
    )
    return StreamingResponse(
        made.chunks,
        media_type=made.media_type,
        headers={"Content-Disposition": made.content_disposition},
    )


@router.post(
    "/apps/{key}/records",
    response_model=TicketOut,
    status_code=201,
    tags=["records"],
    openapi_extra=body.openapi_body(SubmitTicket),
)
async def create_record(key: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Create a record: the values are validated as a ticket's (all errors at once, 422);
    the app's editors only (403 `record_write_forbidden`). The answer is the record as
    `GET /tickets/{id}` shows it: serial, values, timeline."""
    data = await body.parse(request, SubmitTicket)
    locale = request_locale(request)
    outcome = await run_in_threadpool(
        records.create, ctx, actor=actor, app_key=key, values=data.values, locale=locale
    )
    made = await run_in_threadpool(ticket_body, ctx, actor, outcome.ticket_id, locale)
    return answer(made, status_code=201)


@router.patch(
    "/records/{record_id}",
    response_model=TicketOut,
    tags=["records"],
    openapi_extra=body.openapi_body(RecordEdit),
    responses=_CONFLICT,
)
async def edit_record(record_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Change some fields of a record: each given field validated (all errors at once,
    nothing written); the timeline and the audit keep each change's old and new value.
    Editors only (403 `record_write_forbidden`); a deleted record 409 `record_deleted`."""
    data = await body.parse(request, RecordEdit)
    locale = request_locale(request)
    await run_in_threadpool(
        records.update, ctx, actor=actor, record_id=record_id, values=data.values, locale=locale
    )
    return answer(await run_in_threadpool(ticket_body, ctx, actor, record_id, locale))


@router.delete("/records/{record_id}", status_code=204, tags=["records"], responses=_CONFLICT)
def delete_record(record_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Delete a record from the grid. Its row stays with status `deleted`, so its timeline
    and audit entries keep what it held and who deleted it; deleting it again 409
    `record_deleted`."""
    records.delete(ctx, actor=actor, record_id=record_id, locale=request_locale(request))
    return Response(status_code=204)


@router.get(
    "/apps/{key}/links/{field}",
    response_model=list[LinkedRecordOut],
    tags=["records"],
)
def link_options(
    key: str,
    field: str,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """What the link field `field` of app `key` may hold (ADR 0038): the linked app's live
    records or tickets the caller may see, matching `q` (the lists' search; empty: the
    newest), at most 20, each with the field's look-ups. Pick one and send its id as the
    field's value (a list of ids for a field with `multiple`)."""
    found = links.options(ctx, actor, key, field, q, locale=request_locale(request))
    return answer([linked_record(r) for r in found])
