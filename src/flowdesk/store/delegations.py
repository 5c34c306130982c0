"""Delegations (代理): out-of-office rules, read whole for the per-generation cache and
listed per person; revoking keeps the row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update
from sqlalchemy.orm import aliased

from flowdesk.store.tables import Delegation, User, table_of

delegations = table_of(Delegation)
users = table_of(User)


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(delegations.insert(), row)


def revoke(conn: Connection, delegation_id: str, at: datetime) -> None:
    conn.execute(update(delegations).where(delegations.c.id == delegation_id).values(revoked_at=at))


def by_id(conn: Connection, delegation_id: str) -> Row[Any] | None:
    return conn.execute(select(delegations).where(delegations.c.id == delegation_id)).first()


def in_force(conn: Connection, now: datetime, *, active_only: bool = False) -> list[Row[Any]]:
    """Every rule not revoked and not over at `now` (those still to come included);
    `active_only`: only those whose delegate is an active user."""
    query = select(
        delegations.c.principal_id,
        delegations.c.delegate_id,
        delegations.c.app_key,
        delegations.c.starts_at,
        delegations.c.ends_at,
    ).where(delegations.c.revoked_at.is_(None), delegations.c.ends_at > now)
    if active_only:
        query = query.join(users, users.c.id == delegations.c.delegate_id).where(
            users.c.is_active.is_(True)
        )
    return list(conn.execute(query))


def of_person(conn: Connection, user_id: str, *, limit: int = 100) -> list[Row[Any]]:
    """The rules where `user_id` is the principal or the delegate, newest first, with names."""
    principal = aliased(users)
    delegate = aliased(users)
    query = (
        select(
            delegations,
            principal.c.username.label("principal_username"),
            principal.c.display_name.label("principal_name"),
            delegate.c.username.label("delegate_username"),
            delegate.c.display_name.label("delegate_name"),
        )
        .join(principal, principal.c.id == delegations.c.principal_id)
        .join(delegate, delegate.c.id == delegations.c.delegate_id)
        .where(or_(delegations.c.principal_id == user_id, delegations.c.delegate_id == user_id))
        .order_by(delegations.c.created_at.desc(), delegations.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query))
