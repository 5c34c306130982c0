"""Users, departments and roles: the org chart assignee rules resolve against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, or_, select, update

from flowdesk.store.sql import Sql
from flowdesk.store.tables import Department, Role, User, UserRole, table_of

users = table_of(User)
departments = table_of(Department)
roles = table_of(Role)
user_roles = table_of(UserRole)

_USER_BY_USERNAME = select(users).where(users.c.username == bindparam("username"))
_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_DEPARTMENT_BY_CODE = select(departments).where(departments.c.code == bindparam("code"))
_ROLE_KEYS = (
    select(roles.c.key)
    .join(user_roles, user_roles.c.role_id == roles.c.id)
    .where(user_roles.c.user_id == bindparam("user_id"))
)
# Assignee resolution runs in every step: driver-level statements (see store/sql.py).
_ACTIVE_USER_ID = Sql("SELECT id FROM users WHERE username = :username AND is_active = :yes")
_USERS_WITH_ROLE = Sql(
    "SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
    " JOIN users u ON u.id = ur.user_id WHERE r.key = :role AND u.is_active = :yes"
    " ORDER BY ur.user_id"
)
# An inactive person is never newly assigned: heads and managers join their user row.
_DEPARTMENT_HEAD = Sql(
    "SELECT d.head_user_id FROM departments d JOIN users h ON h.id = d.head_user_id"
    " WHERE d.code = :code AND h.is_active = :yes"
)
_HEAD_OF_USERS_DEPARTMENT = Sql(
    "SELECT d.head_user_id FROM users u JOIN departments d ON d.id = u.department_id"
    " JOIN users h ON h.id = d.head_user_id WHERE u.id = :user_id AND h.is_active = :yes"
)
_JOB_LEVEL_AND_DEPARTMENT = Sql(
    "SELECT u.job_level, d.code FROM users u LEFT JOIN departments d ON d.id = u.department_id"
    " WHERE u.id = :user_id"
)
_MANAGER_OF = Sql(
    "SELECT m.id, m.is_active FROM users u JOIN users m ON m.id = u.manager_id"
    " WHERE u.id = :user_id"
)
# Bounds a walk up the manager chain even if a cycle was written in plain SQL.
MAX_CHAIN_WALK = 64


def insert_department(
    conn: Connection, *, id: str, code: str, name_en: str, name_zh: str, parent_id: str | None
) -> None:
    conn.execute(
        departments.insert(),
        {
            "id": id,
            "code": code,
            "name_en": name_en,
            "name_zh": name_zh,
            "parent_id": parent_id,
            "head_user_id": None,
        },
    )


def set_department_head(conn: Connection, department_id: str, user_id: str | None) -> None:
    conn.execute(
        update(departments).where(departments.c.id == department_id).values(head_user_id=user_id)
    )


def insert_user(
    conn: Connection,
    *,
    id: str,
    username: str,
    display_name: str,
    email: str | None,
    password_hash: str | None,
    department_id: str | None,
    manager_id: str | None,
    is_admin: bool,
    created_at: datetime,
    locale: str | None = None,
    name_zh: str | None = None,
    name_en: str | None = None,
    job_level: str | None = None,
    mobile: str | None = None,
    is_active: bool = True,
) -> None:
    conn.execute(
        users.insert(),
        {
            "id": id,
            "username": username,
            "display_name": display_name,
            "email": email,
            "password_hash": password_hash,
            "department_id": department_id,
            "manager_id": manager_id,
            "is_admin": is_admin,
            "is_active": is_active,
            "locale": locale,
            "created_at": created_at,
            "name_zh": name_zh,
            "name_en": name_en,
            "job_level": job_level,
            "mobile": mobile,
            "updated_at": created_at,
        },
    )


def set_password_hash(conn: Connection, user_id: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def ensure_role(conn: Connection, *, id: str, key: str, name_en: str, name_zh: str) -> str:
    existing = conn.execute(select(roles.c.id).where(roles.c.key == key)).scalar()
    if existing is not None:
        return str(existing)
    conn.execute(roles.insert(), {"id": id, "key": key, "name_en": name_en, "name_zh": name_zh})
    return id


def grant_role(conn: Connection, user_id: str, role_id: str) -> None:
    conn.execute(user_roles.insert(), {"user_id": user_id, "role_id": role_id})


def user_by_username(conn: Connection, username: str) -> Row[Any] | None:
    return conn.execute(_USER_BY_USERNAME, {"username": username}).first()


def user_by_id(conn: Connection, user_id: str) -> Row[Any] | None:
    return conn.execute(_USER_BY_ID, {"user_id": user_id}).first()


def role_keys(conn: Connection, user_id: str) -> frozenset[str]:
    return frozenset(conn.execute(_ROLE_KEYS, {"user_id": user_id}).scalars())


def users_with_role(conn: Connection, role_key: str) -> list[str]:
    return [row[0] for row in _USERS_WITH_ROLE.run(conn, {"role": role_key, "yes": True})]


def admins(conn: Connection) -> list[str]:
    """The active administrators, by id: a step's last fallback when its rule and its
    fallback name nobody (ADR 0041), so off the hot path (a plain select, not an `Sql`)."""
    users = User.__table__
    query = (
        select(users.c.id)
        .where(users.c.is_admin.is_(True), users.c.is_active.is_(True))
        .order_by(users.c.id)
    )
    return [str(row[0]) for row in conn.execute(query)]


def active_user_id(conn: Connection, username: str) -> str | None:
    row = _ACTIVE_USER_ID.run(conn, {"username": username, "yes": True}).fetchone()
    return str(row[0]) if row else None


def department_head(conn: Connection, code: str) -> str | None:
    """The department's head if they are active; an inactive head is nobody's assignee."""
    row = _DEPARTMENT_HEAD.run(conn, {"code": code, "yes": True}).fetchone()
    return str(row[0]) if row and row[0] else None


def head_of_users_department(conn: Connection, user_id: str) -> str | None:
    row = _HEAD_OF_USERS_DEPARTMENT.run(conn, {"user_id": user_id, "yes": True}).fetchone()
    return str(row[0]) if row and row[0] else None


def job_level_and_department(conn: Connection, user_id: str) -> tuple[str | None, str | None]:
    """The user's job level and department code (None for either they lack), for the
    conditions that read the applicant's (engines/apps/applicant.py)."""
    row = _JOB_LEVEL_AND_DEPARTMENT.run(conn, {"user_id": user_id}).fetchone()
    if row is None:
        return None, None
    return row[0], row[1]


def department_by_code(conn: Connection, code: str) -> Row[Any] | None:
    return conn.execute(_DEPARTMENT_BY_CODE, {"code": code}).first()


def manager_chain(conn: Connection, user_id: str, levels: int) -> list[str]:
    """The user's active managers going up, at most `levels` (fewer at the top).

    An inactive manager is passed over: their own manager takes their place, as the
    person now answering for that part of the chain."""
    chain: list[str] = []
    current = user_id
    seen = {user_id}
    for _ in range(MAX_CHAIN_WALK):
        if len(chain) >= levels:
            break
        row = _MANAGER_OF.run(conn, {"user_id": current}).fetchone()
        if row is None or str(row[0]) in seen:
            break
        current = str(row[0])
        seen.add(current)
        if row[1]:
            chain.append(current)
    return chain


# Built once (store/auth_lookup.py says why); the list of ids expands when it runs.
_DISPLAY_NAMES = select(users.c.id, users.c.display_name).where(
    users.c.id.in_(bindparam("ids", expanding=True))
)


def display_names(conn: Connection, user_ids: Iterable[str]) -> dict[str, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = conn.execute(_DISPLAY_NAMES, {"ids": ids})
    return {row.id: row.display_name for row in rows}


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


# Administration (services/org.py and services/org_import.py): not on the step's hot path.


def update_user(conn: Connection, user_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def update_department(conn: Connection, department_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(update(departments).where(departments.c.id == department_id).values(**values))


def insert_role(conn: Connection, *, id: str, key: str, name_en: str, name_zh: str) -> None:
    conn.execute(roles.insert(), {"id": id, "key": key, "name_en": name_en, "name_zh": name_zh})


def update_role(conn: Connection, role_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(update(roles).where(roles.c.id == role_id).values(**values))


def revoke_role(conn: Connection, user_id: str, role_id: str) -> None:
    conn.execute(
        delete(user_roles).where(
            and_(user_roles.c.user_id == user_id, user_roles.c.role_id == role_id)
        )
    )


def role_by_key(conn: Connection, key: str) -> Row[Any] | None:
    return conn.execute(select(roles).where(roles.c.key == key)).first()


def department_by_id(conn: Connection, department_id: str) -> Row[Any] | None:
    return conn.execute(select(departments).where(departments.c.id == department_id)).first()


def all_departments(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(departments).order_by(departments.c.code)))


def all_roles(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(roles).order_by(roles.c.key)))


def all_users(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(users).order_by(users.c.username)))


def all_memberships(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(select(user_roles.c.user_id, user_roles.c.role_id))
    return [(str(row.user_id), str(row.role_id)) for row in rows]


def role_ids_of(conn: Connection, user_id: str) -> set[str]:
    rows = conn.execute(select(user_roles.c.role_id).where(user_roles.c.user_id == user_id))
    return {str(role_id) for role_id in rows.scalars()}


def member_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(user_roles.c.role_id, func.count()).group_by(user_roles.c.role_id))
    return {str(row[0]): int(row[1]) for row in rows}


def role_members(conn: Connection, role_id: str) -> list[Row[Any]]:
    query = (
        select(users)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role_id == role_id)
        .order_by(users.c.username)
    )
    return list(conn.execute(query))


def users_page(
    conn: Connection,
    *,
    after_username: str | None,
    limit: int,
    q: str | None = None,
    active: bool | None = None,
    department_id: str | None = None,
) -> list[Row[Any]]:
    """Users in username order, after `after_username`; `q` matches username or names."""
    query = select(users).order_by(users.c.username).limit(limit)
    if after_username is not None:
        query = query.where(users.c.username > after_username)
    if active is not None:
        query = query.where(users.c.is_active == active)
    if department_id is not None:
        query = query.where(users.c.department_id == department_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern.lower(), escape="\\")
                    for column in (
                        users.c.username,
                        users.c.display_name,
                        users.c.name_zh,
                        users.c.name_en,
                    )
                )
            )
        )
    return list(conn.execute(query))


def usernames(conn: Connection, user_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """id → (username, display name) for the given ids."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = conn.execute(
        select(users.c.id, users.c.username, users.c.display_name).where(users.c.id.in_(ids))
    )
    return {row.id: (row.username, row.display_name) for row in rows}


def department_member_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(users.c.department_id, func.count())
        .where(users.c.department_id.is_not(None))
        .group_by(users.c.department_id)
    )
    return {str(row[0]): int(row[1]) for row in rows}


def insert_users(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Many new users in one executemany (the bulk import); keys as in `insert_user`."""
    if rows:
        conn.execute(users.insert(), [dict(row) for row in rows])


_SET_MANAGER = (
    update(users).where(users.c.id == bindparam("uid")).values(manager_id=bindparam("mid"))
)


def set_managers(conn: Connection, pairs: Sequence[tuple[str, str | None]]) -> None:
    """(user id, manager id) pairs in one executemany."""
    if pairs:
        conn.execute(_SET_MANAGER, [{"uid": uid, "mid": mid} for uid, mid in pairs])
