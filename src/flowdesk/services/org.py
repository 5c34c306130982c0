"""Maintaining the org chart: departments, people, managers and roles."""

from __future__ import annotations

import re

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from flowdesk.kernel.ids import new_id
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
