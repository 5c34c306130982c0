"""Admin repairs from the ticket page (ADR 0026): jump the ticket to a step, reassign an
open task, cancel the ticket. Shown to administrators and process admins only, each a
POST form with the CSRF token behind a disclosure that says what will happen; a refusal
shows the ticket page again with the reason on the card (templates/_repair_card.html
names each code). The card moves this one ticket to its app's newest version;
migrating many at once is the API's (POST /api/v1/admin/tickets/migrate)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import repairs
from flowdesk.services.task_steps import StepOutcome
from flowdesk.web.pages.common import checked_id, form_text
from flowdesk.web.pages.tickets import ActionError, ticket_page
from flowdesk.web.render import redirect, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()
_NAMES = re.compile(r"[\s,，、;；]+")  # usernames typed apart by spaces or commas (zh too)


def _run(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    ticket_id: str,
    kind: str,
    action: Callable[[], StepOutcome],
    typed: dict[str, str] | None = None,
) -> Response:
    """Runs `action`; on a refusal the ticket page again, the reason on the admin card."""
    if not repairs.may_repair(session.actor):
        raise Forbidden("Only administrators and process admins repair tickets", "not_repair_admin")
    try:
        result = action()
    except (Conflict, Forbidden, ValidationFailed, NotFound) as exc:
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            status=exc.status,
            extra={
                "repair_error": ActionError.of(exc, kind),
                "repair_typed": typed or {},
                # every problem a migration found, by path (mapping.<node>, ticket_ids[0])
                "repair_problems": [(e.path, e.code) for e in exc.errors]
                if kind == "ticket_migrated"
                else [],
            },
        )
    return redirect(f"/tickets/{result.ticket_id}", flash=kind)


@router.post("/tickets/{ticket_id}/admin/jump")
def jump_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    # the open tasks the page showed, as one field (a form never repeats a field)
    raw = form.get("open_tasks")
    seen = [task for task in raw.split(",") if task] if isinstance(raw, str) else None
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "ticket_moved",
        lambda: repairs.jump(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            node=form_text(form, "node"),
            comment=form_text(form, "repair_comment"),
            open_tasks=seen,
            locale=request_locale(request),
        ),
        {"node": form_text(form, "node"), "comment": form_text(form, "repair_comment")},
    )


@router.post("/tasks/{task_id}/admin/reassign")
def reassign_task(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    ticket_id = checked_id(form_text(form, "ticket_id"))
    typed = form_text(form, "to")
    names = [name for name in _NAMES.split(typed.strip()) if name]
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "task_reassigned",
        lambda: repairs.reassign(
            ctx,
            actor=session.actor,
            task_id=task_id,
            to=names,
            comment=form_text(form, "repair_comment"),
            locale=request_locale(request),
        ),
        {"task": task_id, "to": typed},
    )


@router.post("/tasks/{task_id}/admin/remove-approver")
def remove_approver(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    checked_id(task_id, "task")
    ticket_id = checked_id(form_text(form, "ticket_id"))
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "task_approver_removed",
        lambda: repairs.remove_approver(
            ctx,
            actor=session.actor,
            task_id=task_id,
            comment=form_text(form, "repair_comment"),
            locale=request_locale(request),
        ),
        {"task": task_id},
    )


@router.post("/tickets/{ticket_id}/admin/cancel")
def cancel_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    checked_id(ticket_id)
    return _run(
        request,
        ctx,
        session,
        ticket_id,
        "ticket_admin_cancelled",
        lambda: repairs.cancel(
            ctx,
            actor=session.actor,
            ticket_id=ticket_id,
            comment=form_text(form, "cancel_reason"),
            locale=request_locale(request),
        ),
    )


@router.post("/tickets/{ticket_id}/admin/migrate")
def migrate_ticket(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    """This one ticket to its app's newer version, each step holding a token mapped by a
    `map.<node>` field (the card proposes the step of the same id)."""
    checked_id(ticket_id)
    raw = form_text(form, "version")
    version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 8 else 0
    mapping = {
        key.removeprefix("map."): value
        for key, value in form.items()
        if key.startswith("map.") and isinstance(value, str) and value
    }

    def run() -> StepOutcome:
        result = repairs.migrate(
            ctx,
            actor=session.actor,
            ticket_ids=[ticket_id],
            version=version,
            mapping=mapping,
            comment=form_text(form, "repair_comment"),
            locale=request_locale(request),
        )
        if result.left:  # it changed between the check and its move
            raise Conflict("The ticket changed while it was moved; try again", result.left[0][1])
        return StepOutcome(ticket_id, "running", ())

    return _run(request, ctx, session, ticket_id, "ticket_migrated", run)
