"""The job queue: rows with due time, lease and fenced completion (RELIABILITY.md 3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, or_, select, update

from flowdesk.store.sql import Sql, document, when
from flowdesk.store.tables import Job, table_of

jobs = table_of(Job)
DEFAULT_MAX_ATTEMPTS = 5

# A NULL idempotency key never conflicts, so one statement serves keyed and unkeyed jobs
# (the unique index covers keyed jobs only).
_ENQUEUE = Sql(
    "INSERT INTO jobs (kind, payload, state, due_at, attempts, max_attempts, owner, lease_until,"
    " idempotency_key, last_error, created_at, updated_at) VALUES (:kind, :payload, 'queued',"
    " :due_at, 0, :max_attempts, NULL, NULL, :idempotency_key, NULL, :now, :now)"
    " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
)


def enqueue(
    conn: Connection,
    *,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    now: datetime,
    idempotency_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Queues a job in the caller's transaction; a repeated idempotency key is a no-op."""
    _ENQUEUE.run(
        conn,
        {
            "kind": kind,
            "payload": document(conn, payload),
            "due_at": when(conn, due_at),
            "max_attempts": max_attempts,
            "idempotency_key": idempotency_key,
            "now": when(conn, now),
        },
    )


def claim(
    conn: Connection, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Row[Any]]:
    """Leases due jobs to `owner`; an expired lease is taken over as a new attempt."""
    due = and_(
        jobs.c.due_at <= now,
        or_(jobs.c.state == "queued", and_(jobs.c.state == "running", jobs.c.lease_until < now)),
    )
    query = (
        select(jobs.c.id, jobs.c.attempts, jobs.c.max_attempts, jobs.c.state)
        .where(due)
        .order_by(jobs.c.due_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for job_id, attempts, max_attempts, state in conn.execute(query).all():
        if state == "running" and attempts >= max_attempts:
            # The last attempt's lease ran out: that counts as its failure.
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    state="dead",
                    owner=None,
                    lease_until=None,
                    updated_at=now,
                    last_error="lease expired on the last attempt",
                )
            )
            continue
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                state="running",
                owner=owner,
                lease_until=now + lease,
                attempts=attempts + 1,
                updated_at=now,
            )
        )
        claimed.append(job_id)
    if not claimed:
        return []
    return list(conn.execute(select(jobs).where(jobs.c.id.in_(claimed)).order_by(jobs.c.id)))


def finish(conn: Connection, *, job_id: int, owner: str, attempt: int, now: datetime) -> bool:
    """Fenced: only the current lease holder of this attempt may mark the job done."""
    result = conn.execute(
        update(jobs)
        .where(
            jobs.c.id == job_id,
            jobs.c.owner == owner,
            jobs.c.attempts == attempt,
            jobs.c.state == "running",
        )
        .values(state="done", lease_until=None, updated_at=now)
    )
    return result.rowcount == 1


def fail(
    conn: Connection,
    *,
    job_id: int,
    owner: str,
    attempt: int,
    max_attempts: int,
    error: str,
    now: datetime,
    retry_at: datetime,
) -> bool:
    """Records a failure; out of attempts the job becomes a visible 'dead' incident."""
    state = "dead" if attempt >= max_attempts else "queued"
    result = conn.execute(
        update(jobs)
        .where(
            jobs.c.id == job_id,
            jobs.c.owner == owner,
            jobs.c.attempts == attempt,
            jobs.c.state == "running",
        )
        .values(
            state=state,
            owner=None,
            lease_until=None,
            last_error=error[:2000],
            due_at=retry_at,
            updated_at=now,
        )
    )
    return result.rowcount == 1


def retry_dead(conn: Connection, job_id: int, now: datetime) -> bool:
    result = conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == "dead")
        .values(state="queued", attempts=0, due_at=now, updated_at=now)
    )
    return result.rowcount == 1


def by_state(conn: Connection, state: str, limit: int = 100) -> list[Row[Any]]:
    return list(
        conn.execute(select(jobs).where(jobs.c.state == state).order_by(jobs.c.id).limit(limit))
    )
