"""Replays a ticket's stored history through the pure engine.

Each step a service writes leaves one audit entry (who did what, with the task and the
command's parameters) and one timeline row (its events, the version it produced, the
ids of the tasks it opened in order). Together they are the step's command: the
replay rebuilds each one, feeds it to `step` from the start (or from a given state
and version) with a Context that resolves people from the org as the service did and
hands out the recorded task ids, and returns the state it ends in, for the test to
compare with the state the ticket holds.

Tickets whose values changed after filing (an approver's edit, a resubmit with new
values) or that were repaired or moved to another app version by an administrator
are refused: their steps read values or a definition the history does not hold.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from flowdesk.engines.process import (
    AddSigners,
    AssigneeRule,
    CancelInstance,
    Command,
    CompleteTask,
    FireTimer,
    InstanceState,
    ReceiveMessage,
    RemoveSigner,
    Resubmit,
    RetractDecision,
    ReturnTask,
    Start,
    TransferTask,
    Withdraw,
    load_state,
    step,
)
from flowdesk.services.context import ServiceContext
from flowdesk.services.process_context import StepContext
from flowdesk.services.registry import PublishedApp
from flowdesk.services.task_returns import APPLICANT
from flowdesk.store import org as org_store
from flowdesk.store.tables import AuditLog, Ticket, TicketStep


@dataclass(frozen=True)
class StoredStep:
    version: int
    action: str
    actor: str  # username, as the audit keeps it
    details: Mapping[str, Any]
    events: Sequence[Mapping[str, Any]]

    @property
    def opened(self) -> list[str]:
        """The ids the engine issued in the step, in order: the tasks it opened, the timers
        it set, the message and call waits it started (ADR 0023, 0033)."""
        found: list[str] = []
        for e in self.events:
            kind = e.get("kind")
            data = e.get("data") or {}
            if kind == "task_opened":
                found.append(e["task_id"])
            elif kind == "timer_set":
                found.append(data["timer_id"])
            elif kind in ("message_awaited", "child_called") and data.get("wait_id"):
                found.append(data["wait_id"])
        return found


@dataclass(frozen=True)
class History:
    ticket_id: str
    requester_id: str
    app: PublishedApp
    values: Mapping[str, Any]
    state: Mapping[str, Any]  # the stored state document
    version: int
    steps: tuple[StoredStep, ...]


class ReplayContext:
    """People from the org, as the service's StepContext looks them up (no cache, no
    stand-ins: the tests replay tickets filed without delegations); task ids from the
    history, in order."""

    def __init__(self, conn: Connection, app: PublishedApp, requester_id: str) -> None:
        self._people = StepContext(conn, app, requester_id)
        self.ids: deque[str] = deque()

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self._people.evaluate(condition, values)

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]:
        return self._people.resolve_assignees(
            rule, starter, values=values, previous=previous, exclude=exclude
        )

    def new_id(self) -> str:
        assert self.ids, "the engine opened more tasks than the step stored"
        return self.ids.popleft()


def read_history(ctx: ServiceContext, ticket_id: str) -> History:
    with ctx.db.read() as conn:
        row = conn.execute(select(Ticket).where(Ticket.id == ticket_id)).one()
        audit = conn.execute(
            select(AuditLog.action, AuditLog.actor, AuditLog.details)
            .where(AuditLog.target_type == "ticket", AuditLog.target_id == ticket_id)
            .order_by(AuditLog.seq)
        ).all()
        timeline = conn.execute(
            select(TicketStep.version, TicketStep.events)
            .where(TicketStep.ticket_id == ticket_id)
            .order_by(TicketStep.version)
        ).all()
        app = ctx.apps.version(conn, row.app_version_id)
    # every step writes exactly one audit entry and one timeline row, in the same order
    assert len(audit) == len(timeline), (len(audit), len(timeline))
    steps = tuple(
        StoredStep(version, action, actor, details, events)
        for (action, actor, details), (version, events) in zip(audit, timeline, strict=True)
    )
    assert [s.version for s in steps] == list(range(1, len(steps) + 1))
    return History(ticket_id, row.requester_id, app, row.values, row.state, row.version, steps)


def _user_id(conn: Connection, username: str) -> str:
    user = org_store.user_by_username(conn, username)
    assert user is not None, username
    return str(user.id)


def _closed_by(events: Sequence[Mapping[str, Any]], task_id: str) -> Mapping[str, Any]:
    """The event of the step that closed `task_id` by its holder's action."""
    return next(
        e
        for e in events
        if e.get("task_id") == task_id
        and e.get("kind") not in ("task_opened", "task_cancelled", "values_changed")
    )


def command_of(
    conn: Connection, history: History, stored: StoredStep, add_sign_depth: int
) -> Command:
    """The engine command the service sent for `stored`, rebuilt from its audit and events
    (`add_sign_depth`: the installation's setting the service passed with a 加签)."""
    details = stored.details
    values = dict(history.values)
    assert not details.get("changed_fields"), "replay needs tickets whose values never changed"
    action = stored.action
    if action == "ticket.submit":
        return Start(history.requester_id, values)
    if action == "message.receive":  # a sender outside, not a task's holder (ADR 0023)
        activation = str(details["activation"])
        return ReceiveMessage(
            str(details["message"]),
            str(details["key"]),
            values,
            str(details["wait"]),
            activation,
            str(details["node"]) if activation else "",
        )
    if action == "timer.fire":  # the worker, not a person (ADR 0023)
        return FireTimer(
            str(details["wait"]),
            str(details["timer"]),
            str(details["activation"]),
            int(details["fire"]),
            values,
        )
    task_id = str(details.get("task", ""))
    actor = _user_id(conn, stored.actor)
    if action in ("task.approve", "task.reject"):
        comment = _closed_by(stored.events, task_id).get("comment") or ""
        outcome = "approve" if action == "task.approve" else "reject"
        return CompleteTask(task_id, actor, outcome, comment, values)
    if action == "task.return":
        target = details["to"]
        node = history.app.spec.process.nodes[str(details["node"])]
        chosen = details["resubmit"] if node.resubmit == "returner_chooses" else None
        comment = _closed_by(stored.events, task_id).get("comment") or ""
        to = None if target == APPLICANT else str(target)
        return ReturnTask(task_id, actor, to, comment, chosen, values)
    if action == "ticket.resubmit":
        comment = _closed_by(stored.events, task_id).get("comment") or ""
        return Resubmit(task_id, actor, comment, values)
    if action in ("task.transfer", "task.hand_over"):
        holder = str(_closed_by(stored.events, task_id)["actor_id"])
        comment = _closed_by(stored.events, task_id).get("comment") or ""
        return TransferTask(task_id, holder, _user_id(conn, str(details["to"])), comment)
    if action == "task.add_sign":
        users = tuple(_user_id(conn, name) for name in details["users"])
        return AddSigners(
            task_id,
            actor,
            users,
            details["position"],
            details["mode"],
            str(details.get("reason") or ""),
            add_sign_depth,
            values=values,
        )
    if action == "task.remove_signer":
        users = tuple(_user_id(conn, name) for name in details["users"])
        return RemoveSigner(task_id, actor, users, str(details.get("reason") or ""), values)
    if action == "ticket.withdraw":
        return Withdraw(actor)
    if action == "ticket.cancel":
        return CancelInstance(actor)
    if action == "task.withdraw":
        return RetractDecision(task_id, actor)
    raise AssertionError(f"a step the replay cannot rebuild: {action}")


def replay(
    ctx: ServiceContext,
    ticket_id: str,
    *,
    from_state: Mapping[str, Any] | None = None,
    from_version: int = 0,
) -> InstanceState:
    """The state the ticket's stored steps lead to, re-run through the pure engine: from
    the start, or from the stored document `from_state` the ticket held at
    `from_version` (a version-1 one is upgraded as the service upgrades it)."""
    history = read_history(ctx, ticket_id)
    state = None if from_state is None else load_state(from_state)
    with ctx.db.read() as conn:
        replaying = ReplayContext(conn, history.app, history.requester_id)
        for stored in history.steps:
            if stored.version <= from_version:
                continue
            command = command_of(conn, history, stored, ctx.add_sign_depth)
            replaying.ids.extend(stored.opened)
            state = step(history.app.spec.process, state, command, replaying).state
            assert not replaying.ids, f"step {stored.version} stored tasks the engine never opened"
    assert state is not None
    return state
