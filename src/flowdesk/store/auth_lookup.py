"""Who holds a session or an API token: one statement per request.

The statements are built once, with bound parameters: building a select and its cache
key costs about twice what executing it costs on SQLite (~45 of ~70 µs).

The secret's row, its user and the org generation come back together, so a request
pays one round trip; the user's roles are cached per org generation by the caller
(`services.auth_cache`): role memberships bump the generation (database triggers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from flowdesk.store.driver_select import DriverSelect
from flowdesk.store.tables import ApiToken, OrgGeneration, User, WebSession, table_of

_tokens = table_of(ApiToken)
_sessions = table_of(WebSession)
_users = table_of(User)
_generation = table_of(OrgGeneration)

# What an Actor is made of (services.auth.actor_from_row), nothing more.
_HOLDER_COLUMNS = [
    _users.c[name]
    for name in (
        "id",
        "username",
        "display_name",
        "is_admin",
        "is_active",
        "department_id",
        "locale",
    )
]
_TOKEN_HOLDER = DriverSelect(
    select(
        _tokens.c.revoked_at,
        _tokens.c.expires_at.label("secret_expires_at"),
        *_HOLDER_COLUMNS,
        _generation.c.generation,
    )
    .join(_users, _users.c.id == _tokens.c.user_id)
    .join(_generation, _generation.c.id == 1)
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)
_SESSION_HOLDER = DriverSelect(
    select(
        _sessions.c.csrf_token,
        _sessions.c.expires_at.label("secret_expires_at"),
        *_HOLDER_COLUMNS,
        _generation.c.generation,
    )
    .join(_users, _users.c.id == _sessions.c.user_id)
    .join(_generation, _generation.c.id == 1)
    .where(_sessions.c.id_hash == bindparam("id_hash"))
)


def token_holder(conn: Connection, token_hash: str) -> Any | None:
    """The token's revoked_at and secret_expires_at, its user's Actor columns, the generation."""
    return _TOKEN_HOLDER.first(conn, {"token_hash": token_hash})


def session_holder(conn: Connection, id_hash: str) -> Any | None:
    """The session's csrf_token and secret_expires_at, its user's Actor columns, the generation."""
    return _SESSION_HOLDER.first(conn, {"id_hash": id_hash})
