"""撤回 and 撤销 from the ticket page (ADR 0019): the applicant's withdraw and cancel, and
an approver's withdraw of their approval. Each is a POST form with the CSRF token behind
a disclosure that says what will happen (the confirmation step); a refusal shows the
ticket page again with the reason in the viewer's language (templates/_withdraw_card.html
names each code)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict, Forbidden, ValidationFailed
from flowdesk.services import revocations, withdrawals
from flowdesk.services.task_steps import StepOutcome
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import ActionError, ticket_page
from flowdesk.web.render import redirect, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()


def _run(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    ticket_id: str,
    kind: str,
    action: Callable[[], StepOutcome],
) -> Response:
    """Runs `action`; on a refusal the ticket page again, the reason on the card."""
    try:
        result = action()
    except (Conflict, Forbidden, ValidationFailed) as exc:
        error = ActionError.of(exc, kind)
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            status=exc.status,
            extra={"withdraw_error": error},
        )
    return redirect(f"/tickets/{result.ticket_id}", flash=kind)


@router.post("/tickets/{ticket_id}/withdraw")
def withdraw_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "ticket_withdrawn",
        lambda: withdrawals.withdraw_ticket(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            comment=form_text(form, "withdraw_comment"),
            locale=request_locale(request),
        ),
    )


@router.post("/tickets/{ticket_id}/cancel")
def cancel_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "ticket_cancelled",
        lambda: withdrawals.cancel_ticket(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            comment=form_text(form, "withdraw_comment"),
            locale=request_locale(request),
        ),
    )


@router.post("/tasks/{task_id}/retract")
def retract_approval(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    ticket_id = checked_id(form_text(form, "ticket_id"))
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "decision_withdrawn",
        lambda: withdrawals.retract_decision(
            ctx,
            actor=session.actor,
            task_id=task_id,
            comment=form_text(form, "withdraw_comment"),
            locale=request_locale(request),
        ),
    )


@router.post("/tickets/{ticket_id}/revoke")
def revoke_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    """通过后撤销 (ADR 0042): the applicant asks the approvers to agree to revoke it."""
    checked_id(ticket_id)
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "revoke_requested",
        lambda: revocations.revoke_ticket(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            comment=form_text(form, "withdraw_comment"),
            locale=request_locale(request),
        ),
    )
