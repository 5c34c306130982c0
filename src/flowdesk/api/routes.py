"""REST API v1: apps, tickets, tasks, notifications and tokens. Handlers call services only."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from flowdesk import __version__
from flowdesk.api import body
from flowdesk.api.answers import answer, step_answer
from flowdesk.api.deps import (
    Ctx,
    CurrentActor,
    Cursor,
    Limit,
    PresentedToken,
    operation_id,
    request_locale,
)
from flowdesk.api.query_models import query_model, query_parameters
from flowdesk.api.schemas import (
    AppDetailOut,
    AppOut,
    IndexOut,
    ListParams,
    MarkedOut,
    MarkRead,
    MeOut,
    NotificationPage,
    StepOut,
    SubmitTicket,
    TaskAction,
    TaskListParams,
    TaskOut,
    TaskPage,
    TicketExportParams,
    TicketImportOut,
    TicketListParams,
    TicketOut,
    TicketPage,
    TokenRequest,
    TokenResponse,
)
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services import (
    apps,
    auth,
    notifications,
    org,
    ticket_export,
    ticket_import,
    tickets,
    views,
)
from flowdesk.services.list_query import ListQuery, Sort, parse_list_query
from flowdesk.services.spreadsheets import XLSX_MEDIA_TYPE

# Operation ids are the handlers' names in camelCase (listTasks, approveTask).
router = APIRouter(generate_unique_id_function=operation_id)


def _locale(request: Request) -> str:
    """Titles and error messages follow Accept-Language: zh… is Chinese, else English."""
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


# The mappers build each answer as plain data in its response model's field order, and
# the routes return it with `answer` (api/answers.py, ADR 0018).
def _person(person: views.Person | None) -> dict[str, str] | None:
    return {"id": person.id, "name": person.name} if person else None


def _summary(items: tuple[views.SummaryItem, ...]) -> list[dict[str, Any]]:
    return [{"key": i.key, "label": i.label, "value": i.value, "text": i.text} for i in items]


def _task(task: views.TaskView) -> dict[str, Any]:
    return {
        "id": task.id,
        "ticket_id": task.ticket_id,
        "serial": task.ticket_serial,
        "node_id": task.node_id,
        "name": task.name,
        "state": task.state,
        "assignees": [{"id": p.id, "name": p.name} for p in task.assignees],
        "created_at": task.created_at,
        "completed_at": task.completed_at,
        "completed_by": _person(task.completed_by),
        "comment": task.comment,
        "ticket_title": task.ticket_title or None,
        "ticket_subject": task.ticket_subject or None,
        "ticket_status": task.ticket_status or None,
        "summary": _summary(task.summary),
        "waiting": task.waiting,
        "delegated_by": _person(task.delegated_by),
        "delegated_to": _person(task.delegated_to),
        "decided_values": task.decided_values,
    }


@router.get("/", response_model=IndexOut, tags=["index"])
def get_index() -> Response:
    """Where to start: the API's main collections, as links (no login needed)."""
    links = {
        "openapi": ("/api/v1/openapi.json", "This API's OpenAPI document"),
        "docs": ("/api/v1/docs", "The API's reference, to read and try"),
        "token": ("/api/v1/auth/token", "POST a username and password for a token"),
        "me": ("/api/v1/me", "Who the token belongs to"),
        "apps": ("/api/v1/apps", "The apps tickets can be filed in"),
        "tickets": ("/api/v1/tickets", "Tickets, filtered, sorted, searched (q=)"),
        "tasks": ("/api/v1/tasks?assignee=me&state=open", "My open tasks (待办)"),
        "done_tasks": ("/api/v1/tasks?assignee=me&state=done", "Tasks I decided (已办)"),
        "notifications": ("/api/v1/notifications", "My notifications"),
    }
    return answer(
        {
            "name": "flowdesk API",
            "version": __version__,
            "links": {k: {"href": href, "title": title} for k, (href, title) in links.items()},
        }
    )


def _list_query(request: Request, params: ListParams, *, default_sort: Sort) -> ListQuery:
    """The list vocabulary read once from the raw query (services/list_query.py): every
    parameter checked together, unknown and repeated ones refused. The route's own
    parameters (scope, state…: those of its model beyond ListParams) are not list ones."""
    query_params = request.query_params
    repeated = sorted({k for k in query_params if len(query_params.getlist(k)) > 1})
    if repeated:
        raise ValidationFailed(
            "The list's parameters are invalid",
            [ErrorDetail(k, "repeated_parameter", "Give this parameter once") for k in repeated],
            code="invalid_query",
        )
    own = type(params).model_fields.keys() - ListParams.model_fields.keys()
    given = {k: v for k, v in query_params.items() if k not in own}
    return parse_list_query(given, default_sort=default_sort, default_limit=50)


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    tags=["auth"],
    openapi_extra=body.openapi_body(TokenRequest),
)
async def issue_token(request: Request, ctx: Ctx) -> Response:
    """Exchange a username and password for a personal API token (shown once)."""
    data = await body.parse(request, TokenRequest)
    peer = request.client.host if request.client else None
    client = auth.client_address(ctx.auth, peer, request.headers.getlist("x-forwarded-for"))
    actor = await auth.authenticate_off_request_threads(
        ctx, username=data.username, password=data.password, client=client
    )
    token = await run_in_threadpool(auth.create_token, ctx, actor, name=data.name)
    return answer({"token": token, "token_type": "bearer"})


@router.delete("/auth/token", status_code=204, tags=["auth"])
def revoke_token(actor: CurrentActor, token: PresentedToken, ctx: Ctx) -> Response:
    """Revoke the token this request is made with; it stops working at once."""
    auth.revoke_token(ctx, actor, token)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, tags=["auth"])
def get_me(actor: CurrentActor, ctx: Ctx) -> Response:
    return answer(
        {
            "id": actor.user_id,
            "username": actor.username,
            "display_name": actor.display_name,
            "is_admin": actor.is_admin,
            "roles": sorted(actor.roles),
            "open_tasks": views.count_my_tasks(ctx, actor),
        }
    )


@router.get("/apps", response_model=list[AppOut], tags=["apps"])
def list_apps(actor: CurrentActor, ctx: Ctx) -> Response:
    return answer(
        [
            {"key": a.key, "name": a.name, "category": a.category, "version": a.version}
            for a in apps.list_apps(ctx)
        ]
    )


@router.get("/apps/{key}", response_model=AppDetailOut, tags=["apps"])
def get_app(key: str, actor: CurrentActor, ctx: Ctx) -> Response:
    published = apps.current(ctx, key)
    spec = published.spec
    return answer(
        {
            "key": spec.key,
            "name": {"en": spec.name.en, "zh": spec.name.zh},
            "category": spec.category,
            "version": published.version,
            "fields": [
                {
                    "key": f.key,
                    "type": f.type,
                    "label": {"en": f.label.en, "zh": f.label.zh},
                    "required": f.required,
                }
                for f in spec.form.fields
            ],
            "nodes": []
            if spec.is_records
            else [node.to_dict() for node in spec.process.nodes.values()],
            "records": None
            if spec.records is None
            else {"editors": list(spec.records.editors), "readers": list(spec.records.readers)},
        }
    )


@router.post(
    "/apps/{key}/tickets",
    response_model=TicketOut,
    status_code=201,
    tags=["tickets"],
    openapi_extra=body.openapi_body(SubmitTicket),
)
async def submit_ticket(key: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """File a ticket: values are validated strictly (money as a string, no floats)."""
    data = await body.parse(request, SubmitTicket)
    outcome = await run_in_threadpool(
        tickets.submit,
        ctx,
        actor=actor,
        app_key=key,
        values=data.values,
        source="json",
        locale=request_locale(request),
    )
    filed = await run_in_threadpool(
        ticket_body, ctx, actor, outcome.ticket_id, request_locale(request)
    )
    return answer(filed, status_code=201)


_IMPORT_TYPES = {
    XLSX_MEDIA_TYPE: "import.xlsx",
    "text/csv": "import.csv",
    "application/octet-stream": "import",
}


@router.post(
    "/apps/{key}/imports",
    response_model=TicketImportOut,
    status_code=201,
    tags=["tickets"],
    responses={200: {"model": TicketImportOut, "description": "The preview (dry_run=true)"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_tickets(
    key: str,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    mode: Literal["all", "valid_rows"] = "all",
    dry_run: bool = False,
    encoding: Literal["auto", "utf-8", "gb18030"] = "auto",
    mapping: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Files a ticket for each row of an XLSX or CSV file sent as the body (the first row
    names the columns: a field's label, zh or en, or key). `mapping` (a JSON object:
    column header → field key, or "" to leave it out; at most 1,000 characters, so name
    only the columns to change) changes the automatic matching.
    Every row is validated like a web submission; errors name the row and field
    (`rows[3].amount`). All or nothing by default: one bad row is a 422
    `import_rows_invalid` listing every error and files nothing; `mode=valid_rows` files
    the good rows and lists the others. `dry_run=true` is the preview (200, nothing
    filed). The applicant of every ticket is the caller."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _IMPORT_TYPES:
        raise body.BadRequest(
            f"Send one of: {', '.join(_IMPORT_TYPES)}", "unsupported_media_type", 415
        )
    chosen = _mapping(mapping)
    content = await request.body()
    report = await run_in_threadpool(
        ticket_import.import_rows,
        ctx,
        actor,
        key,
        filename=_IMPORT_TYPES[content_type],
        content=content,
        mapping=chosen,
        mode=mode,
        dry_run=dry_run,
        encoding=encoding,
        locale=request_locale(request),
    )
    return answer(
        {
            "app": report.app,
            "mode": report.mode,
            "dry_run": report.dry_run,
            "sha256": report.sha256,
            "columns": [
                {"column": c.letter, "header": c.header, "field": c.field} for c in report.columns
            ],
            "rows": report.rows,
            "valid": report.valid,
            "invalid": report.invalid,
            "errors": [
                {"path": e.path, "code": e.code, "message": e.message} for e in report.errors
            ],
            "errors_truncated": report.errors_truncated,
            "created": report.created,
            "ticket_ids": list(report.ticket_ids),
        },
        status_code=200 if dry_run else 201,
    )


def _mapping(raw: str | None) -> dict[str, str] | None:
    if raw is None or raw == "":
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ValidationFailed(
            "The column mapping is invalid",
            [ErrorDetail("mapping", "invalid_mapping", "A JSON object: header → field key")],
            code="invalid_mapping",
        )
    return parsed


@router.get(
    "/tickets",
    response_model=TicketPage,
    tags=["tickets"],
    openapi_extra=query_parameters(TicketListParams),
)
def list_tickets(
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    params: Annotated[TicketListParams, Depends(query_model(TicketListParams))],
) -> Response:
    """Tickets the caller may see: those they filed or work on (`scope=visible`; for
    administrators and auditors, every ticket), only those they filed (`scope=mine`,
    我发起), or every ticket (`scope=all`, administrators and auditors; others 403).
    A bad, unknown or repeated parameter is a 422 `invalid_query` naming each one."""
    query = _list_query(request, params, default_sort="created")
    scope = "mine" if params.mine else params.scope
    page = views.ticket_list(ctx, actor, query, scope=scope, locale=request_locale(request))
    return answer(
        {
            "items": [
                {
                    "id": t.id,
                    "serial": t.serial,
                    "app": t.app_key,
                    "title": t.title,
                    "subject": t.subject,
                    "status": t.status,
                    "requester": _person(t.requester) or {"id": t.requester_id, "name": ""},
                    "created_at": t.created_at,
                    "updated_at": t.updated_at,
                    "finished_at": t.finished_at,
                    "summary": _summary(t.summary),
                    "current": [
                        {
                            "task_id": c.task_id,
                            "node_id": c.node_id,
                            "name": c.name,
                            "holders": [{"id": p.id, "name": p.name} for p in c.holders],
                            "since": c.since,
                        }
                        for c in t.current
                    ],
                    "waiting_since": t.waiting_since,
                }
                for t in page.items
            ],
            "next_cursor": page.next_cursor,
        }
    )


@router.get(
    "/tickets/export",
    tags=["tickets"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The list as a spreadsheet",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
    openapi_extra=query_parameters(TicketExportParams),
)
def export_tickets(
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    params: Annotated[TicketExportParams, Depends(query_model(TicketExportParams))],
) -> Response:
    """The list of `GET /tickets` (the same filters, sort, scope and permission) as an XLSX
    or CSV file: the list's columns and, with `app=`, the app's form fields, typed (numbers,
    money, dates), personal numbers masked as the list shows them. At most 100,000 rows
    (more is a 422 `export_too_large`)."""
    query = _list_query(request, params, default_sort="created")
    scope = "mine" if params.mine else params.scope
    export = ticket_export.export_tickets(
        ctx, actor, query, scope=scope, format=params.format, locale=request_locale(request)
    )
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": export.content_disposition},
    )


def ticket_body(ctx: Ctx, actor: CurrentActor, ticket_id: str, locale: str) -> dict[str, Any]:
    view = views.ticket(
        ctx, actor, ticket_id, locale=locale, with_attachments=True, with_decided_values=True
    )
    return {
        "id": view.id,
        "serial": view.serial,
        "app": view.app_key,
        "app_version": view.app_version,
        "title": view.title,
        "subject": view.subject,
        "status": view.status,
        "values": view.values,
        "requester": _person(view.requester),
        "created_at": view.created_at,
        "updated_at": view.updated_at,
        "finished_at": view.finished_at,
        "open_tasks": [_task(t) for t in view.open_tasks],
        "tasks": [_task(t) for t in view.tasks],
        "timeline": [
            {
                "at": e.at,
                "kind": e.kind,
                "node_id": e.node_id,
                "task_id": e.task_id,
                "node_name": e.node_name,
                "actor": _person(e.actor),
                "comment": e.comment,
                "data": e.data,
                "by_person": e.by_person,
            }
            for e in view.timeline
        ],
        "timers": [
            {
                "node_id": t.node_id,
                "attached_to": t.attached,
                "action": t.action,
                "due_at": t.due_at,
            }
            for t in view.timers
        ],
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "attached_to": a.attached_to,
                "action": a.action,
                "task_id": a.task_id,
                "note_id": a.note_id,
                "uploaded_by": a.uploaded_by,
                "created_at": a.created_at,
            }
            for a in view.attachments
        ],
        # call activities (ADR 0033): the parent that called it, the children it called
        "parent": _linked(view.parent) if view.parent is not None else None,
        "children": [_linked(c) for c in view.children],
        "links": {key: [linked_record(r) for r in found] for key, found in view.links.items()},
        "rollups": dict(view.rollups),
    }


def linked_record(record: Any) -> dict[str, Any]:
    """A linked record as LinkedRecordOut (ADR 0038)."""
    return {
        "id": record.id,
        "serial": record.serial,
        "title": record.title,
        "status": record.status,
        "lookup": [{"key": v.key, "label": v.label, "text": v.text} for v in record.lookup],
    }


def _linked(link: Any) -> dict[str, Any]:
    return {
        "id": link.ticket_id,
        "serial": link.serial,
        "app": link.app_key,
        "status": link.status,
        "node_id": link.node_id,
    }


@router.get("/tickets/{ticket_id}", response_model=TicketOut, tags=["tickets"])
def get_ticket(ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    return answer(ticket_body(ctx, actor, ticket_id, request_locale(request)))


@router.get(
    "/tasks",
    response_model=TaskPage,
    tags=["tasks"],
    openapi_extra=query_parameters(TaskListParams),
)
def list_tasks(
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    params: Annotated[TaskListParams, Depends(query_model(TaskListParams))],
) -> Response:
    """My open tasks (`state=open`, 待办, newest first) or the tasks I approved or
    rejected (`state=done`, 已办, the latest decision first), with my decision
    (`state`), when (`completed_at`) and my comment. Administrators and auditors may
    list another person's (`assignee=<username>`), e.g. to cover for someone on leave.
    A bad, unknown or repeated parameter is a 422 `invalid_query` naming each one."""
    done = params.state == "done"
    query = _list_query(request, params, default_sort="updated" if done else "created")
    holder = actor
    if query.assignee not in (None, "me"):  # requester=me still means the caller
        holder = org.task_holder(ctx, actor, query.assignee)
        requester = actor.username if query.requester == "me" else query.requester
        query = replace(query, assignee="me", requester=requester)
    page = views.task_list(ctx, holder, query, done=done, locale=request_locale(request))
    return answer({"items": [_task(t) for t in page.items], "next_cursor": page.next_cursor})


@router.get("/tasks/{task_id}", response_model=TaskOut, tags=["tasks"])
def get_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """One task, with its ticket's serial; a task on a ticket the caller cannot see is 404."""
    return answer(_task(views.task(ctx, actor, task_id, locale=request_locale(request))))


async def _act(
    request: Request,
    ctx: Ctx,
    actor: CurrentActor,
    task_id: str,
    outcome: Literal["approve", "reject"],
) -> Response:
    data = await body.parse(request, TaskAction)
    result = await run_in_threadpool(
        tickets.complete_task,
        ctx,
        actor=actor,
        task_id=task_id,
        outcome=outcome,
        comment=data.comment,
        values=data.values,
        source="json",
        locale=request_locale(request),
        attachments=data.attachments,
    )
    return step_answer(result)


@router.post(
    "/tasks/{task_id}/approve",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(TaskAction),
)
async def approve_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    return await _act(request, ctx, actor, task_id, "approve")


@router.post(
    "/tasks/{task_id}/reject",
    response_model=StepOut,
    tags=["tasks"],
    openapi_extra=body.openapi_body(TaskAction),
)
async def reject_task(task_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    return await _act(request, ctx, actor, task_id, "reject")


@router.get("/notifications", response_model=NotificationPage, tags=["notifications"])
def list_notifications(
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    state: Literal["unread", "all"] = "unread",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """The caller's notifications, newest first: the unread ones, or all (`state=all`)."""
    page = notifications.notifications_page(
        ctx,
        actor,
        unread_only=state == "unread",
        cursor=cursor,
        limit=limit,
        locale=request_locale(request),
    )
    return answer(
        {
            "items": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "ticket_id": n.ticket_id,
                    "task_id": n.task_id,
                    "serial": n.serial,
                    "title": n.title,
                    "created_at": n.created_at,
                    "read": n.read,
                }
                for n in page.items
            ],
            "next_cursor": page.next_cursor,
            "unread": notifications.count_unread(ctx, actor),
        }
    )


@router.post(
    "/notifications/read",
    response_model=MarkedOut,
    tags=["notifications"],
    openapi_extra=body.openapi_body(MarkRead),
)
async def mark_notifications_read(request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Marks the listed notifications (or all) of the caller read; others' ids are ignored."""
    data = await body.parse(request, MarkRead)
    if data.all:
        marked = await run_in_threadpool(notifications.mark_read, ctx, actor)
    else:
        marked = await run_in_threadpool(notifications.mark_shown_read, ctx, actor, data.ids or [])
    return answer({"marked": marked})
