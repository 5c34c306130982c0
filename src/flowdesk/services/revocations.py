"""通过后撤销 through the services (APPROVALS.md edge case 28, ADR 0042): the applicant asks
to revoke their approved ticket; it runs again with a revocation round that everyone who
approved it must approve (they act with the usual approve/reject). All approve: the
ticket ends `revoked`; one rejects: it is approved again as it was.

The request is the engine's `RequestRevoke` run as one step through services/task_steps
(one transaction, raced on the ticket's version). Whether it is allowed is decided from
the terms kept with the approved state (the app's `withdraw.revoke_days` when it was
approved) and the service clock.
"""

from __future__ import annotations

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.process import RequestRevoke, load_state, step
from flowdesk.engines.process.revoke import REVOKE_NODE, refusal
from flowdesk.kernel.errors import Conflict, NotFound
from flowdesk.services import views
from flowdesk.services.context import ServiceContext
from flowdesk.services.task_steps import (
    StepOutcome,
    event,
    may_read,
    raced,
    step_context,
    task_step,
)
from flowdesk.services.tickets import MAX_COMMENT
from flowdesk.store import calls as calls_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import read_document
from flowdesk.store.steps import AuditRecord, StepWrite


def may_revoke(ctx: ServiceContext, actor: Actor, view: views.TicketView) -> bool:
    """Whether the ticket page offers `actor` the 撤销 of their approved ticket now."""
    if view.status != "approved" or view.state is None or view.requester.id != actor.user_id:
        return False
    state = load_state(read_document(view.state))
    return refusal(state, actor.user_id, ctx.clock.now()) is None


def revoke_ticket(
    ctx: ServiceContext, *, actor: Actor, ticket_id: str, comment: str = "", locale: str = "en"
) -> StepOutcome:
    """The applicant asks to revoke their approved ticket: 409 `ticket_not_approved`,
    `revoke_off` (the app did not allow it when the ticket was approved) or
    `revoke_window_passed`, `revoke_sub_ticket` (a call activity's child: its parent
    went on with its outcome, ADR 0033); 403 `not_applicant`."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(ctx, lambda conn: _revoke_once(ctx, conn, actor, ticket_id, comment))


def _revoke_once(
    ctx: ServiceContext, conn: Connection, actor: Actor, ticket_id: str, comment: str
) -> tuple[StepWrite, StepOutcome]:
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    if ticket is None or not may_read(actor, conn, ticket.id, ticket.requester_id):
        raise NotFound("Ticket not found", "ticket_not_found")
    if calls_store.by_child(conn, ticket_id) is not None:  # its parent went on with it
        raise Conflict(
            "A sub-ticket's outcome was handed to the ticket that called it; it cannot be revoked",
            "revoke_sub_ticket",
        )
    row = tickets_store.ticket_for_step(conn, ticket_id)
    assert row is not None
    app = ctx.apps.version(conn, row.app_version_id)
    start = app.spec.process.index.start.id
    approvers = tuple(
        task.completed_by
        for task in tickets_store.tasks_of_ticket(conn, ticket_id)
        if task.state == "approved"
        and task.completed_by
        and task.node_id not in (start, REVOKE_NODE)
    )
    now = ctx.clock.now()
    result = step(
        app.spec.process,
        load_state(row.ticket_state),
        RequestRevoke(actor.user_id, approvers, now),
        step_context(ctx, conn, app, row),
    )
    return task_step(
        app,
        row,
        result,
        now,
        AuditRecord(
            actor=actor.username,
            action="ticket.revoke",
            details={"ticket": ticket_id, "approvers": sorted(set(approvers))},
        ),
        first_event=event("revoke_requested", actor_id=actor.user_id, comment=comment or None),
    )
