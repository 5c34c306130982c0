"""A ticket's process as a diagram: the BPMN of the version it runs on, with the steps it
is at and the steps it has passed, for the ticket page's read-only viewer.

Read like the ticket itself (services.tickets.can_read): a ticket the actor may not
read and a missing one look alike (404), so an id reveals nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowdesk.engines.access import Actor
from flowdesk.engines.apps import dump_app_bpmn
from flowdesk.kernel.errors import NotFound
from flowdesk.services.context import ServiceContext
from flowdesk.services.tickets import can_read
from flowdesk.store import org as org_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.tickets import TimelineEvent

# Timeline events that say the ticket went through a node (gateways and ends pass with
# node_passed; the start is passed when the ticket is submitted; a CC node, 抄送, with
# copies_sent, whether it copied anyone or was skipped).
_PASSING_EVENTS = frozenset(
    {"node_passed", "node_decided", "task_approved", "task_rejected", "copies_sent"}
    | {"webhook_queued"}  # a service task (ADR 0024): its call queued, the token passed on
)


@dataclass(frozen=True)
class TicketDiagram:
    bpmn: str  # BPMN 2.0 XML with its diagram (the app version's export)
    current: tuple[str, ...]  # node ids with an open task, in the order they opened
    passed: tuple[str, ...]  # node ids the ticket went through and is not at now
    # per current node: who holds its open tasks (display names) and its approval mode
    holders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    modes: Mapping[str, str] = field(default_factory=dict)


def ticket_diagram(ctx: ServiceContext, actor: Actor, ticket_id: str) -> TicketDiagram:
    with ctx.db.read() as conn:
        row = tickets_store.ticket_by_id(conn, ticket_id)
        if row is None or not can_read(actor, conn, row):
            raise NotFound("Ticket not found", "ticket_not_found")
        app = ctx.apps.version(conn, row.app_version_id)
        task_rows, assigned = tickets_store.tasks_with_assignees(conn, ticket_id)
        events = tickets_store.timeline(conn, ticket_id)
        open_tasks = [t for t in task_rows if t.state == "open"]
        names = org_store.display_names(conn, (u for t in open_tasks for u in assigned[t.id]))
    process = app.spec.process
    current = tuple(dict.fromkeys(t.node_id for t in open_tasks))
    holders: dict[str, dict[str, None]] = {node: {} for node in current}
    for task in open_tasks:
        for user in assigned[task.id]:
            holders[task.node_id][names.get(user, user)] = None
    modes = {n: process.nodes[n].approval.mode for n in current if n in process.nodes}
    went_through = _went_through(process.start.id, events)
    passed = tuple(n for n in went_through if n not in current and n in process.nodes)
    return TicketDiagram(
        dump_app_bpmn(app.spec),
        current,
        passed,
        {node: tuple(people) for node, people in holders.items()},
        modes,
    )


def _went_through(start: str, events: Sequence[TimelineEvent]) -> list[str]:
    """The nodes passed, in the order first passed. A 退回 (task_returned) takes the
    ticket back: its target and every node passed after it are to come again (a return
    to the applicant leaves only the start)."""
    order: dict[str, None] = {start: None}
    for event in events:
        if event.kind in _PASSING_EVENTS and event.node_id:
            order.setdefault(event.node_id, None)
        elif event.kind == "task_returned":
            target = (event.data or {}).get("to")
            kept = list(order)
            cut = kept.index(target) if target in order else 1
            order = dict.fromkeys(kept[:cut])
        elif event.kind == "ticket_jumped" and event.node_id in order:  # moved back (ADR 0026)
            kept = list(order)
            order = dict.fromkeys(kept[: kept.index(event.node_id)])
    return list(order)
