"""Drives loan tickets through the services, for the service tests."""

from __future__ import annotations

from flowdesk.engines.access import Actor
from flowdesk.services import tickets, views
from flowdesk.services.context import ServiceContext


def loan_values(amount: str = "120000.00", **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "applicant_name": "张三",
        "amount": amount,
        "term_months": 36,
        "credit_rating": "A",
        "region": "north",
        "purpose": "Working capital for a bakery",
    }
    values.update(overrides)
    return values


class Desk:
    """Drives loan tickets through the services the way the UI and API do."""

    def __init__(self, ctx: ServiceContext, actors: dict[str, Actor]) -> None:
        self.ctx = ctx
        self.actors = actors

    def submit(self, amount: str = "120000.00", who: str = "zhang.wei", **values: object) -> str:
        outcome = tickets.submit(
            self.ctx, actor=self.actors[who], app_key="loan", values=loan_values(amount, **values)
        )
        return outcome.ticket_id

    def view(self, ticket_id: str, who: str = "admin") -> views.TicketView:
        return views.ticket(self.ctx, self.actors[who], ticket_id)

    def task(self, ticket_id: str, node_id: str) -> views.TaskView:
        """The open task at `node_id` (exactly one expected)."""
        found = [t for t in self.view(ticket_id).open_tasks if t.node_id == node_id]
        assert len(found) == 1, f"open tasks at {node_id}: {found}"
        return found[0]

    def approve(
        self, who: str, ticket_id: str, node_id: str, comment: str = ""
    ) -> tickets.StepOutcome:
        task = self.task(ticket_id, node_id)
        return tickets.approve(self.ctx, actor=self.actors[who], task_id=task.id, comment=comment)

    def reject(
        self, who: str, ticket_id: str, node_id: str, comment: str = ""
    ) -> tickets.StepOutcome:
        task = self.task(ticket_id, node_id)
        return tickets.reject(self.ctx, actor=self.actors[who], task_id=task.id, comment=comment)
