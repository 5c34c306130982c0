"""Sessions, API tokens and login throttling rows. Secrets are stored only as hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, delete, literal, select, tuple_, update
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


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))


@dataclass(frozen=True, slots=True)
class Reservation:
    attempts: int  # this attempt included
    expires_at: datetime  # when the window (and with it the count) ends


def reserve_attempt(
    conn: Connection, *, scope: str, subject: str, window: timedelta, now: datetime
) -> Reservation:
    """Counts one more attempt in a single statement and returns the count with it.

    An upsert: concurrent attempts serialize on the row (PostgreSQL's row lock, SQLite's
    single writer), so each sees a distinct count and none is lost. A window that has
    ended starts again at 1.
    """
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    ended = throttle.c.expires_at <= now
    renewed = literal(now + window, type_=throttle.c.expires_at.type)
    statement = (
        insert(throttle)
        .values(scope=scope, subject=subject, attempts=1, expires_at=now + window, updated_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "subject"],
            set_={
                "attempts": case((ended, 1), else_=throttle.c.attempts + 1),
                "expires_at": case((ended, renewed), else_=throttle.c.expires_at),
                "updated_at": now,
            },
        )
        .returning(throttle.c.attempts, throttle.c.expires_at)
    )
    row = conn.execute(statement).one()
    return Reservation(int(row.attempts), row.expires_at)


def refund_attempt(conn: Connection, *, scope: str, subject: str) -> None:
    """Takes back one reserved attempt (a login that succeeded was no guess)."""
    conn.execute(
        update(throttle)
        .where(throttle.c.scope == scope, throttle.c.subject == subject, throttle.c.attempts > 0)
        .values(attempts=throttle.c.attempts - 1)
    )


def is_live(conn: Connection, *, scope: str, subject: str, now: datetime) -> bool:
    found = conn.execute(
        select(throttle.c.expires_at).where(
            throttle.c.scope == scope, throttle.c.subject == subject, throttle.c.expires_at > now
        )
    ).first()
    return found is not None


def remember(conn: Connection, *, scope: str, subject: str, until: datetime, now: datetime) -> None:
    """Upserts a marker row that lasts until `until` (e.g. an address the user logs in from)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        insert(throttle)
        .values(scope=scope, subject=subject, attempts=0, expires_at=until, updated_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "subject"], set_={"expires_at": until, "updated_at": now}
        )
    )


def forget(conn: Connection, *, scope: str, subject: str) -> None:
    conn.execute(delete(throttle).where(throttle.c.scope == scope, throttle.c.subject == subject))


def purge_expired_throttle(conn: Connection, *, now: datetime, limit: int) -> int:
    """Deletes up to `limit` rows whose window ended; returns how many."""
    key = tuple_(throttle.c.scope, throttle.c.subject)
    doomed = select(throttle.c.scope, throttle.c.subject).where(throttle.c.expires_at <= now)
    result = conn.execute(delete(throttle).where(key.in_(doomed.limit(limit))))
    return int(result.rowcount)


def purge_expired_sessions(conn: Connection, *, now: datetime, limit: int) -> int:
    """Deletes up to `limit` expired browser sessions; returns how many."""
    doomed = select(sessions.c.id_hash).where(sessions.c.expires_at <= now).limit(limit)
    result = conn.execute(delete(sessions).where(sessions.c.id_hash.in_(doomed.scalar_subquery())))
    return int(result.rowcount)
