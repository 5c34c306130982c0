"""An administrator hands over a person's open tasks from their admin page (to the person
chosen, by default their manager) and reads what moved and what stayed, and why."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import ValidationFailed
from flowdesk.services import org, transfers
from flowdesk.web.pages.common import form_text
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter(prefix="/admin")


@router.post("/users/{username}/hand-over")
def hand_over(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, username: str
) -> Response:
    user = org.get_user(ctx, session.actor, username)  # 403 / 404 before anything moves
    to = form_text(form, "handover_to").strip() or None
    try:
        result = transfers.hand_over(
            ctx,
            actor=session.actor,
            username=user.username,
            to=to,
            comment=form_text(form, "handover_comment"),
            locale=request_locale(request),
        )
    except ValidationFailed as exc:
        detail = exc.errors[0] if exc.errors else None
        return render(
            request,
            "admin_handover.html",
            {"person": user, "result": None, "code": detail.code if detail else exc.code, "to": to},
            status=422,
            session=session,
        )
    return render(
        request,
        "admin_handover.html",
        {"person": user, "result": result, "code": "", "to": to},
        session=session,
    )
