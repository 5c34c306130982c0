"""Sessions, API tokens and login throttling rows. Secrets are stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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


def revoke_token(conn: Connection, token_hash: str, now: datetime) -> bool:
    result = conn.execute(
        update(tokens)
        .where(tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


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


def record_failure(conn: Connection, *, username: str, now: datetime) -> int:
    """Counts one more failure in a single statement and returns the new count.

    An upsert, so concurrent guesses neither lose counts nor collide on the first insert.
    """
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(throttle)
        .values(username=username, failures=1, locked_until=None, updated_at=now)
        .on_conflict_do_update(
            index_elements=["username"],
            set_={"failures": throttle.c.failures + 1, "updated_at": now},
        )
        .returning(throttle.c.failures)
    )
    return int(conn.execute(statement).scalar_one())


def lock_username(conn: Connection, *, username: str, until: datetime, now: datetime) -> None:
    conn.execute(
        update(throttle)
        .where(throttle.c.username == username)
        .values(failures=0, locked_until=until, updated_at=now)
    )


def clear_failures(conn: Connection, username: str) -> None:
    conn.execute(delete(throttle).where(throttle.c.username == username))
