"""Bringing the org chart to a wanted state: one planner for admin edits and bulk imports.

Records say what a department, user or role should be; a field left UNSET keeps its
current value. `plan` reads the current chart, checks every reference and cycle against
the chart as it would be afterwards, and returns the changes — or every problem, with
where it came from. `apply` writes the plan and one audit entry per changed entity, in
the caller's transaction. A record equal to what is stored yields no change at all, so
re-importing the same file writes nothing (not even audit entries).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import Connection

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.kernel.ids import new_id
from flowdesk.services import org_fields
from flowdesk.store import audit as audit_store
from flowdesk.store import org as org_store


class _Unset:
    """A field the record does not speak about: its current value stays."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
MAX_ISSUES = 200


@dataclass(frozen=True)
class Where:
    """Where a record came from, to name it in errors: a sheet row, or an API body."""

    sheet: str = ""
    row: int = 0
    columns: Mapping[str, str] = field(default_factory=dict)  # field → column letter

    def path(self, name: str) -> str:
        if not self.sheet:
            return name
        return f"{self.sheet}!{self.columns.get(name, '')}{self.row}"

    def issue(self, name: str, code: str, message: str) -> ErrorDetail:
        if self.sheet:
            message = f"{self.sheet} row {self.row}, {name}: {message}"
        return ErrorDetail(self.path(name), code, message)


@dataclass(frozen=True)
class DepartmentRecord:
    code: str
    name_zh: str | _Unset = UNSET
    name_en: str | _Unset = UNSET
    parent: str | _Unset | None = UNSET
    head: str | _Unset | None = UNSET
    where: Where = Where()


@dataclass(frozen=True)
class UserRecord:
    username: str
    name_zh: str | _Unset | None = UNSET
    name_en: str | _Unset | None = UNSET
    department: str | _Unset | None = UNSET
    manager: str | _Unset | None = UNSET
    job_level: str | _Unset | None = UNSET
    email: str | _Unset | None = UNSET
    mobile: str | _Unset | None = UNSET
    is_active: bool | _Unset = UNSET
    roles: frozenset[str] | _Unset = UNSET
    password_hash: str | _Unset = UNSET
    where: Where = Where()


@dataclass(frozen=True)
class RoleRecord:
    key: str
    name_zh: str | _Unset = UNSET
    name_en: str | _Unset = UNSET
    where: Where = Where()


@dataclass
class _Department:
    id: str
    code: str
    name_zh: str
    name_en: str
    parent: str | None
    head: str | None


@dataclass
class _User:
    id: str
    username: str
    name_zh: str | None
    name_en: str | None
    department: str | None
    manager: str | None
    job_level: str | None
    email: str | None
    mobile: str | None
    is_active: bool
    roles: frozenset[str]
    display_name: str
    password_hash: str | None = None
    is_admin: bool = False


@dataclass
class _Role:
    id: str
    key: str
    name_zh: str
    name_en: str


@dataclass
class OrgState:
    departments: dict[str, _Department]
    users: dict[str, _User]
    roles: dict[str, _Role]


Kind = Literal["department", "user", "role"]


@dataclass(frozen=True)
class Change:
    kind: Kind
    key: str
    action: Literal["create", "update"]
    fields: tuple[str, ...]
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unchanged: Mapping[Kind, int]

    def counts(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        kinds: tuple[Kind, ...] = ("department", "user", "role")
        for kind in kinds:
            mine = [c for c in self.changes if c.kind == kind]
            found[kind] = {
                "created": sum(c.action == "create" for c in mine),
                "updated": sum(c.action == "update" for c in mine),
                "unchanged": self.unchanged.get(kind, 0),
            }
        return found


def load_state(conn: Connection) -> OrgState:
    department_rows = org_store.all_departments(conn)
    user_rows = org_store.all_users(conn)
    role_rows = org_store.all_roles(conn)
    code_of = {row.id: row.code for row in department_rows}
    username_of = {row.id: row.username for row in user_rows}
    key_of = {row.id: row.key for row in role_rows}
    held: dict[str, set[str]] = {}
    for user_id, role_id in org_store.all_memberships(conn):
        held.setdefault(user_id, set()).add(key_of[role_id])
    return OrgState(
        departments={
            row.code: _Department(
                row.id,
                row.code,
                row.name_zh,
                row.name_en,
                code_of.get(row.parent_id) if row.parent_id else None,
                username_of.get(row.head_user_id) if row.head_user_id else None,
            )
            for row in department_rows
        },
        users={
            row.username: _User(
                row.id,
                row.username,
                row.name_zh,
                row.name_en,
                code_of.get(row.department_id) if row.department_id else None,
                username_of.get(row.manager_id) if row.manager_id else None,
                row.job_level,
                row.email,
                row.mobile,
                bool(row.is_active),
                frozenset(held.get(row.id, ())),
                row.display_name,
                is_admin=bool(row.is_admin),
            )
            for row in user_rows
        },
        roles={row.key: _Role(row.id, row.key, row.name_zh, row.name_en) for row in role_rows},
    )


def _given(record: object, names: Sequence[str]) -> dict[str, Any]:
    return {n: getattr(record, n) for n in names if getattr(record, n) is not UNSET}


def _new_names(given: dict[str, Any]) -> tuple[str, str] | None:
    """A new role's or department's (zh, en) names: either one stands in for the other."""
    zh = given.get("name_zh") or given.get("name_en")
    en = given.get("name_en") or given.get("name_zh")
    return (zh, en) if zh and en else None


_DEPARTMENT_FIELDS = ("name_zh", "name_en", "parent", "head")
_USER_FIELDS = (
    "name_zh",
    "name_en",
    "department",
    "manager",
    "job_level",
    "email",
    "mobile",
    "is_active",
    "roles",
    "password_hash",
)
_ROLE_FIELDS = ("name_zh", "name_en")


def plan(
    state: OrgState,
    *,
    departments: Iterable[DepartmentRecord] = (),
    users: Iterable[UserRecord] = (),
    roles: Iterable[RoleRecord] = (),
    issues: list[ErrorDetail] | None = None,
) -> tuple[Plan, OrgState]:
    """The changes that bring `state` to the records, and the state afterwards.

    Raises ValidationFailed with every problem (and `issues` found earlier) if any."""
    problems = list(issues or [])
    after = OrgState(
        {k: replace(v) for k, v in state.departments.items()},
        {k: replace(v) for k, v in state.users.items()},
        {k: replace(v) for k, v in state.roles.items()},
    )
    changes: list[Change] = []
    unchanged: dict[Kind, int] = {"department": 0, "user": 0, "role": 0}
    department_where: dict[str, Where] = {}
    user_where: dict[str, Where] = {}

    def seen_twice(seen: dict[str, Where], key: str, where: Where, name: str) -> bool:
        if key in seen:
            problems.append(where.issue(name, "duplicate", f"{key} appears twice"))
            return True
        seen[key] = where
        return False

    role_where: dict[str, Where] = {}
    for role_record in roles:
        if seen_twice(role_where, role_record.key, role_record.where, "key"):
            continue
        given = _given(role_record, _ROLE_FIELDS)
        current = after.roles.get(role_record.key)
        if current is None:
            names = _new_names(given)
            if names is None:
                problems.append(
                    role_record.where.issue("name_zh", "required", "A new role needs a name")
                )
                continue
            after.roles[role_record.key] = _Role(new_id(), role_record.key, *names)
            changes.append(Change("role", role_record.key, "create", ("name_zh", "name_en")))
            continue
        changed = tuple(n for n, v in given.items() if v and getattr(current, n) != v)
        for n in changed:
            setattr(current, n, given[n])
        _count(changes, unchanged, "role", role_record.key, changed)

    for department_record in departments:
        if seen_twice(department_where, department_record.code, department_record.where, "code"):
            continue
        given = _given(department_record, _DEPARTMENT_FIELDS)
        current_department = after.departments.get(department_record.code)
        if current_department is None:
            names = _new_names(given)
            if names is None:
                problems.append(
                    department_record.where.issue(
                        "name_zh", "required", "A new department needs a name"
                    )
                )
                continue
            after.departments[department_record.code] = _Department(
                new_id(), department_record.code, *names, given.get("parent"), given.get("head")
            )
            changes.append(
                Change(
                    "department",
                    department_record.code,
                    "create",
                    tuple(sorted(given)) or ("name_zh",),
                )
            )
            continue
        changed = tuple(
            n
            for n, v in given.items()
            if getattr(current_department, n) != v and (v or n in ("parent", "head"))
        )
        for n in changed:
            setattr(current_department, n, given[n])
        _count(changes, unchanged, "department", department_record.code, changed)

    for user_record in users:
        if seen_twice(user_where, user_record.username, user_record.where, "username"):
            continue
        given = _given(user_record, _USER_FIELDS)
        current_user = after.users.get(user_record.username)
        if current_user is None:
            if not given.get("name_zh") and not given.get("name_en"):
                problems.append(
                    user_record.where.issue("name_zh", "required", "A new user needs a name")
                )
                continue
            roles_given = given.get("roles", frozenset())
            after.users[user_record.username] = _User(
                new_id(),
                user_record.username,
                given.get("name_zh"),
                given.get("name_en"),
                given.get("department"),
                given.get("manager"),
                given.get("job_level"),
                given.get("email"),
                given.get("mobile"),
                given.get("is_active", True),
                roles_given,
                org_fields.display_name(
                    given.get("name_zh"), given.get("name_en"), user_record.username
                ),
                given.get("password_hash"),
            )
            fields_set = tuple(n for n in sorted(given) if n != "password_hash")
            changes.append(Change("user", user_record.username, "create", fields_set))
            continue
        before_roles = current_user.roles
        changed = tuple(n for n, v in given.items() if getattr(current_user, n) != v)
        for n in changed:
            setattr(current_user, n, given[n])
        if not current_user.name_zh and not current_user.name_en:
            problems.append(user_record.where.issue("name_zh", "required", "A user needs a name"))
        current_user.display_name = org_fields.display_name(
            current_user.name_zh, current_user.name_en, user_record.username
        )
        if changed:
            changes.append(
                Change(
                    "user",
                    user_record.username,
                    "update",
                    changed,
                    before=before_roles,
                    after=current_user.roles,
                )
            )
        else:
            unchanged["user"] += 1

    _check_references(after, department_where, user_where, role_where, problems)
    if problems:
        raise ValidationFailed(
            f"{len(problems)} problem(s) found; nothing was changed", problems[:MAX_ISSUES]
        )
    return Plan(tuple(changes), unchanged), after


def _count(
    changes: list[Change], unchanged: dict[Kind, int], kind: Kind, key: str, fields: tuple[str, ...]
) -> None:
    if fields:
        changes.append(Change(kind, key, "update", fields))
    else:
        unchanged[kind] += 1


def _check_references(
    after: OrgState,
    department_where: Mapping[str, Where],
    user_where: Mapping[str, Where],
    role_where: Mapping[str, Where],
    problems: list[ErrorDetail],
) -> None:
    """References name what exists afterwards; no department is its own ancestor and no
    one their own manager. Checked for the records given (others were checked before)."""
    for code, where in department_where.items():
        department = after.departments.get(code)
        if department is None:
            continue
        if department.parent is not None and department.parent not in after.departments:
            problems.append(where.issue("parent", "unknown_department", "No such department"))
        elif _cycles(code, lambda c: after.departments[c].parent, after.departments):
            problems.append(
                where.issue("parent", "department_cycle", "The department would be its own parent")
            )
        if department.head is not None and department.head not in after.users:
            problems.append(where.issue("head", "unknown_user", "No such user"))
    for username, where in user_where.items():
        user = after.users.get(username)
        if user is None:
            continue
        if user.department is not None and user.department not in after.departments:
            problems.append(where.issue("department", "unknown_department", "No such department"))
        if user.manager is not None and user.manager not in after.users:
            problems.append(where.issue("manager", "unknown_user", "No such user"))
        elif _cycles(username, lambda u: after.users[u].manager, after.users):
            problems.append(
                where.issue("manager", "manager_cycle", "The user would manage themselves")
            )
        unknown = sorted(user.roles - after.roles.keys())
        if unknown:
            problems.append(
                where.issue("roles", "unknown_role", "No such role: " + ", ".join(unknown))
            )


def _cycles(start: str, up: Callable[[str], str | None], known: Mapping[str, object]) -> bool:
    """Whether walking up from `start` comes round again (to it or into a loop above it)."""
    seen = {start}
    current = up(start)
    while current is not None and current in known:
        if current in seen:
            return True
        seen.add(current)
        current = up(current)
    return False


def apply(
    conn: Connection,
    plan_: Plan,
    after: OrgState,
    *,
    actor: str,
    now: datetime,
    source: str,
) -> None:
    """Writes the plan: creations first without references, then every reference (so a
    row may name one further down the file), then one audit entry per changed entity."""
    departments = after.departments
    users = after.users
    dept_id = {code: d.id for code, d in departments.items()}
    user_id = {name: u.id for name, u in users.items()}
    role_id = {key: r.id for key, r in after.roles.items()}

    for change in plan_.changes:
        if change.kind == "role":
            role = after.roles[change.key]
            if change.action == "create":
                org_store.insert_role(
                    conn, id=role.id, key=role.key, name_en=role.name_en, name_zh=role.name_zh
                )
            else:
                org_store.update_role(conn, role.id, {n: getattr(role, n) for n in change.fields})
    for change in plan_.changes:
        if change.kind == "department" and change.action == "create":
            d = departments[change.key]
            org_store.insert_department(
                conn, id=d.id, code=d.code, name_en=d.name_en, name_zh=d.name_zh, parent_id=None
            )
    new_users = []
    for change in plan_.changes:
        if change.kind == "user" and change.action == "create":
            u = users[change.key]
            new_users.append(
                {
                    "id": u.id,
                    "username": u.username,
                    "display_name": u.display_name,
                    "email": u.email,
                    "password_hash": u.password_hash,
                    "department_id": dept_id[u.department] if u.department else None,
                    "manager_id": None,
                    "is_admin": False,
                    "is_active": u.is_active,
                    "locale": None,
                    "created_at": now,
                    "name_zh": u.name_zh,
                    "name_en": u.name_en,
                    "job_level": u.job_level,
                    "mobile": u.mobile,
                    "updated_at": now,
                }
            )
    org_store.insert_users(conn, new_users)
    managers: list[tuple[str, str | None]] = []
    for change in plan_.changes:
        if change.kind == "department":
            d = departments[change.key]
            values: dict[str, Any] = {}
            for n in change.fields:
                if n == "parent":
                    values["parent_id"] = dept_id[d.parent] if d.parent else None
                elif n == "head":
                    values["head_user_id"] = user_id[d.head] if d.head else None
                elif change.action == "update":
                    values[n] = getattr(d, n)
            if values:
                org_store.update_department(conn, d.id, values)
        elif change.kind == "user":
            user = users[change.key]
            if "manager" in change.fields:
                managers.append((user.id, user_id[user.manager] if user.manager else None))
            _write_user(conn, change, user, dept_id, role_id, now)
    org_store.set_managers(conn, managers)
    for change in plan_.changes:
        _audit(conn, change, after, actor=actor, now=now, source=source)


def _write_user(
    conn: Connection,
    change: Change,
    user: _User,
    dept_id: Mapping[str, str],
    role_id: Mapping[str, str],
    now: datetime,
) -> None:
    """A user's own columns and role grants; managers are set by the caller, in bulk."""
    values: dict[str, Any] = {}
    for n in change.fields:
        if n == "manager" or change.action == "create" or n == "roles":
            continue
        elif n == "department":
            values["department_id"] = dept_id[user.department] if user.department else None
        else:
            values[n] = getattr(user, n)
    if change.action == "update":
        values["display_name"] = user.display_name
        values["updated_at"] = now
    if values:
        org_store.update_user(conn, user.id, values)
    if "roles" in change.fields:
        before: frozenset[str] = change.before or frozenset()
        for key in sorted(user.roles - before):
            org_store.grant_role(conn, user.id, role_id[key])
        for key in sorted(before - user.roles):
            org_store.revoke_role(conn, user.id, role_id[key])


def _audit(
    conn: Connection, change: Change, after: OrgState, *, actor: str, now: datetime, source: str
) -> None:
    """Names the fields that changed, never their values (names, mobiles, e-mails are
    personal); role changes name the role keys."""
    details: dict[str, Any] = {"source": source, "fields": list(change.fields)}
    target_id: str
    action = f"{change.kind}.{change.action}"
    if change.kind == "user":
        user = after.users[change.key]
        target_id = user.id
        details["username"] = change.key
        if change.action == "update" and change.fields == ("is_active",):
            action = "user.reactivate" if user.is_active else "user.deactivate"
        if "roles" in change.fields:
            before: frozenset[str] = change.before or frozenset()
            details["roles_added"] = sorted(user.roles - before)
            details["roles_removed"] = sorted(before - user.roles)
    elif change.kind == "department":
        target_id = after.departments[change.key].id
        details["code"] = change.key
    else:
        target_id = after.roles[change.key].id
        details["key"] = change.key
    audit_store.append(
        conn,
        at=now,
        actor=actor,
        action=action,
        target_type=change.kind,
        target_id=target_id,
        details=details,
    )
