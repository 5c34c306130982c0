"""转交 from the ticket page: the holder of an open task hands it to another person; a
refusal (unknown, inactive or the same person, someone already approving the step) is
shown at the form, in the page's language, with what was typed kept."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict, Forbidden, ValidationFailed
from flowdesk.services import transfers
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import ActionError, ticket_page
from flowdesk.web.render import redirect, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()


@router.post("/tasks/{task_id}/transfer")
def transfer_task(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    ticket_id = form_text(form, "ticket_id")
    to = form_text(form, "transfer_to")
    note = form_text(form, "transfer_comment")
    try:
        result = transfers.transfer(
            ctx,
            actor=session.actor,
            task_id=task_id,
            to=to,
            comment=note,
            locale=request_locale(request),
        )
    except (Conflict, Forbidden, ValidationFailed) as exc:
        if not ticket_id:
            raise
        detail = exc.errors[0] if exc.errors else None
        error = ActionError(
            task_id, detail.code if detail else exc.code, detail.message if detail else exc.message
        )
        # The task closed meanwhile (or the ticket is busy): above the page, as for a decision.
        at_form = error.code not in ("task_not_open", "instance_finished", "ticket_busy")
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            action_error=None if at_form else error,
            status=exc.status,
            extra={
                "transfer_error": error if at_form else None,
                "transfer_to": to,
                "transfer_comment": note,
            },
        )
    return redirect(f"/tickets/{result.ticket_id}", flash="transferred")
