"""加签 and 减签 from the ticket page: the holder of an open task adds people before,
after or in parallel with them (usernames, where, how they decide among themselves, why);
who added them removes pending ones. A refusal is shown at the form, in the page's
language, with what was typed kept (ADR 0020)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict, Forbidden, ValidationFailed
from flowdesk.services import add_signs
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import ActionError, ticket_page
from flowdesk.web.render import redirect, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()
# Refusals that are about the task, not what was typed: shown above the page.
PAGE_ERRORS = frozenset({"task_not_open", "instance_finished", "ticket_busy"})


def _error(exc: ValidationFailed | Conflict | Forbidden, task_id: str) -> ActionError:
    detail = exc.errors[0] if exc.errors else None
    return ActionError(
        task_id, detail.code if detail else exc.code, detail.message if detail else exc.message
    )


@router.post("/tasks/{task_id}/add-signers")
def add_signers(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    ticket_id = form_text(form, "ticket_id")
    typed = {
        "users": form_text(form, "add_sign_users"),
        "position": form_text(form, "add_sign_position"),
        "mode": form_text(form, "add_sign_mode") or "all",
        "comment": form_text(form, "add_sign_comment"),
    }
    try:
        result = add_signs.add_signers(
            ctx,
            actor=session.actor,
            task_id=task_id,
            users=typed["users"],
            position=typed["position"],
            mode=typed["mode"],
            comment=typed["comment"],
            locale=request_locale(request),
        )
    except (Conflict, Forbidden, ValidationFailed) as exc:
        if not ticket_id:
            raise
        error = _error(exc, task_id)
        at_form = error.code not in PAGE_ERRORS
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            action_error=None if at_form else error,
            status=exc.status,
            extra={"add_sign_error": error if at_form else None, "add_sign_typed": typed},
        )
    return redirect(f"/tickets/{result.ticket_id}", flash="signers_added")


@router.post("/tasks/{task_id}/remove-signer")
def remove_signer(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    ticket_id = form_text(form, "ticket_id")
    users = [value for value in form.getlist("remove_users") if isinstance(value, str)]
    comment = form_text(form, "remove_comment")
    try:
        result = add_signs.remove_signers(
            ctx,
            actor=session.actor,
            task_id=task_id,
            users=users,
            comment=comment,
            locale=request_locale(request),
        )
    except (Conflict, Forbidden, ValidationFailed) as exc:
        if not ticket_id:
            raise
        error = _error(exc, task_id)
        at_form = error.code not in PAGE_ERRORS
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            action_error=None if at_form else error,
            status=exc.status,
            extra={"remove_sign_error": error if at_form else None},
        )
    return redirect(f"/tickets/{result.ticket_id}", flash="signers_removed")
