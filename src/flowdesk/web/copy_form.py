"""The ticket page's 抄送 (CC) parts: whether it offers the copy form, and the read mark
of the viewer's copy when they open the ticket (pages/copies.py handles the form)."""

from __future__ import annotations

from flowdesk.services import ticket_copies, views
from flowdesk.services.auth import WebSession
from flowdesk.services.context import ServiceContext

COPY_KINDS = ("copies_sent", "ticket_copied")


def may_copy(view: views.TicketView, session: WebSession) -> bool:
    """Whether the page offers the copy form: to the applicant and the holders of an
    open task (the service decides again when the form is sent)."""
    actor = session.actor
    return actor.user_id == view.requester.id or bool(view.actionable_by(actor))


def mark_copy_read(ctx: ServiceContext, session: WebSession, view: views.TicketView) -> None:
    """The viewer opened a ticket they were copied on: their copy is read. Only those a
    copy names pay the write; everyone else's page costs what it did."""
    me = session.actor.user_id
    for entry in view.timeline:
        if entry.kind in COPY_KINDS and me in (entry.data or {}).get("users", ()):
            ticket_copies.mark_read(ctx, session.actor, view.id)
            return
