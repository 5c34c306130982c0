"""REST API /admin/jobs: background jobs that failed (waiting for their next try) or are
dead (out of attempts, or refused for good, such as a webhook to a private address),
and retrying one. Administrators only (403); an unknown job is 404, a job that is not
failed or dead 409 `job_not_failed`. A retry is audited (`job.retry`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from flowdesk.api.deps import Ctx, CurrentActor, Limit, operation_id
from flowdesk.services import admin_jobs

router = APIRouter(prefix="/admin/jobs", tags=["admin"], generate_unique_id_function=operation_id)
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class JobOut(BaseModel):
    id: int
    kind: str = Field(description="notify, webhook …")
    state: str = Field(description="queued (failed: waiting for its next try), running, done, dead")
    attempts: int
    max_attempts: int
    last_error: str | None
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    ticket_id: str | None = Field(description="The ticket the job is about, if any")
    node_id: str | None = Field(description="A webhook's service task")
    target: str | None = Field(description="A webhook's host")


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


def _job(view: admin_jobs.JobView) -> JobOut:
    return JobOut(
        id=view.id,
        kind=view.kind,
        state=view.state,
        attempts=view.attempts,
        max_attempts=view.max_attempts,
        last_error=view.last_error,
        due_at=view.due_at,
        created_at=view.created_at,
        updated_at=view.updated_at,
        ticket_id=view.ticket_id,
        node_id=view.node_id,
        target=view.target,
    )


@router.get("", response_model=JobPage)
def list_jobs(
    actor: CurrentActor,
    ctx: Ctx,
    state: Literal["failed", "dead"] = "dead",
    cursor: Annotated[str | None, Query(max_length=20, pattern="^[0-9]{1,19}$")] = None,
    limit: Limit = 50,
) -> JobPage:
    """Newest first. `failed`: tried and waiting for the next try; `dead`: given up."""
    items = admin_jobs.list_jobs(
        ctx, actor, state=state, after=int(cursor) if cursor else None, limit=limit + 1
    )
    more = len(items) > limit
    items = items[:limit]
    return JobPage(items=[_job(j) for j in items], next_cursor=str(items[-1].id) if more else None)


@router.post("/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: JobId, actor: CurrentActor, ctx: Ctx) -> JobOut:
    """Due now; a dead job gets its attempts back (a webhook keeps its idempotency key)."""
    return _job(admin_jobs.retry(ctx, actor, job_id))
