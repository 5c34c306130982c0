"""退回 from the ticket page, and the applicant's resubmit form (prefilled with the ticket's
current values, checked like a new ticket's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from flowdesk.engines.files import AttachmentRefused
from flowdesk.kernel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from flowdesk.services import task_returns, views
from flowdesk.services.auth import WebSession
from flowdesk.services.context import ServiceContext
from flowdesk.web.forms import field_views, posted_values, raw_from_stored
from flowdesk.web.i18n import Locale
from flowdesk.web.pages.apps import SummaryError
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import ActionError, ticket_page
from flowdesk.web.render import redirect, render, request_locale
from flowdesk.web.session import CSRF_FIELD, CheckedForm, Ctx, CurrentSession
from flowdesk.web.uploads import upload_files

router = APIRouter()
RESUBMIT_COMMENT = "resubmit_comment"  # the resubmit form's note, beside the form's fields


@dataclass(frozen=True)
class ReturnedBy:
    """The latest return to the applicant: who, from which step, and why."""

    actor: str
    node: str
    comment: str


@router.post("/tasks/{task_id}/return")
def return_task(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    locale = request_locale(request)
    checked_id(task_id, "task")
    ticket_id = form_text(form, "ticket_id")
    target = form_text(form, "target")
    comment = form_text(form, "comment")
    resubmit = form_text(form, "resubmit") or None
    try:
        carried = upload_files(ctx, session, form, locale)
        result = task_returns.return_task(
            ctx,
            actor=session.actor,
            task_id=task_id,
            target=target,
            comment=comment,
            resubmit=resubmit,
            locale=locale,
            attachments=carried,
        )
    except (Conflict, Forbidden, ValidationFailed, AttachmentRefused) as exc:
        if not ticket_id:
            raise
        error = ActionError.of(exc, task_id)
        # A bad reason or target is shown at its field; the task closed meanwhile (or the
        # ticket busy) above the page, as for a decision.
        at_field = isinstance(exc, ValidationFailed) or error.code.startswith("return_")
        if isinstance(exc, AttachmentRefused):  # shown beside the file input
            at_field = False
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            action_error=None if at_field else error,
            comment=comment,
            status=exc.status,
            extra={"return_error": error if at_field else None, "return_target": target},
        )
    return redirect(f"/tickets/{result.ticket_id}", flash="returned")


def _returned_by(view: views.TicketView, locale: Locale) -> ReturnedBy | None:
    for entry in reversed(view.timeline):
        if entry.kind == "task_returned":
            name = entry.node_name or {}
            return ReturnedBy(
                entry.actor.name if entry.actor else "",
                name.get(locale) or name.get("en") or entry.node_id or "",
                entry.comment or "",
            )
    return None


def _resubmit_page(
    request: Request,
    ctx: ServiceContext,
    session: WebSession,
    ticket_id: str,
    *,
    raw: Mapping[str, str] | None = None,
    errors: list[ErrorDetail] | None = None,
    comment: str = "",
    status: int = 200,
) -> HTMLResponse:
    locale = request_locale(request)
    view = views.ticket(ctx, session.actor, checked_id(ticket_id), locale=locale)
    if task_returns.returned_task_id(session.actor, view) is None:
        raise NotFound("Nothing to resubmit", "not_returned")
    by_field: dict[str, str] = {}
    for error in errors or []:
        by_field.setdefault(error.path, error.message)
    shown = raw if raw is not None else raw_from_stored(view.form, view.values)
    labels = {f.key: f.label.get(locale) for f in view.form.fields}
    return render(
        request,
        "resubmit.html",
        {
            "ticket": view,
            "app_key": view.app_key,
            "fields": field_views(view.form, locale, shown, by_field, view.values),
            "errors": [
                SummaryError(e.path if e.path in labels else "", labels.get(e.path, ""), e.message)
                for e in errors or []
            ],
            "returned": _returned_by(view, locale),
            "comment": comment,
        },
        status=status,
        session=session,
    )


@router.get("/tickets/{ticket_id}/resubmit")
def resubmit_form(request: Request, ctx: Ctx, session: CurrentSession, ticket_id: str) -> Response:
    return _resubmit_page(request, ctx, session, ticket_id)


@router.post("/tickets/{ticket_id}/resubmit")
def resubmit(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    locale = request_locale(request)
    checked_id(ticket_id)
    values = posted_values(form, frozenset({CSRF_FIELD, RESUBMIT_COMMENT}))
    comment = form_text(form, RESUBMIT_COMMENT)
    try:
        outcome = task_returns.resubmit(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            values=values,
            comment=comment,
            source="html",
            locale=locale,
        )
    except ValidationFailed as exc:
        raw = {
            k: v if isinstance(v, str) else ",".join(str(item) for item in v)
            for k, v in values.items()
            if isinstance(v, str | list)
        }
        return _resubmit_page(
            request,
            ctx,
            session,
            ticket_id,
            raw=raw,
            errors=exc.errors or [ErrorDetail("", exc.code, exc.message)],
            comment=comment,
            status=422,
        )
    return redirect(f"/tickets/{outcome.ticket_id}", flash="resubmitted")
