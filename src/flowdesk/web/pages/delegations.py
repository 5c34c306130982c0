"""代理 in the web UI: one's out-of-office substitutes (set, listed, ended). Times are
typed in China time (the UI's zone) and stored in UTC."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict, ErrorDetail, ValidationFailed
from flowdesk.services import delegations
from flowdesk.web.i18n import DISPLAY_ZONE
from flowdesk.web.pages.common import form_text
from flowdesk.web.render import redirect, render
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()
FIELDS = ("delegate", "starts_at", "ends_at", "note")


def _local_time(text: str, field: str) -> datetime:
    """A datetime-local input's value (China time) as an aware instant."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            "Enter a date and time",
            [ErrorDetail(field, "invalid_time", "Enter a date and time")],
            code="invalid_delegation",
        ) from None
    if moment.tzinfo is not None:  # only the input's own format is accepted
        raise ValidationFailed(
            "Enter a date and time",
            [ErrorDetail(field, "invalid_time", "Enter a date and time")],
            code="invalid_delegation",
        )
    return moment.replace(tzinfo=DISPLAY_ZONE)


def _page(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    *,
    error: ErrorDetail | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "delegations.html",
        {
            "rules": delegations.mine(ctx, session.actor),
            "now": ctx.clock.now(),
            "error": error,
            "values": values or {},
        },
        status=status,
        session=session,
    )


@router.get("/delegations")
def delegation_page(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    return _page(request, ctx, session)


@router.post("/delegations")
def create_delegation(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm
) -> Response:
    values = {key: form_text(form, key) for key in FIELDS}
    try:
        delegations.create(
            ctx,
            actor=session.actor,
            delegate=values["delegate"],
            starts_at=_local_time(values["starts_at"], "starts_at"),
            ends_at=_local_time(values["ends_at"], "ends_at"),
            note=values["note"],
        )
    except (ValidationFailed, Conflict) as exc:
        detail = exc.errors[0] if exc.errors else ErrorDetail("", exc.code, exc.message)
        return _page(request, ctx, session, error=detail, values=values, status=exc.status)
    return redirect("/delegations", flash="delegated")


@router.post("/delegations/{delegation_id}/revoke")
def revoke_delegation(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, delegation_id: str
) -> Response:
    try:
        delegations.revoke(ctx, actor=session.actor, delegation_id=delegation_id[:64])
    except Conflict as exc:
        error = ErrorDetail("", exc.code, exc.message)
        return _page(request, ctx, session, error=error, status=409)
    return redirect("/delegations", flash="delegation_ended")
