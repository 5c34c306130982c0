"""The ticket page's 催办 (urge) button and comment form (ADR 0017); both post with CSRF."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.engines.files import AttachmentRefused
from flowdesk.kernel.errors import Conflict, Forbidden, TooManyAttempts, ValidationFailed
from flowdesk.services import ticket_actions
from flowdesk.web.pages.common import checked_id
from flowdesk.web.pages.tickets import ticket_page
from flowdesk.web.render import redirect, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession
from flowdesk.web.uploads import upload_files

router = APIRouter()


@dataclass(frozen=True)
class NoteError:
    """Why an urge or a comment did not happen, shown beside its button or box."""

    kind: str  # urge | comment
    code: str
    message: str  # already in the page's language (the service's message)


@router.post("/tickets/{ticket_id}/urge")
def urge(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    try:
        ticket_actions.urge(
            ctx, actor=session.actor, ticket_id=ticket_id, locale=request_locale(request)
        )
    except (Forbidden, Conflict, TooManyAttempts) as exc:
        response = ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            status=exc.status,
            extra={"note_error": NoteError("urge", exc.code, exc.message)},
        )
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return redirect(f"/tickets/{ticket_id}", flash="urged")


@router.post("/tickets/{ticket_id}/comments")
def comment(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    raw = form.get("note")
    text = raw if isinstance(raw, str) else ""
    locale = request_locale(request)
    try:
        carried = upload_files(ctx, session, form, locale)
        ticket_actions.add_comment(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            comment=text,
            locale=locale,
            attachments=carried,
        )
    except (ValidationFailed, AttachmentRefused) as exc:
        detail = exc.errors[0] if exc.errors else None
        error = NoteError(
            "comment", detail.code if detail else exc.code, detail.message if detail else ""
        )
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            status=exc.status,
            extra={"note_error": error, "note_text": text},
        )
    return redirect(f"/tickets/{ticket_id}", flash="commented")
