"""The admin area: people, departments and roles, the org-chart import, and apps.

Administrators (and org admins for the org chart) only: the services check, and anyone
else gets the 403 page. Every POST carries the CSRF token; a refused change re-renders
the form with each problem next to its field, and nothing is written.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from flowdesk.kernel.errors import (
    DefinitionInvalid,
    ErrorDetail,
    FlowdeskError,
    NotFound,
    ValidationFailed,
)
from flowdesk.services import apps, org, org_import, transfers
from flowdesk.services.auth import WebSession
from flowdesk.web.pages.common import checked_cursor, form_text
from flowdesk.web.render import redirect, render
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter(prefix="/admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
USER_FORM_FIELDS = ("name_zh", "name_en", "department", "manager", "job_level", "email", "mobile")
MAX_WEB_IMPORT_BYTES = 700_000  # the preview posts the file back, base64, under the body limit


def _errors(exc: FlowdeskError) -> list[ErrorDetail]:
    return exc.errors or [ErrorDetail("", exc.code, exc.message)]


def _form_page(
    request: Request,
    session: WebSession,
    template: str,
    context: dict[str, Any],
    errors: Sequence[ErrorDetail],
    status: int,
) -> Response:
    """A form page with its errors listed on top and, the first per field, by the field."""
    by_field: dict[str, str] = {}
    for error in errors:
        by_field.setdefault(error.path, error.code)
    context = {**context, "errors": list(errors), "field_errors": by_field}
    return render(request, template, context, status=status, session=session)


@router.get("")
def overview(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    departments = org.list_departments(ctx, session.actor)  # the permission check
    roles = org.list_roles(ctx, session.actor)
    return render(
        request,
        "admin_home.html",
        {
            "departments": len(departments),
            "roles": len(roles),
            "may_publish": session.actor.is_admin,
        },
        session=session,
    )


# --- users ------------------------------------------------------------------------------


@router.get("/users")
def users(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    q: str = "",
    status: str = "",
    cursor: str | None = None,
) -> Response:
    active = {"active": True, "inactive": False}.get(status)
    page = org.list_users(
        ctx, session.actor, cursor=checked_cursor(cursor), limit=50, q=q[:100], active=active
    )
    return render(
        request,
        "admin_users.html",
        {"page": page, "q": q[:100], "status": status if active is not None else ""},
        session=session,
    )


def _user_form(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    *,
    user: org.UserView | None,
    values: Mapping[str, Any],
    errors: Sequence[ErrorDetail] = (),
    status: int = 200,
    saved: bool = False,
) -> Response:
    return _form_page(
        request,
        session,
        "admin_user.html",
        {
            "saved": saved,
            "person": user,  # the person edited; base.html's `user` is who is logged in
            "values": values,
            "departments": org.list_departments(ctx, session.actor),
            "roles": org.list_roles(ctx, session.actor),
            "open_tasks": transfers.open_task_count(ctx, session.actor, user.username)
            if user
            else 0,
        },
        errors,
        status,
    )


def _user_values(user: org.UserView | None) -> dict[str, Any]:
    if user is None:
        return {"roles": ()}
    values: dict[str, Any] = {key: getattr(user, key) or "" for key in USER_FORM_FIELDS}
    values["roles"] = user.roles
    return values


def _posted_user(form: FormData) -> dict[str, Any]:
    fields: dict[str, Any] = {key: form_text(form, key) for key in USER_FORM_FIELDS}
    fields["roles"] = [value for value in form.getlist("roles") if isinstance(value, str)]
    return fields


@router.get("/users/new")
def new_user(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    org.list_roles(ctx, session.actor)
    return _user_form(request, ctx, session, user=None, values=_user_values(None))


@router.post("/users/new")
def create_user(request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm) -> Response:
    fields = _posted_user(form)
    username = form_text(form, "username")
    password = form_text(form, "password")
    if password:
        fields["password"] = password
    try:
        created = org.save_user(ctx, session.actor, username, fields, create=True)
    except FlowdeskError as exc:
        if exc.status not in (409, 422):
            raise
        values = {**fields, "username": username, "roles": tuple(fields["roles"])}
        return _user_form(
            request, ctx, session, user=None, values=values, errors=_errors(exc), status=exc.status
        )
    return redirect(f"/admin/users/{created.username}?saved=1")


@router.get("/users/{username}")
def edit_user(
    request: Request, ctx: Ctx, session: CurrentSession, username: str, saved: str = ""
) -> Response:
    user = org.get_user(ctx, session.actor, username)
    return _user_form(
        request, ctx, session, user=user, values=_user_values(user), saved=saved == "1"
    )


@router.post("/users/{username}")
def save_user(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, username: str
) -> Response:
    user = org.get_user(ctx, session.actor, username)
    fields = _posted_user(form)
    password = form_text(form, "password")
    if password:
        fields["password"] = password
    try:
        org.save_user(ctx, session.actor, user.username, fields)
    except FlowdeskError as exc:
        if exc.status not in (409, 422):
            raise
        values = {**fields, "roles": tuple(fields["roles"])}
        return _user_form(
            request, ctx, session, user=user, values=values, errors=_errors(exc), status=exc.status
        )
    return redirect(f"/admin/users/{user.username}?saved=1")


@router.post("/users/{username}/active")
def set_active(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, username: str
) -> Response:
    wanted = form_text(form, "active")
    if wanted not in ("0", "1"):
        raise ValidationFailed("Choose activate or deactivate", code="invalid_choice")
    try:
        user = org.set_active(ctx, session.actor, username, wanted == "1")
    except FlowdeskError as exc:
        if exc.status != 409:
            raise
        current = org.get_user(ctx, session.actor, username)
        return _user_form(
            request,
            ctx,
            session,
            user=current,
            values=_user_values(current),
            errors=_errors(exc),
            status=409,
        )
    return redirect(f"/admin/users/{user.username}?saved=1")


# --- departments and roles ------------------------------------------------------------


def _departments_page(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    *,
    values: Mapping[str, str] | None = None,
    errors: Sequence[ErrorDetail] = (),
    status: int = 200,
) -> Response:
    return _form_page(
        request,
        session,
        "admin_departments.html",
        {
            "departments": org.list_departments(ctx, session.actor),
            "values": values or {},
        },
        errors,
        status,
    )


DEPARTMENT_FORM_FIELDS = ("name_zh", "name_en", "parent", "head")


@router.get("/departments")
def departments(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    return _departments_page(request, ctx, session)


@router.post("/departments")
def create_department(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm
) -> Response:
    code = form_text(form, "code")
    fields = {key: form_text(form, key) for key in DEPARTMENT_FORM_FIELDS}
    try:
        org.save_department(ctx, session.actor, code, fields, create=True)
    except FlowdeskError as exc:
        if exc.status not in (409, 422):
            raise
        return _departments_page(
            request,
            ctx,
            session,
            values={**fields, "code": code},
            errors=_errors(exc),
            status=exc.status,
        )
    return redirect("/admin/departments")


@router.get("/departments/{code}")
def edit_department(request: Request, ctx: Ctx, session: CurrentSession, code: str) -> Response:
    department = _department(ctx, session, code)
    values = {
        "name_zh": department.name.get("zh", ""),
        "name_en": department.name.get("en", ""),
        "parent": department.parent or "",
        "head": department.head or "",
    }
    return _department_form(request, ctx, session, department, values)


def _department(ctx: Ctx, session: WebSession, code: str) -> org.DepartmentView:
    for department in org.list_departments(ctx, session.actor):
        if department.code == code:
            return department
    raise NotFound("Department not found", "department_not_found")


def _department_form(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    department: org.DepartmentView,
    values: Mapping[str, str],
    errors: Sequence[ErrorDetail] = (),
    status: int = 200,
) -> Response:
    return _form_page(
        request,
        session,
        "admin_department.html",
        {
            "department": department,
            "departments": org.list_departments(ctx, session.actor),
            "values": values,
        },
        errors,
        status,
    )


@router.post("/departments/{code}")
def save_department(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, code: str
) -> Response:
    department = _department(ctx, session, code)
    fields = {key: form_text(form, key) for key in DEPARTMENT_FORM_FIELDS}
    try:
        org.save_department(ctx, session.actor, code, fields)
    except FlowdeskError as exc:
        if exc.status not in (409, 422):
            raise
        return _department_form(request, ctx, session, department, fields, _errors(exc), exc.status)
    return redirect("/admin/departments")


def _roles_page(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    *,
    values: Mapping[str, str] | None = None,
    errors: Sequence[ErrorDetail] = (),
    status: int = 200,
) -> Response:
    return _form_page(
        request,
        session,
        "admin_roles.html",
        {
            "roles": org.list_roles(ctx, session.actor),
            "values": values or {},
        },
        errors,
        status,
    )


@router.get("/roles")
def roles(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    return _roles_page(request, ctx, session)


@router.post("/roles")
def create_role(request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm) -> Response:
    key = form_text(form, "key")
    fields = {"name_zh": form_text(form, "name_zh"), "name_en": form_text(form, "name_en")}
    try:
        org.save_role(ctx, session.actor, key, fields, create=True)
    except FlowdeskError as exc:
        if exc.status not in (409, 422):
            raise
        return _roles_page(
            request,
            ctx,
            session,
            values={**fields, "key": key},
            errors=_errors(exc),
            status=exc.status,
        )
    return redirect("/admin/roles")


# --- import ---------------------------------------------------------------------------


@router.get("/import")
def import_form(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    org.list_roles(ctx, session.actor)
    return render(
        request,
        "admin_import.html",
        {"report": None, "errors": [], "encoding": "auto"},
        session=session,
    )


@router.get("/import/template.xlsx")
def import_template(ctx: Ctx, session: CurrentSession) -> Response:
    org.list_roles(ctx, session.actor)
    return Response(
        org_import.template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="flowdesk-org-template.xlsx"'},
    )


@router.post("/import")
async def run_import(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm
) -> Response:
    """Step 1 (a file): the preview, nothing written. Step 2 (the previewed file sent
    back with `apply`): the import itself — the file is checked again from scratch."""
    encoding = form_text(form, "encoding")
    if encoding not in org_import.ENCODINGS:
        encoding = "auto"
    applying = form_text(form, "apply") == "1"
    name, content, problem = await _uploaded(form, applying)
    context: dict[str, Any] = {"report": None, "errors": [], "encoding": encoding, "name": name}
    if problem is not None:
        context["errors"] = [problem]
        return render(request, "admin_import.html", context, status=422, session=session)
    try:
        report = org.import_org(
            ctx,
            [(name, content)],
            actor=session.actor,
            dry_run=not applying,
            encoding=encoding,  # type: ignore[arg-type]
        )
    except ValidationFailed as exc:
        context["errors"] = _errors(exc)
        return render(request, "admin_import.html", context, status=422, session=session)
    context["report"] = report
    if not applying and report.changed:
        context["payload"] = base64.b64encode(content).decode()
    return render(request, "admin_import.html", context, session=session)


async def _uploaded(form: FormData, applying: bool) -> tuple[str, bytes, ErrorDetail | None]:
    if applying:
        name = form_text(form, "name")[:100] or "import"
        try:
            return name, base64.b64decode(form_text(form, "payload"), validate=True), None
        except (binascii.Error, ValueError):
            return name, b"", ErrorDetail("file", "invalid_upload", "The upload was damaged")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "", b"", ErrorDetail("file", "no_file", "Choose a file")
    content = await upload.read(MAX_WEB_IMPORT_BYTES + 1)
    name = upload.filename[:100]
    if len(content) > MAX_WEB_IMPORT_BYTES:
        return name, b"", ErrorDetail("file", "file_too_large", "Too large for the web")
    if not content:
        return name, b"", ErrorDetail("file", "no_file", "The file is empty")
    return name, content, None


# --- apps ------------------------------------------------------------------------------


def _listed_apps(ctx: Ctx, session: WebSession) -> list[tuple[Any, list[Any]]]:
    apps.check_permission(session.actor)
    return [(app, apps.versions(ctx, session.actor, app.key)) for app in apps.list_apps(ctx)]


@router.get("/apps")
def app_list(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    published: str = "",
    version: int = 0,
    changed: str = "",
) -> Response:
    listed = _listed_apps(ctx, session)
    notice = None
    if published and any(app.key == published for app, _ in listed):
        notice = {"key": published, "version": version, "changed": changed == "1"}
    return render(
        request,
        "admin_apps.html",
        {"listed": listed, "errors": [], "checked": None, "notice": notice},
        session=session,
    )


@router.get("/apps/{key}/export.yaml")
def export_app(ctx: Ctx, session: CurrentSession, key: str) -> Response:
    apps.check_permission(session.actor)
    return Response(
        apps.export_yaml(ctx, key),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{key}.yaml"'},
    )


@router.get("/apps/{key}/export.bpmn")
def export_app_bpmn(ctx: Ctx, session: CurrentSession, key: str) -> Response:
    apps.check_permission(session.actor)
    return Response(
        apps.export_bpmn(ctx, key),
        media_type="application/bpmn+xml",
        headers={"Content-Disposition": f'attachment; filename="{key}.bpmn"'},
    )


BPMN_SUFFIXES = (".bpmn", ".bpmn2", ".xml")


def _is_bpmn(filename: str, raw: bytes) -> bool:
    """By the name (.bpmn, .bpmn20.xml, .xml), else by content: XML starts with '<'."""
    name = filename.lower()
    if name.endswith(BPMN_SUFFIXES):
        return True
    return not name.endswith((".yaml", ".yml")) and raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


@router.post("/apps")
async def upload_app(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm
) -> Response:
    """Step 1: validate the uploaded YAML, or a BPMN file for the chosen app's process
    (errors with their paths; a BPMN file's warnings too). Step 2 (`publish`): publish
    what was checked."""
    apps.check_permission(session.actor)
    publishing = form_text(form, "publish") == "1"
    context: dict[str, Any] = {
        "listed": _listed_apps(ctx, session),
        "errors": [],
        "checked": None,
        "notice": None,
    }
    bpmn = form_text(form, "kind") == "bpmn" if publishing else await _bpmn_upload(form)
    if bpmn:
        return await _bpmn_step(request, ctx, session, form, context, publishing)
    if publishing:
        text = form_text(form, "yaml")
    else:
        upload = form.get("file")
        raw = await upload.read(MAX_WEB_IMPORT_BYTES + 1) if isinstance(upload, UploadFile) else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
    if not text.strip() or "\x00" in text:
        context["errors"] = [ErrorDetail("file", "invalid_yaml_file", "Not a UTF-8 YAML file")]
        return render(request, "admin_apps.html", context, status=422, session=session)
    try:
        if not publishing:
            spec = apps.check_yaml(session.actor, text, ctx)
            name = {"zh": spec.name.zh, "en": spec.name.en}
            context["checked"] = {"key": spec.key, "name": name, "yaml": text, "bpmn": None}
            return render(request, "admin_apps.html", context, session=session)
        result = apps.publish_yaml(ctx, text, actor=session.actor)
    except DefinitionInvalid as exc:
        context["errors"] = _errors(exc)
        return render(request, "admin_apps.html", context, status=422, session=session)
    changed = "1" if result.changed else "0"
    return redirect(
        f"/admin/apps?published={result.key}&version={result.version}&changed={changed}"
    )


async def _bpmn_upload(form: FormData) -> bool:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return False
    head = await upload.read(200)
    await upload.seek(0)
    return _is_bpmn(upload.filename or "", head)


async def _bpmn_step(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    form: FormData,
    context: dict[str, Any],
    publishing: bool,
) -> Response:
    """A BPMN file replaces the chosen app's process; the check step posts the file back
    (base64) with the app's key, as the org import does."""
    key = form_text(form, "app")
    name, raw, problem = await _uploaded(form, publishing)
    if problem is None and not key:
        problem = ErrorDetail("app", "bpmn_needs_app", "Choose the app whose process it replaces")
    if problem is not None:
        context["errors"] = [problem]
        return render(request, "admin_apps.html", context, status=422, session=session)
    try:
        if not publishing:
            imported = apps.check_bpmn(ctx, session.actor, raw, key)
            app_name = {"zh": imported.spec.name.zh, "en": imported.spec.name.en}
            context["checked"] = {
                "key": key,
                "name": app_name,
                "bpmn": base64.b64encode(raw).decode("ascii"),
                "filename": name,
                "warnings": imported.warnings,
            }
            return render(request, "admin_apps.html", context, session=session)
        result = apps.publish_bpmn(ctx, raw, key, actor=session.actor).published
    except (DefinitionInvalid, NotFound) as exc:
        context["errors"] = _errors(exc)
        return render(request, "admin_apps.html", context, status=422, session=session)
    changed = "1" if result.changed else "0"
    return redirect(
        f"/admin/apps?published={result.key}&version={result.version}&changed={changed}"
    )
