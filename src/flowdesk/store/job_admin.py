"""Jobs an administrator looks after: the ones that failed and wait for their next try,
the dead ones (out of attempts, or refused for good), and retrying one (ADR 0004, 0024)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, and_, select, update

from flowdesk.store.tables import Job, table_of

jobs = table_of(Job)
Listed = Literal["failed", "dead"]

# failed: tried, and queued again for after its back-off (a dead job retried starts over
# at no attempts, and is neither until it fails again)
_LISTED = {
    "failed": and_(jobs.c.state == "queued", jobs.c.attempts > 0, jobs.c.last_error.is_not(None)),
    "dead": jobs.c.state == "dead",
}


def listed(conn: Connection, state: Listed, *, after: int | None, limit: int) -> list[Row[Any]]:
    """Newest first (by id), `after` the id a previous page ended with."""
    query = select(jobs).where(_LISTED[state])
    if after is not None:
        query = query.where(jobs.c.id < after)
    return list(conn.execute(query.order_by(jobs.c.id.desc()).limit(limit)))


def job_by_id(conn: Connection, job_id: int) -> Row[Any] | None:
    return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def retry(conn: Connection, job_id: int, *, was: Listed, now: datetime) -> bool:
    """Due now; a dead job gets its attempts back. Conditional on the state the caller
    read, so of two retries at once (or a retry racing the worker) one applies."""
    values: dict[str, Any] = {"state": "queued", "due_at": now, "updated_at": now}
    if was == "dead":
        values["attempts"] = 0
    result = conn.execute(update(jobs).where(jobs.c.id == job_id, _LISTED[was]).values(values))
    return result.rowcount == 1
