"""抄送: the 抄送我 page (tickets I was copied on) and the ticket page's copy form.

The form posts with CSRF; a refused copy re-renders the ticket page with the error beside
the form (422/403/409), in the page's language by code. Opening a ticket one was copied on
marks the copy read (web/copy_form.py, called by pages/tickets.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from flowdesk.services import ticket_copies, views
from flowdesk.web.pages.common import checked_id
from flowdesk.web.pages.tickets import ticket_page
from flowdesk.web.render import redirect, render, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()
PAGE_SIZE = 20
_SEPARATORS = re.compile(r"[\s,，;；、]+")


@dataclass(frozen=True)
class CopyError:
    """Why a copy did not happen, shown beside the form."""

    code: str
    message: str  # the service's, used when the page has no text for `code`
    names: str = ""  # the usernames the error is about (already copied, unknown)


@router.get("/copied")
def copied(request: Request, ctx: Ctx, session: CurrentSession) -> Response:
    params = {k: v for k, v in request.query_params.items() if v != ""}
    params.setdefault("limit", str(PAGE_SIZE))
    errors: list[ErrorDetail] = []
    try:
        page = ticket_copies.copied_list(ctx, session.actor, params, locale=request_locale(request))
    except ValidationFailed as exc:
        errors = exc.errors or [ErrorDetail("", exc.code, exc.message)]
        page = views.Page([], None)
    unread_only = params.get("unread") == "true"
    fragment = request.headers.get("HX-Request") == "true" and "cursor" in params
    return render(
        request,
        "_copy_rows.html" if fragment else "copies.html",
        {"page": page, "errors": errors, "unread_only": unread_only},
        status=400 if errors else 200,
        fragment=fragment,
        session=session,
    )


@router.post("/tickets/{ticket_id}/copies")
def copy_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    raw_users, raw_note = form.get("users"), form.get("note")
    users_text = raw_users if isinstance(raw_users, str) else ""
    note = raw_note if isinstance(raw_note, str) else ""
    usernames = [name for name in _SEPARATORS.split(users_text) if name]
    try:
        ticket_copies.copy_ticket(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            usernames=usernames,
            note=note,
            locale=request_locale(request),
        )
    except (ValidationFailed, Forbidden, Conflict) as exc:
        detail = exc.errors[0] if isinstance(exc, ValidationFailed) and exc.errors else None
        code = exc.code
        if detail is not None and detail.path == "comment":  # the note's own rules
            code = f"note_{detail.code}"
        names = _named_in(exc, usernames)
        error = CopyError(code, detail.message if detail else exc.message, names)
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            status=exc.status,
            extra={"copy_error": error, "copy_users": users_text, "copy_note": note},
        )
    return redirect(f"/tickets/{ticket_id}", flash="copied")


def _named_in(exc: Exception, usernames: list[str]) -> str:
    """The usernames an error's details point at (users[i]), or the conflict's names."""
    if isinstance(exc, ValidationFailed):
        found = []
        for detail in exc.errors:
            match = re.fullmatch(r"users\[(\d+)\]", detail.path)
            if match and int(match.group(1)) < len(usernames):
                found.append(usernames[int(match.group(1))])
        return ", ".join(found)
    if isinstance(exc, Conflict) and ": " in exc.message:
        return exc.message.split(": ", 1)[1]
    return ""
