"""加签 and 减签 from the ticket page: the holder of an open task adds people before,
after or in parallel with them (usernames, where, how they decide among themselves, why);
who added them removes pending ones. A refusal is shown at the form, in the page's
language, with what was typed kept (ADR 0020)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.services import add_signs
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import task_action
from flowdesk.web.render import request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()


@router.post("/tasks/{task_id}/add-signers")
def add_signers(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    typed = {
        "users": form_text(form, "add_sign_users"),
        "position": form_text(form, "add_sign_position"),
        "mode": form_text(form, "add_sign_mode") or "all",
        "comment": form_text(form, "add_sign_comment"),
    }
    return task_action(
        request,
        ctx,
        session,
        task_id=task_id,
        ticket_id=form_text(form, "ticket_id"),
        run=lambda: add_signs.add_signers(
            ctx,
            actor=session.actor,
            task_id=task_id,
            users=typed["users"],
            position=typed["position"],
            mode=typed["mode"],
            comment=typed["comment"],
            locale=request_locale(request),
        ),
        flash="signers_added",
        error_key="add_sign_error",
        typed={"add_sign_typed": typed},
    )


@router.post("/tasks/{task_id}/remove-signer")
def remove_signer(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    users = [value for value in form.getlist("remove_users") if isinstance(value, str)]
    comment = form_text(form, "remove_comment")
    return task_action(
        request,
        ctx,
        session,
        task_id=task_id,
        ticket_id=form_text(form, "ticket_id"),
        run=lambda: add_signs.remove_signers(
            ctx,
            actor=session.actor,
            task_id=task_id,
            users=users,
            comment=comment,
            locale=request_locale(request),
        ),
        flash="signers_removed",
        error_key="remove_sign_error",
    )
