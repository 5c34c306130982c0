"""The admin page of background jobs that failed or are dead (a webhook its receiver
refused, a notification that could not be written…), each with a retry button.

Administrators only (the service checks; anyone else gets the 403 page). A retry of a
job that is no longer failed (another administrator, or the worker, came first)
re-renders the page saying so, with status 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict
from flowdesk.services import admin_jobs
from flowdesk.services.admin_jobs import Listed
from flowdesk.services.auth import WebSession
from flowdesk.web.render import redirect, render
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter(prefix="/admin/jobs")


def _state(value: str | None) -> Listed:
    return "failed" if value == "failed" else "dead"


def _page(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    state: Listed,
    *,
    retried: str = "",
    refused: str = "",
    status: int = 200,
) -> Response:
    found = admin_jobs.list_jobs(ctx, session.actor, state=state, limit=100)
    context = {"state": state, "jobs": found, "retried": retried, "refused": refused}
    return render(request, "admin_jobs.html", context, status=status, session=session)


@router.get("")
def jobs_page(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    state: str | None = None,
    retried: str = "",
) -> Response:
    return _page(request, ctx, session, _state(state), retried=retried[:20])


@router.post("/{job_id}/retry")
def retry_job(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    form: CheckedForm,
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> Response:
    state = _state(str(form.get("state") or ""))
    try:
        admin_jobs.retry(ctx, session.actor, job_id)
    except Conflict:
        return _page(request, ctx, session, state, refused=str(job_id), status=409)
    return redirect(f"/admin/jobs?state={state}&retried={job_id}")
