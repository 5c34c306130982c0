"""Users, departments and roles: the org chart assignee rules resolve against."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from flowdesk.store.tables import Department, Role, User, UserRole, table_of

users = table_of(User)
departments = table_of(Department)
roles = table_of(Role)
user_roles = table_of(UserRole)


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
    return conn.execute(select(users).where(users.c.username == username)).first()


def user_by_id(conn: Connection, user_id: str) -> Row[Any] | None:
    return conn.execute(select(users).where(users.c.id == user_id)).first()


def role_keys(conn: Connection, user_id: str) -> frozenset[str]:
    rows = conn.execute(
        select(roles.c.key)
        .join(user_roles, user_roles.c.role_id == roles.c.id)
        .where(user_roles.c.user_id == user_id)
    ).scalars()
    return frozenset(rows)


def users_with_role(conn: Connection, role_key: str) -> list[str]:
    return list(
        conn.execute(
            select(user_roles.c.user_id)
            .join(roles, roles.c.id == user_roles.c.role_id)
            .join(users, users.c.id == user_roles.c.user_id)
            .where(roles.c.key == role_key, users.c.is_active.is_(True))
            .order_by(user_roles.c.user_id)
        ).scalars()
    )


def department_by_code(conn: Connection, code: str) -> Row[Any] | None:
    return conn.execute(select(departments).where(departments.c.code == code)).first()


def department_by_id(conn: Connection, department_id: str) -> Row[Any] | None:
    return conn.execute(select(departments).where(departments.c.id == department_id)).first()


def manager_chain(conn: Connection, user_id: str, levels: int) -> list[str]:
    """The user's manager, their manager, … up to `levels` steps (fewer at the top)."""
    chain: list[str] = []
    current = user_id
    for _ in range(levels):
        manager = conn.execute(select(users.c.manager_id).where(users.c.id == current)).scalar()
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


def list_departments(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(departments).order_by(departments.c.code)))
