"""委派 from the ticket page (ADR 0034): the holder of an open task delegates it to a
colleague, and the colleague resolves it back with a comment and an opinion; a refusal is
shown at the form, in the page's language, with what was typed kept. Not 代理, the
out-of-office substitutes at /delegations (pages/delegations.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import delegate_task
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import task_action
from flowdesk.web.render import request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()


@router.post("/tasks/{task_id}/delegate")
def delegate(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    to = form_text(form, "delegate_to")
    note = form_text(form, "delegate_comment")
    return task_action(
        request,
        ctx,
        session,
        task_id=task_id,
        ticket_id=form_text(form, "ticket_id"),
        run=lambda: delegate_task.delegate(
            ctx,
            actor=session.actor,
            task_id=task_id,
            to=to,
            comment=note,
            locale=request_locale(request),
        ),
        flash="task_delegated",
        error_key="delegate_error",
        typed={"delegate_typed": {"to": to, "comment": note}},
    )


@router.post("/tasks/{task_id}/resolve")
def resolve(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    note = form_text(form, "resolve_comment")
    opinion = form_text(form, "opinion")
    return task_action(
        request,
        ctx,
        session,
        task_id=task_id,
        ticket_id=form_text(form, "ticket_id"),
        run=lambda: delegate_task.resolve(
            ctx,
            actor=session.actor,
            task_id=task_id,
            comment=note,
            opinion=opinion,
            locale=request_locale(request),
        ),
        flash="task_resolved",
        error_key="delegate_error",
        typed={"delegate_typed": {"comment": note, "opinion": opinion}},
    )
