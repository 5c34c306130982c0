"""Sessions, API tokens and login throttling rows. Secrets are stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from flowdesk.store.tables import ApiToken, LoginThrottle, WebSession, table_of

tokens = table_of(ApiToken)
sessions = table_of(WebSession)
throttle = table_of(LoginThrottle)


def insert_token(
    conn: Connection,
    *,
    id: str,
    user_id: str,
    name: str,
    token_hash: str,
    prefix: str,
    created_at: datetime,
    expires_at: datetime | None,
) -> None:
    conn.execute(
        tokens.insert(),
        {
            "id": id,
            "user_id": user_id,
            "name": name,
            "token_hash": token_hash,
            "prefix": prefix,
            "created_at": created_at,
            "expires_at": expires_at,
            "revoked_at": None,
        },
    )


def token_by_hash(conn: Connection, token_hash: str) -> Row[Any] | None:
    return conn.execute(select(tokens).where(tokens.c.token_hash == token_hash)).first()


def insert_session(
    conn: Connection,
    *,
    id_hash: str,
    user_id: str,
    csrf_token: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        sessions.insert(),
        {
            "id_hash": id_hash,
            "user_id": user_id,
            "csrf_token": csrf_token,
            "created_at": created_at,
            "expires_at": expires_at,
        },
    )


def session_by_hash(conn: Connection, id_hash: str) -> Row[Any] | None:
    return conn.execute(select(sessions).where(sessions.c.id_hash == id_hash)).first()


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))


def throttle_row(conn: Connection, username: str) -> Row[Any] | None:
    return conn.execute(select(throttle).where(throttle.c.username == username)).first()


def record_failure(
    conn: Connection, *, username: str, failures: int, locked_until: datetime | None, now: datetime
) -> None:
    values = {"failures": failures, "locked_until": locked_until, "updated_at": now}
    done = conn.execute(update(throttle).where(throttle.c.username == username).values(values))
    if done.rowcount == 0:
        conn.execute(throttle.insert(), {"username": username, **values})


def clear_failures(conn: Connection, username: str) -> None:
    conn.execute(delete(throttle).where(throttle.c.username == username))
