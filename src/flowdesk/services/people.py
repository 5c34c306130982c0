"""The person a username names in an action (转交's new holder, 加签's signers, 代理's
substitute), refused the one way: 422 at the field for nobody by that name, or for an
inactive person where the action would give them tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.store import org as org_store


def named(conn: Connection, username: str, field: str) -> Row[Any]:
    """The user `username` (trimmed, lower-cased) names, or 422 `unknown_user` at `field`."""
    name = username.strip().lower()[:64]
    row = org_store.user_by_username(conn, name)
    if row is None:
        raise ValidationFailed(
            f"There is no user '{name}'",
            [ErrorDetail(field, "unknown_user", f"No user '{name}'")],
            code="unknown_user",
        )
    return row


def active(conn: Connection, username: str, field: str) -> Row[Any]:
    """As `named`, and 422 `user_inactive` for someone who may not be given tasks."""
    row = named(conn, username, field)
    if not row.is_active:
        raise ValidationFailed(
            f"'{row.username}' is inactive and cannot be given tasks",
            [ErrorDetail(field, "user_inactive", f"'{row.username}' is inactive")],
            code="user_inactive",
        )
    return row
