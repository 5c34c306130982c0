"""REST API /admin/…: the org chart (departments, users, roles, bulk import) and apps.

Administrators (and, for the org chart, holders of the org_admin role) only: anyone else
gets 403, since the admin area is no secret; an unknown user, department, role or app
is 404. Every change is audited by the service, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from flowdesk.api import body
from flowdesk.api.admin_schemas import (
    AdminAppOut,
    AppVersionOut,
    ChangeOut,
    DepartmentCreate,
    DepartmentFields,
    DepartmentOut,
    ImportOut,
    ImportWarningOut,
    PaletteKindOut,
    ProcessImportOut,
    PublishOut,
    RoleCreate,
    RoleFields,
    RoleOut,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from flowdesk.api.body import BadRequest
from flowdesk.api.deps import Ctx, CurrentActor, Cursor, Limit, operation_id
from flowdesk.api.schemas import Strict
from flowdesk.engines.forms.palette import palette
from flowdesk.kernel.errors import ErrorDetail
from flowdesk.services import apps, org, org_import

router = APIRouter(prefix="/admin", tags=["admin"], generate_unique_id_function=operation_id)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_TYPES = {XLSX: "import.xlsx", "text/csv": "import.csv", "application/octet-stream": "import"}
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")
BPMN_TYPES = ("application/bpmn+xml", "application/xml", "text/xml")
V = TypeVar("V")
# org.save_user, save_department, save_role: (ctx, actor, key, fields, *, create) -> view.
Save = Callable[..., V]


def _user(view: org.UserView) -> UserOut:
    return UserOut(
        id=view.id,
        username=view.username,
        display_name=view.display_name,
        name_zh=view.name_zh,
        name_en=view.name_en,
        department=view.department,
        manager=view.manager,
        job_level=view.job_level,
        email=view.email,
        mobile=view.mobile,
        is_active=view.is_active,
        is_admin=view.is_admin,
        roles=list(view.roles),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def _department(view: org.DepartmentView) -> DepartmentOut:
    return DepartmentOut(
        code=view.code,
        name=dict(view.name),
        parent=view.parent,
        head=view.head,
        depth=view.depth,
        members=view.members,
    )


def _role(view: org.RoleView) -> RoleOut:
    return RoleOut(key=view.key, name=dict(view.name), members=view.members)


async def _create(
    request: Request, ctx: Ctx, actor: CurrentActor, schema: type[Strict], key: str, save: Save[V]
) -> V:
    """POST: the body names the new thing by `key` (username, code…) and gives its fields."""
    fields = (await body.parse(request, schema)).model_dump(exclude_unset=True)
    return await run_in_threadpool(save, ctx, actor, fields.pop(key), fields, create=True)


async def _update(
    request: Request, ctx: Ctx, actor: CurrentActor, schema: type[Strict], key: str, save: Save[V]
) -> V:
    """PATCH: only the fields the body names change (null clears an optional one)."""
    fields = (await body.parse(request, schema)).model_dump(exclude_unset=True)
    return await run_in_threadpool(save, ctx, actor, key, fields)


async def _raw_body(request: Request, allowed: tuple[str, ...] | dict[str, str]) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in allowed:
        raise BadRequest(f"Send one of: {', '.join(allowed)}", "unsupported_media_type", 415)
    return await request.body()


# --- users ------------------------------------------------------------------------------


@router.get("/users", response_model=UserPage)
def list_users(
    actor: CurrentActor,
    ctx: Ctx,
    cursor: Cursor = None,
    limit: Limit = 50,
    q: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
) -> UserPage:
    """People in username order; `q` searches username and names (Chinese too)."""
    page = org.list_users(
        ctx, actor, cursor=cursor, limit=limit, q=q, active=active, department=department
    )
    return UserPage(items=[_user(u) for u in page.items], next_cursor=page.next_cursor)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    openapi_extra=body.openapi_body(UserCreate),
)
async def create_user(request: Request, actor: CurrentActor, ctx: Ctx) -> UserOut:
    return _user(await _create(request, ctx, actor, UserCreate, "username", org.save_user))


@router.get("/users/{username}", response_model=UserOut)
def get_user(username: str, actor: CurrentActor, ctx: Ctx) -> UserOut:
    return _user(org.get_user(ctx, actor, username))


@router.patch(
    "/users/{username}",
    response_model=UserOut,
    openapi_extra=body.openapi_body(UserUpdate),
)
async def update_user(username: str, request: Request, actor: CurrentActor, ctx: Ctx) -> UserOut:
    """Changes the fields given (null clears an optional one); `roles` is the full list."""
    return _user(await _update(request, ctx, actor, UserUpdate, username, org.save_user))


@router.post("/users/{username}/deactivate", response_model=UserOut)
def deactivate_user(username: str, actor: CurrentActor, ctx: Ctx) -> UserOut:
    """The person can no longer log in and gets no new tasks; history and name stay."""
    return _user(org.set_active(ctx, actor, username, False))


@router.post("/users/{username}/reactivate", response_model=UserOut)
def reactivate_user(username: str, actor: CurrentActor, ctx: Ctx) -> UserOut:
    return _user(org.set_active(ctx, actor, username, True))


# --- departments and roles ------------------------------------------------------------


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(actor: CurrentActor, ctx: Ctx) -> list[DepartmentOut]:
    """The whole tree, depth first (`depth` 0 at the top)."""
    return [_department(d) for d in org.list_departments(ctx, actor)]


@router.post(
    "/departments",
    response_model=DepartmentOut,
    status_code=201,
    openapi_extra=body.openapi_body(DepartmentCreate),
)
async def create_department(request: Request, actor: CurrentActor, ctx: Ctx) -> DepartmentOut:
    save = org.save_department
    return _department(await _create(request, ctx, actor, DepartmentCreate, "code", save))


@router.patch(
    "/departments/{code}",
    response_model=DepartmentOut,
    openapi_extra=body.openapi_body(DepartmentFields),
)
async def update_department(
    code: str, request: Request, actor: CurrentActor, ctx: Ctx
) -> DepartmentOut:
    save = org.save_department
    return _department(await _update(request, ctx, actor, DepartmentFields, code, save))


@router.get("/roles", response_model=list[RoleOut])
def list_roles(actor: CurrentActor, ctx: Ctx) -> list[RoleOut]:
    return [_role(r) for r in org.list_roles(ctx, actor)]


@router.post(
    "/roles",
    response_model=RoleOut,
    status_code=201,
    openapi_extra=body.openapi_body(RoleCreate),
)
async def create_role(request: Request, actor: CurrentActor, ctx: Ctx) -> RoleOut:
    return _role(await _create(request, ctx, actor, RoleCreate, "key", org.save_role))


@router.patch(
    "/roles/{key}",
    response_model=RoleOut,
    openapi_extra=body.openapi_body(RoleFields),
)
async def update_role(key: str, request: Request, actor: CurrentActor, ctx: Ctx) -> RoleOut:
    return _role(await _update(request, ctx, actor, RoleFields, key, org.save_role))


@router.get("/roles/{key}/members", response_model=list[UserOut])
def list_role_members(key: str, actor: CurrentActor, ctx: Ctx) -> list[UserOut]:
    return [_user(u) for u in org.role_members(ctx, actor, key)]


# --- bulk import --------------------------------------------------------------------------


@router.post(
    "/org/import",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                XLSX: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_org(
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    dry_run: bool = False,
    encoding: Literal["auto", "utf-8", "gb18030"] = "auto",
) -> ImportOut:
    """Imports an org-chart workbook (or one CSV table) sent as the body: all or nothing.
    `dry_run=true` is the preview: the same checks and counts, nothing written."""
    content = await _raw_body(request, IMPORT_TYPES)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    report = await run_in_threadpool(
        org.import_org,
        ctx,
        [(IMPORT_TYPES[content_type], content)],
        actor=actor,
        dry_run=dry_run,
        encoding=encoding,
    )
    return ImportOut(
        dry_run=report.dry_run,
        sha256=report.sha256,
        counts={k: dict(v) for k, v in report.counts.items()},
        changes=[
            ChangeOut(kind=c.kind, key=c.key, action=c.action, fields=list(c.fields))
            for c in report.changes
        ],
    )


@router.get(
    "/org/template.xlsx",
    responses={200: {"content": {XLSX: {}}}},
    response_class=Response,
)
def get_org_template(actor: CurrentActor, ctx: Ctx) -> Response:
    """The workbook to fill in: sheets 部门/departments, 用户/users, 角色/roles."""
    org.list_roles(ctx, actor)  # the permission check
    return Response(
        org_import.template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="flowdesk-org-template.xlsx"'},
    )


# --- apps ------------------------------------------------------------------------------


@router.get("/apps", response_model=list[AdminAppOut])
def list_admin_apps(actor: CurrentActor, ctx: Ctx) -> list[AdminAppOut]:
    apps.check_permission(actor)
    return [
        AdminAppOut(key=a.key, name=a.name, category=a.category, version=a.version)
        for a in apps.list_apps(ctx)
    ]


@router.get("/apps/{key}/versions", response_model=list[AppVersionOut])
def list_app_versions(key: str, actor: CurrentActor, ctx: Ctx) -> list[AppVersionOut]:
    return [
        AppVersionOut(
            id=v.id,
            version=v.version,
            sha256=v.sha256,
            published_at=v.published_at,
            published_by=v.published_by,
            is_current=v.is_current,
        )
        for v in apps.versions(ctx, actor, key)
    ]


@router.post(
    "/apps",
    response_model=PublishOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
)
async def publish_app(
    request: Request, actor: CurrentActor, ctx: Ctx, dry_run: bool = False
) -> PublishOut:
    """Validates an app's YAML (every error with its path, 422) and publishes it as a new
    version; the same definition again publishes nothing. `dry_run=true` only validates."""
    text = body.utf8_text(await _raw_body(request, YAML_TYPES))
    if dry_run:
        spec = apps.check_yaml(actor, text, ctx)
        return PublishOut(key=spec.key, version=0, changed=False, dry_run=True)
    result = await run_in_threadpool(apps.publish_yaml, ctx, text, actor=actor)
    return PublishOut(key=result.key, version=result.version, changed=result.changed)


@router.put(
    "/apps/{key}/process",
    response_model=ProcessImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in BPMN_TYPES},
        }
    },
)
async def import_app_bpmn(
    key: str,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    dry_run: bool = False,
    process: Annotated[str | None, Query(max_length=200)] = None,
) -> ProcessImportOut:
    """Replaces app `key`'s process with a BPMN 2.0 file's (docs/bpmn.md) and publishes
    a new version; the form stays. Every problem comes back at once (422), each at its
    element id; `warnings` lists what was read but not used. `dry_run=true` only checks;
    `process` picks one of several processes in the file."""
    data = await _raw_body(request, BPMN_TYPES)
    if dry_run:
        checked = await run_in_threadpool(
            apps.check_bpmn, ctx, actor, data, key, process_id=process
        )
        return ProcessImportOut(
            key=key, version=0, changed=False, dry_run=True, warnings=_warnings(checked.warnings)
        )
    result = await run_in_threadpool(
        apps.publish_bpmn, ctx, data, key, actor=actor, process_id=process
    )
    published = result.published
    return ProcessImportOut(
        key=published.key,
        version=published.version,
        changed=published.changed,
        warnings=_warnings(result.warnings),
    )


@router.put(
    "/apps/{key}/form",
    response_model=PublishOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def replace_app_form(
    key: str, request: Request, actor: CurrentActor, ctx: Ctx, dry_run: bool = False
) -> PublishOut:
    """Replaces app `key`'s form with the body (`{"fields": [...]}`, the app YAML's `form:`
    as JSON, as the form builder sends it) and publishes a new version; the process stays.
    Every problem comes back at once (422), each at its path (`form.fields[2].formula`);
    the same form again publishes nothing. `dry_run=true` only checks."""
    form = body.loads(await _raw_body(request, ("application/json",)))
    if dry_run:
        await run_in_threadpool(apps.check_form, ctx, actor, key, form)
        return PublishOut(key=key, version=0, changed=False, dry_run=True)
    result = await run_in_threadpool(apps.publish_form, ctx, key, form, actor=actor)
    return PublishOut(key=result.key, version=result.version, changed=result.changed)


@router.get("/form-palette", response_model=list[PaletteKindOut])
def get_form_palette(actor: CurrentActor) -> list[dict[str, object]]:
    """The field types a form may have, each with its bilingual name and the settings it
    takes (name, kind of input, group, bilingual label): what the form builder offers."""
    apps.check_permission(actor)
    return [kind.to_dict() for kind in palette()]


def _warnings(warnings: tuple[ErrorDetail, ...]) -> list[ImportWarningOut]:
    return [ImportWarningOut(path=w.path, code=w.code, message=w.message) for w in warnings]


@router.get(
    "/apps/{key}/export",
    responses={200: {"content": {"application/yaml": {}, "application/bpmn+xml": {}}}},
    response_class=Response,
)
def export_app(
    key: str, actor: CurrentActor, ctx: Ctx, format: Literal["yaml", "bpmn"] = "yaml"
) -> Response:
    """The current version as app YAML, or (`format=bpmn`) its process as BPMN 2.0 XML
    with a diagram."""
    apps.check_permission(actor)
    if format == "bpmn":
        return Response(
            apps.export_bpmn(ctx, key),
            media_type="application/bpmn+xml",
            headers={"Content-Disposition": f'attachment; filename="{key}.bpmn"'},
        )
    return Response(
        apps.export_yaml(ctx, key),
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{key}.yaml"'},
    )
