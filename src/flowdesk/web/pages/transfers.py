"""转交 from the ticket page: the holder of an open task hands it to another person; a
refusal (unknown, inactive or the same person, someone already approving the step) is
shown at the form, in the page's language, with what was typed kept."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import transfers
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import task_action
from flowdesk.web.render import request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()


@router.post("/tasks/{task_id}/transfer")
def transfer_task(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    to = form_text(form, "transfer_to")
    note = form_text(form, "transfer_comment")
    return task_action(
        request,
        ctx,
        session,
        task_id=task_id,
        ticket_id=form_text(form, "ticket_id"),
        run=lambda: transfers.transfer(
            ctx,
            actor=session.actor,
            task_id=task_id,
            to=to,
            comment=note,
            locale=request_locale(request),
        ),
        flash="transferred",
        error_key="transfer_error",
        typed={"transfer_to": to, "transfer_comment": note},
    )
