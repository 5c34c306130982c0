"""Maintaining the org chart: departments, people, managers and roles."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.kernel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from flowdesk.kernel.ids import new_id
from flowdesk.services import auth, org_fields, org_import, org_sync, transfers
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import org as org_store

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
SYSTEM = "system"


def _check_password(password: str) -> None:
    if len(password) < 8 or len(password) > 256:
        raise ValidationFailed(
            "Password must be 8-256 characters",
            [ErrorDetail("password", "weak_password", "Password must be 8-256 characters")],
        )


def create_department(
    ctx: ServiceContext,
    *,
    code: str,
    name_en: str,
    name_zh: str,
    parent_code: str | None = None,
    actor: Actor | None = None,
) -> str:
    with ctx.db.write() as conn:
        if org_store.department_by_code(conn, code) is not None:
            raise Conflict(f"Department {code} exists", "department_exists")
        parent_id = None
        if parent_code:
            parent = org_store.department_by_code(conn, parent_code)
            if parent is None:
                raise NotFound(f"No department {parent_code}")
            parent_id = parent.id
        department_id = new_id()
        org_store.insert_department(
            conn, id=department_id, code=code, name_en=name_en, name_zh=name_zh, parent_id=parent_id
        )
        audit_store.append(
            conn,
            at=ctx.clock.now(),
            actor=actor.username if actor else SYSTEM,
            action="department.create",
            target_type="department",
            target_id=department_id,
            details={"code": code},
        )
    return department_id


def create_user(
    ctx: ServiceContext,
    *,
    username: str,
    display_name: str,
    password: str | None,
    department_code: str | None = None,
    manager_username: str | None = None,
    email: str | None = None,
    roles: tuple[str, ...] = (),
    is_admin: bool = False,
    heads_department: bool = False,
    actor: Actor | None = None,
    password_hash: str | None = None,
    job_level: str | None = None,
) -> str:
    """`password_hash` lets bulk loads hash a shared initial password once."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise ValidationFailed(
            "Invalid username",
            [
                ErrorDetail(
                    "username",
                    "invalid_username",
                    "2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter",
                )
            ],
        )
    if password is not None:
        _check_password(password)
    if password is not None:
        password_hash = ctx.hasher.hash(password)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        if org_store.user_by_username(conn, username) is not None:
            raise Conflict(f"User {username} exists", "user_exists")
        department = (
            org_store.department_by_code(conn, department_code) if department_code else None
        )
        if department_code and department is None:
            raise NotFound(f"No department {department_code}")
        manager = org_store.user_by_username(conn, manager_username) if manager_username else None
        if manager_username and manager is None:
            raise NotFound(f"No user {manager_username}")
        user_id = new_id()
        org_store.insert_user(
            conn,
            id=user_id,
            username=username,
            display_name=display_name,
            email=email,
            password_hash=password_hash,
            department_id=department.id if department else None,
            manager_id=manager.id if manager else None,
            is_admin=is_admin,
            created_at=now,
            name_zh=display_name,
            job_level=org_fields.job_level(job_level) if job_level else None,
        )
        for role in roles:
            role_id = org_store.ensure_role(conn, id=new_id(), key=role, name_en=role, name_zh=role)
            org_store.grant_role(conn, user_id, role_id)
        if heads_department and department is not None:
            org_store.set_department_head(conn, department.id, user_id)
        audit_store.append(
            conn,
            at=now,
            actor=actor.username if actor else SYSTEM,
            action="user.create",
            target_type="user",
            target_id=user_id,
            details={"username": username, "roles": list(roles), "is_admin": is_admin},
        )
    return user_id


def ensure_admin(
    ctx: ServiceContext, *, username: str, password: str, display_name: str = "Administrator"
) -> str:
    """`flowdesk create-admin`: creates the admin, or resets an existing admin's password."""
    _check_password(password)
    with ctx.db.write() as conn:
        existing = org_store.user_by_username(conn, username.strip().lower())
        if existing is not None:
            if not existing.is_admin:
                raise Conflict(f"{username} exists and is not an administrator", "user_exists")
            org_store.set_password_hash(conn, existing.id, ctx.hasher.hash(password))
            audit_store.append(
                conn,
                at=ctx.clock.now(),
                actor=SYSTEM,
                action="user.password_reset",
                target_type="user",
                target_id=existing.id,
                details={"username": existing.username},
            )
            return str(existing.id)
    return create_user(
        ctx, username=username, display_name=display_name, password=password, is_admin=True
    )


def ensure_role(ctx: ServiceContext, *, key: str, name_en: str, name_zh: str) -> None:
    with ctx.db.write() as conn:
        org_store.ensure_role(conn, id=new_id(), key=key, name_en=name_en, name_zh=name_zh)


def has_users(ctx: ServiceContext) -> bool:
    with ctx.db.read() as conn:
        return org_store.count_users(conn) > 0


# --- Administration: the admin pages, /api/v1/admin/… and `flowdesk org import` ---------


@dataclass(frozen=True)
class UserView:
    id: str
    username: str
    display_name: str
    name_zh: str | None
    name_en: str | None
    department: str | None
    department_name: Mapping[str, str] | None
    manager: str | None
    manager_name: str | None
    job_level: str | None
    email: str | None
    mobile: str  # masked (RELIABILITY promise 8); "" when none
    is_active: bool
    is_admin: bool
    roles: tuple[str, ...]
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class UserPage:
    items: tuple[UserView, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class DepartmentView:
    id: str
    code: str
    name: Mapping[str, str]
    parent: str | None
    head: str | None
    head_name: str | None
    depth: int
    members: int


@dataclass(frozen=True)
class RoleView:
    id: str
    key: str
    name: Mapping[str, str]
    members: int


def _may_manage(actor: Actor | None) -> str:
    """The audit's actor name; administrators and org admins only (None = the CLI)."""
    if actor is None:
        return SYSTEM
    if not decide(actor, "user.manage"):
        raise Forbidden("Only administrators and org admins may change the org chart")
    return actor.username


def _sync(
    ctx: ServiceContext,
    actor: Actor | None,
    *,
    departments: Sequence[org_sync.DepartmentRecord] = (),
    users: Sequence[org_sync.UserRecord] = (),
    roles: Sequence[org_sync.RoleRecord] = (),
    issues: Sequence[ErrorDetail] = (),
    dry_run: bool = False,
    source: str = "admin",
    guard: Callable[[org_sync.OrgState], None] | None = None,
) -> org_sync.Plan:
    """Plans and (unless a dry run) writes, all in one transaction: a refusal writes nothing."""
    actor_name = _may_manage(actor)
    now = ctx.clock.now()
    with ctx.db.read() if dry_run else ctx.db.write() as conn:
        state = org_sync.load_state(conn)
        if guard is not None:
            guard(state)
        plan, after = org_sync.plan(
            state, departments=departments, users=users, roles=roles, issues=list(issues)
        )
        if not dry_run and plan.changes:
            org_sync.apply(conn, plan, after, actor=actor_name, now=now, source=source)
    if not dry_run:
        leavers = [
            change.key
            for change in plan.changes
            if change.kind == "user"
            and change.action == "update"
            and "is_active" in change.fields
            and not after.users[change.key].is_active
        ]
        for username in leavers:  # their open tasks go to their manager (seed 003)
            transfers.hand_over_leaver(ctx, actor, username)
    return plan


def _cleaned(
    raw: Mapping[str, object], cleaners: Mapping[str, Callable[[Any], Any]]
) -> tuple[dict[str, Any], list[ErrorDetail]]:
    values: dict[str, Any] = {}
    errors: list[ErrorDetail] = []
    for key, value in raw.items():
        clean = cleaners.get(key)
        if clean is None:
            errors.append(ErrorDetail(key, "unknown_field", "Unknown field"))
            continue
        try:
            values[key] = clean(value)
        except org_fields.FieldError as error:
            errors.append(ErrorDetail(key, error.code, error.message))
    return values, errors


def _text(clean: Callable[[str], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise org_fields.FieldError("invalid_type", "Must be text")
        return clean(value) if value.strip() else None

    return checked


def _mobile(value: Any) -> Any:
    # A masked number posted back (the form shows 138****5678) keeps the stored one.
    if isinstance(value, str) and org_fields.is_masked(value):
        return org_sync.UNSET
    return _text(org_fields.mobile)(value)


def _active(value: Any) -> bool:
    return org_fields.flag(value)


def _role_keys(value: Any) -> frozenset[str]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise org_fields.FieldError("invalid_type", "A list of role keys")
    return frozenset(org_fields.role_key(str(key)) for key in value)


def _password(value: Any) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 256:
        raise org_fields.FieldError("weak_password", "Password must be 8-256 characters")
    return value


_USER_CLEANERS: Mapping[str, Callable[[Any], Any]] = {
    "name_zh": _text(org_fields.name),
    "name_en": _text(org_fields.name),
    "department": _text(org_fields.department_code),
    "manager": _text(org_fields.username),
    "job_level": _text(org_fields.job_level),
    "email": _text(org_fields.email),
    "mobile": _mobile,
    "is_active": _active,
    "roles": _role_keys,
    "password": _password,
}


def save_user(
    ctx: ServiceContext,
    actor: Actor | None,
    username: str,
    fields: Mapping[str, object],
    *,
    create: bool = False,
) -> UserView:
    """Creates a user (`create`) or changes the given fields of one; audited."""
    _may_manage(actor)
    try:
        username = org_fields.username(username)
    except org_fields.FieldError as error:
        if not create:
            raise NotFound(f"No user {username[:64]}", "user_not_found") from None
        raise ValidationFailed(
            "Invalid username", [ErrorDetail("username", error.code, error.message)]
        ) from None
    values, errors = _cleaned(fields, _USER_CLEANERS)
    if errors:
        raise ValidationFailed("The user is invalid", errors)
    password = values.pop("password", None)
    if password is not None:
        values["password_hash"] = ctx.hasher.hash(password)
    values = {k: v for k, v in values.items() if v is not org_sync.UNSET}

    def guard(state: org_sync.OrgState) -> None:
        current = state.users.get(username)
        if create and current is not None:
            raise Conflict(f"User {username} exists", "user_exists")
        if not create and current is None:
            raise NotFound(f"No user {username}", "user_not_found")
        if current is not None and current.is_admin and actor is not None and not actor.is_admin:
            raise Forbidden("Only administrators may change an administrator")
        if actor is not None and actor.username == username and values.get("is_active") is False:
            raise Conflict("You cannot deactivate yourself", "cannot_deactivate_self")

    _sync(ctx, actor, users=[org_sync.UserRecord(username, **values)], guard=guard)
    return get_user(ctx, actor, username)


def set_active(ctx: ServiceContext, actor: Actor | None, username: str, active: bool) -> UserView:
    """Deactivating keeps the person's history and name; they cannot log in and get no
    new tasks, and their open tasks are handed over to their manager (those that cannot
    be, or all of them when they have no active manager, stay until an administrator
    hands them over). Reactivating undoes the rest."""
    return save_user(ctx, actor, username, {"is_active": active})


def get_user(ctx: ServiceContext, actor: Actor | None, username: str) -> UserView:
    _may_manage(actor)
    with ctx.db.read() as conn:
        row = org_store.user_by_username(conn, username.strip().lower()[:64])
        if row is None:
            raise NotFound(f"No user {username[:64]}", "user_not_found")
        return _user_views(conn, [row])[0]


def task_holder(ctx: ServiceContext, caller: Actor, username: str) -> Actor:
    """Whose tasks `caller` lists (GET /tasks?assignee=): another person's only for those
    who may read every ticket (administrators, auditors; others 403), e.g. to cover for
    someone on leave. An unknown username is a 422, as for every list filter."""
    if username in ("me", caller.username):
        return caller
    if not decide(caller, "ticket.read", ResourceFacts()):
        raise Forbidden("Only administrators and auditors list another person's tasks")
    with ctx.db.read() as conn:
        row = org_store.user_by_username(conn, username)
        if row is None:
            problem = ErrorDetail("assignee", "unknown_user", f"No user '{username[:64]}'")
            raise ValidationFailed("The list's parameters are invalid", [problem], "invalid_query")
        return auth.actor_from_row(conn, row)


def list_users(
    ctx: ServiceContext,
    actor: Actor | None,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    active: bool | None = None,
    department: str | None = None,
) -> UserPage:
    """Users in username order; `cursor` is the last id of the previous page."""
    _may_manage(actor)
    with ctx.db.read() as conn:
        after = None
        if cursor:
            last = org_store.user_by_id(conn, cursor)
            if last is None:
                raise ValidationFailed("Invalid cursor", code="invalid_cursor")
            after = last.username
        department_id = None
        if department:
            found = org_store.department_by_code(conn, department)
            if found is None:
                return UserPage((), None)
            department_id = found.id
        rows = org_store.users_page(
            conn,
            after_username=after,
            limit=limit + 1,
            q=(q or "").strip()[:100] or None,
            active=active,
            department_id=department_id,
        )
        views = _user_views(conn, rows[:limit])
    return UserPage(tuple(views), views[-1].id if len(rows) > limit else None)


def _user_views(conn: Connection, rows: Sequence[Row[Any]]) -> list[UserView]:
    departments = {row.id: row for row in org_store.all_departments(conn)}
    managers = org_store.usernames(conn, [r.manager_id for r in rows if r.manager_id])
    views = []
    for row in rows:
        department = departments.get(row.department_id) if row.department_id else None
        manager = managers.get(row.manager_id) if row.manager_id else None
        views.append(
            UserView(
                id=row.id,
                username=row.username,
                display_name=row.display_name,
                name_zh=row.name_zh,
                name_en=row.name_en,
                department=department.code if department else None,
                department_name=(
                    {"zh": department.name_zh, "en": department.name_en} if department else None
                ),
                manager=manager[0] if manager else None,
                manager_name=manager[1] if manager else None,
                job_level=row.job_level,
                email=row.email,
                mobile=org_fields.masked_mobile(row.mobile),
                is_active=bool(row.is_active),
                is_admin=bool(row.is_admin),
                roles=tuple(sorted(org_store.role_keys(conn, row.id))),
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        )
    return views


_DEPARTMENT_CLEANERS: Mapping[str, Callable[[Any], Any]] = {
    "name_zh": _text(org_fields.name),
    "name_en": _text(org_fields.name),
    "parent": _text(org_fields.department_code),
    "head": _text(org_fields.username),
}


def save_department(
    ctx: ServiceContext,
    actor: Actor | None,
    code: str,
    fields: Mapping[str, object],
    *,
    create: bool = False,
) -> DepartmentView:
    _may_manage(actor)
    try:
        code = org_fields.department_code(code)
    except org_fields.FieldError as error:
        if not create:
            raise NotFound(f"No department {code[:64]}", "department_not_found") from None
        raise ValidationFailed(
            "Invalid department code", [ErrorDetail("code", error.code, error.message)]
        ) from None
    values, errors = _cleaned(fields, _DEPARTMENT_CLEANERS)
    for name_field in ("name_zh", "name_en"):
        if name_field in values and values[name_field] is None:
            errors.append(ErrorDetail(name_field, "required", "A department needs a name"))
    if errors:
        raise ValidationFailed("The department is invalid", errors)

    def guard(state: org_sync.OrgState) -> None:
        exists = code in state.departments
        if create and exists:
            raise Conflict(f"Department {code} exists", "department_exists")
        if not create and not exists:
            raise NotFound(f"No department {code}", "department_not_found")

    _sync(ctx, actor, departments=[org_sync.DepartmentRecord(code, **values)], guard=guard)
    return next(d for d in list_departments(ctx, actor) if d.code == code)


def list_departments(ctx: ServiceContext, actor: Actor | None) -> list[DepartmentView]:
    """Every department, depth first: each one followed by its sub-departments."""
    _may_manage(actor)
    with ctx.db.read() as conn:
        rows = org_store.all_departments(conn)
        heads = org_store.usernames(conn, [r.head_user_id for r in rows if r.head_user_id])
        members = org_store.department_member_counts(conn)
    by_id = {row.id: row for row in rows}
    children: dict[str | None, list[Row[Any]]] = {}
    for row in rows:
        parent = row.parent_id if row.parent_id in by_id else None
        children.setdefault(parent, []).append(row)
    ordered: list[DepartmentView] = []
    placed: set[str] = set()

    def visit(parent: str | None, depth: int) -> None:
        for row in sorted(children.get(parent, []), key=lambda r: r.code):
            if row.id in placed:
                continue
            placed.add(row.id)
            head = heads.get(row.head_user_id) if row.head_user_id else None
            ordered.append(
                DepartmentView(
                    id=row.id,
                    code=row.code,
                    name={"zh": row.name_zh, "en": row.name_en},
                    parent=by_id[row.parent_id].code if row.parent_id in by_id else None,
                    head=head[0] if head else None,
                    head_name=head[1] if head else None,
                    depth=depth,
                    members=members.get(row.id, 0),
                )
            )
            visit(row.id, depth + 1)

    visit(None, 0)
    return ordered


_ROLE_CLEANERS: Mapping[str, Callable[[Any], Any]] = {
    "name_zh": _text(org_fields.name),
    "name_en": _text(org_fields.name),
}


def save_role(
    ctx: ServiceContext,
    actor: Actor | None,
    key: str,
    fields: Mapping[str, object],
    *,
    create: bool = False,
) -> RoleView:
    _may_manage(actor)
    try:
        key = org_fields.role_key(key)
    except org_fields.FieldError as error:
        if not create:
            raise NotFound(f"No role {key[:64]}", "role_not_found") from None
        raise ValidationFailed(
            "Invalid role key", [ErrorDetail("key", error.code, error.message)]
        ) from None
    values, errors = _cleaned(fields, _ROLE_CLEANERS)
    for name_field in ("name_zh", "name_en"):
        if name_field in values and values[name_field] is None:
            errors.append(ErrorDetail(name_field, "required", "A role needs a name"))
    if errors:
        raise ValidationFailed("The role is invalid", errors)

    def guard(state: org_sync.OrgState) -> None:
        exists = key in state.roles
        if create and exists:
            raise Conflict(f"Role {key} exists", "role_exists")
        if not create and not exists:
            raise NotFound(f"No role {key}", "role_not_found")

    _sync(ctx, actor, roles=[org_sync.RoleRecord(key, **values)], guard=guard)
    return next(r for r in list_roles(ctx, actor) if r.key == key)


def list_roles(ctx: ServiceContext, actor: Actor | None) -> list[RoleView]:
    _may_manage(actor)
    with ctx.db.read() as conn:
        rows = org_store.all_roles(conn)
        counts = org_store.member_counts(conn)
    return [
        RoleView(row.id, row.key, {"zh": row.name_zh, "en": row.name_en}, counts.get(row.id, 0))
        for row in rows
    ]


def role_members(ctx: ServiceContext, actor: Actor | None, key: str) -> list[UserView]:
    _may_manage(actor)
    with ctx.db.read() as conn:
        role = org_store.role_by_key(conn, key[:64])
        if role is None:
            raise NotFound(f"No role {key[:64]}", "role_not_found")
        return _user_views(conn, org_store.role_members(conn, role.id))


def import_org(
    ctx: ServiceContext,
    files: Sequence[tuple[str, bytes]],
    *,
    actor: Actor | None,
    dry_run: bool = False,
    encoding: org_import.Encoding = "auto",
) -> org_import.ImportReport:
    """The bulk import: every row checked first, then all written or nothing (ValidationFailed
    names each bad cell). A dry run is the preview: the same plan, nothing written."""
    _may_manage(actor)
    records = org_import.read_files(files, encoding)
    plan = _sync(
        ctx,
        actor,
        departments=records.departments,
        users=records.users,
        roles=records.roles,
        issues=records.issues,
        dry_run=dry_run,
        source="import",
    )
    return org_import.ImportReport(dry_run, records.sha256, plan.counts(), plan.changes)
