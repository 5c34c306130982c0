"""Background jobs for administrators (issue 8's "retry a failed job"): the failed and the
dead ones listed, one retried. Administrators only (`jobs.manage`); a retry is audited in
its own transaction. A view shows what a job is about (its ticket, a webhook's host and
node) but never its payload, which may hold form values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flowdesk.engines.access import Actor, decide
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import job_admin as job_store
from flowdesk.store.job_admin import Listed as Listed  # the states an admin lists

MAX_LIMIT = 200


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    state: str  # queued (failed, waiting for its next try), running, done or dead
    attempts: int
    max_attempts: int
    last_error: str | None
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    ticket_id: str | None
    node_id: str | None  # a webhook's service task
    target: str | None  # a webhook's host

    @property
    def listed_as(self) -> Listed | None:
        if self.state == "dead":
            return "dead"
        if self.state == "queued" and self.attempts > 0 and self.last_error is not None:
            return "failed"
        return None


def _check(actor: Actor) -> None:
    if not decide(actor, "jobs.manage"):
        raise Forbidden("Only administrators may look after background jobs", "not_admin")


def _view(row: Any) -> JobView:
    payload = row.payload if isinstance(row.payload, dict) else {}
    url = payload.get("url")
    return JobView(
        id=int(row.id),
        kind=row.kind,
        state=row.state,
        attempts=int(row.attempts),
        max_attempts=int(row.max_attempts),
        last_error=row.last_error,
        due_at=row.due_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ticket_id=payload.get("ticket_id"),
        node_id=payload.get("node_id"),
        target=urlsplit(url).hostname if isinstance(url, str) else None,
    )


def list_jobs(
    ctx: ServiceContext, actor: Actor, *, state: Listed, after: int | None = None, limit: int = 50
) -> list[JobView]:
    _check(actor)
    with ctx.db.read() as conn:
        rows = job_store.listed(conn, state, after=after, limit=max(1, min(limit, MAX_LIMIT)))
    return [_view(row) for row in rows]


def retry(ctx: ServiceContext, actor: Actor, job_id: int) -> JobView:
    """Makes a failed job due now, or gives a dead one its attempts back (the same
    payload, so a webhook keeps its idempotency key). 404 job_not_found; 409
    job_not_failed for a job that is waiting, running or done."""
    _check(actor)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = job_store.job_by_id(conn, job_id)
        if row is None:
            raise NotFound("No such job", "job_not_found")
        before = _view(row)
        was = before.listed_as
        if was is None or not job_store.retry(conn, job_id, was=was, now=now):
            raise Conflict(
                f"The job is {row.state}, not failed or dead: there is nothing to retry",
                "job_not_failed",
            )
        audit_store.append(
            conn,
            at=now,
            actor=actor.username,
            action="job.retry",
            target_type="job",
            target_id=str(job_id),
            details={
                "kind": before.kind,
                "was": was,
                "attempts": before.attempts,
                "ticket_id": before.ticket_id,
                "last_error": (before.last_error or "")[:300],
            },
        )
        after = job_store.job_by_id(conn, job_id)
    assert after is not None
    return _view(after)
