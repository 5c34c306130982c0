"""Tickets whose state was stored as version 1 (before ADR 0015) finish on both databases.

The ticket is filed today, then its stored state is put back to the version-1 document
the previous engine wrote at that point (the same tasks and join arrivals), as a ticket
running when flowdesk was upgraded would hold. No data migration is needed: the state
is upgraded when the next step reads it and written back as version 2.
"""

from __future__ import annotations

from typing import Any

from loan_desk import Desk
from sqlalchemy import select, update

from flowdesk.store.tables import Ticket


def _stored_state(desk: Desk, ticket_id: str) -> dict[str, Any]:
    with desk.ctx.db.read() as conn:
        state = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert isinstance(state, dict)
    return state


def _as_version_1(state: dict[str, Any]) -> dict[str, Any]:
    """What the version-1 engine stored for the same position: tasks by node."""
    # a version-2 node instance is its node id (a single approver's) or a list, node first
    nodes = {
        key: entry if isinstance(entry, str) else entry[0]
        for key, entry in state.get("nodes", {}).items()
    }
    v1: dict[str, Any] = {"v": 1, "status": state["status"], "starter": state["starter"]}
    if state.get("tasks"):
        v1["tasks"] = {
            task_id: [nodes[activation_id], assignees]
            for task_id, (activation_id, assignees) in state["tasks"].items()
        }
    if state.get("joins"):
        v1["joins"] = state["joins"]
    return v1


def _store(desk: Desk, ticket_id: str, state: dict[str, Any]) -> None:
    with desk.ctx.db.write() as conn:
        conn.execute(update(Ticket).where(Ticket.id == ticket_id).values(state=state))


def test_a_ticket_stored_at_a_parallel_join_as_v1_finishes_approved(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    v1 = _as_version_1(_stored_state(desk, ticket_id))
    assert v1["tasks"] and v1["joins"]  # waiting for finance, legal's arrival at the join
    _store(desk, ticket_id, v1)

    desk.approve("liu.yang", ticket_id, "finance_review")
    assert _stored_state(desk, ticket_id)["v"] == 2
    desk.approve("yang.guang", ticket_id, "committee")
    assert desk.approve("zhao.lei", ticket_id, "disburse").status == "approved"
    view = desk.view(ticket_id)
    assert view.status == "approved"
    assert view.open_tasks == ()
    assert [t.node_id for t in view.tasks if t.state == "approved"] == [
        "legal_review",
        "finance_review",
        "committee",
        "disburse",
    ]


def test_a_v1_ticket_can_still_be_rejected(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    _store(desk, ticket_id, _as_version_1(_stored_state(desk, ticket_id)))
    assert desk.reject("wang.fang", ticket_id, "legal_review", "证据不足").status == "rejected"
    view = desk.view(ticket_id)
    assert [(t.node_id, t.state) for t in view.tasks] == [
        ("legal_review", "rejected"),
        ("finance_review", "cancelled"),
    ]
