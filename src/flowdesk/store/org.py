"""Users, departments and roles: the org chart assignee rules resolve against."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, update

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
_DEPARTMENT_HEAD = Sql("SELECT head_user_id FROM departments WHERE code = :code")
_HEAD_OF_USERS_DEPARTMENT = Sql(
    "SELECT d.head_user_id FROM users u JOIN departments d ON d.id = u.department_id"
    " WHERE u.id = :user_id"
)
_MANAGER_OF = Sql("SELECT manager_id FROM users WHERE id = :user_id")


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
            "is_active": True,
            "locale": locale,
            "created_at": created_at,
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


def active_user_id(conn: Connection, username: str) -> str | None:
    row = _ACTIVE_USER_ID.run(conn, {"username": username, "yes": True}).fetchone()
    return str(row[0]) if row else None


def department_head(conn: Connection, code: str) -> str | None:
    row = _DEPARTMENT_HEAD.run(conn, {"code": code}).fetchone()
    return str(row[0]) if row and row[0] else None


def head_of_users_department(conn: Connection, user_id: str) -> str | None:
    row = _HEAD_OF_USERS_DEPARTMENT.run(conn, {"user_id": user_id}).fetchone()
    return str(row[0]) if row and row[0] else None


def department_by_code(conn: Connection, code: str) -> Row[Any] | None:
    return conn.execute(_DEPARTMENT_BY_CODE, {"code": code}).first()


def manager_chain(conn: Connection, user_id: str, levels: int) -> list[str]:
    """The user's manager, their manager, … up to `levels` steps (fewer at the top)."""
    chain: list[str] = []
    current = user_id
    for _ in range(levels):
        row = _MANAGER_OF.run(conn, {"user_id": current}).fetchone()
        manager = row[0] if row else None
        if manager is None:
            break
        chain.append(str(manager))
        current = str(manager)
    return chain


def display_names(conn: Connection, user_ids: Iterable[str]) -> dict[str, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = conn.execute(select(users.c.id, users.c.display_name).where(users.c.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())
