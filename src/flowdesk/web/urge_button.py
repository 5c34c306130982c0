"""Whether the ticket page offers 催办 (urge) to its viewer, and until when it waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.services.views import TicketView


@dataclass(frozen=True)
class UrgeButton:
    shown: bool
    # While the last urge is recent: when urging is possible again (the button is disabled).
    available_at: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.shown and self.available_at is None


def urge_button(view: TicketView, actor: Actor, now: datetime, interval: timedelta) -> UrgeButton:
    """Shown to the requester (and administrators) of a running ticket whose open tasks
    someone else holds (a task waiting behind added signers or delegated is not pending:
    its signers or delegate are, APPROVALS.md edge case 36); disabled until `interval`
    after the last urge in its timeline, whoever made it."""
    allowed = decide(actor, "ticket.urge", ResourceFacts(requester_id=view.requester.id))
    others = any(
        p.id != actor.user_id for t in view.open_tasks if not t.waiting for p in t.assignees
    )
    if not (allowed and view.status == "running" and others):
        return UrgeButton(shown=False)
    last = max((e.at for e in view.timeline if e.kind == "ticket_urged"), default=None)
    if last is not None and now < last + interval:
        return UrgeButton(shown=True, available_at=last + interval)
    return UrgeButton(shown=True)
