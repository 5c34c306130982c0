"""Boundary messages and event-based gateways through the services, on SQLite and
PostgreSQL (ADR 0035): a message sent to POST /api/v1/messages' service takes a user
task's boundary path (closing the task when it interrupts), and after an event-based
gateway the first of a message and a timer wins, the other's row cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from replay_history import replay
from sqlalchemy import select

from approval_apps import line_app, yaml_of
from event_apps import XU, boundary_app, interrupted_ticket, race_app
from flowdesk.engines.process import dump_state
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import FlowdeskError
from flowdesk.services import apps, messages, tickets, timers
from flowdesk.services.context import ServiceContext
from flowdesk.store.tables import Ticket, TicketWait


@pytest.fixture
def desk(demo_ctx: ServiceContext, actors: dict[str, Any]) -> Desk:
    demo_ctx.clock = FrozenClock(datetime(2026, 1, 5, 1, 30, tzinfo=UTC))
    for source in (boundary_app("stop", True), boundary_app("aside", False), race_app()):
        apps.publish_yaml(demo_ctx, source)
    return Desk(demo_ctx, actors)


def _submit(desk: Desk, app_key: str, key: str) -> str:
    return tickets.submit(
        desk.ctx,
        actor=desk.actors["zhang.wei"],
        app_key=app_key,
        values=loan_values(applicant_name=key),
    ).ticket_id


def _send(desk: Desk, name: str, key: str, message_id: str) -> messages.Received:
    return messages.receive(
        desk.ctx, actor=desk.actors["admin"], name=name, key=key, message_id=message_id
    )


def _kinds(desk: Desk, ticket_id: str) -> list[tuple[str, str | None]]:
    return [(e.kind, e.node_id) for e in desk.view(ticket_id).timeline]


def _assert_replays(desk: Desk, ticket_id: str) -> None:
    with desk.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert dump_state(replay(desk.ctx, ticket_id)) == stored


def _wait_states(desk: Desk, ticket_id: str) -> dict[str, str]:
    with desk.ctx.db.read() as conn:
        rows = conn.execute(
            select(TicketWait.node_id, TicketWait.state).where(TicketWait.ticket_id == ticket_id)
        ).all()
    return dict(rows)


def test_an_interrupting_boundary_message_closes_the_task_and_takes_its_path(desk: Desk) -> None:
    ticket_id = _submit(desk, "stop", "PO-1")
    handle = desk.task(ticket_id, "handle").id
    got = _send(desk, "order_cancelled", "PO-1", "m-1")
    assert (got.ticket_id, got.node_id, got.status) == (ticket_id, "cancelled", "running")
    view = desk.view(ticket_id)
    assert [t.node_id for t in view.open_tasks] == ["refund"]
    closed = [e for e in view.timeline if e.kind == "task_cancelled" and e.task_id == handle]
    assert len(closed) == 1 and closed[0].data is not None
    assert closed[0].data.get("reason") == "message_received"
    assert ("message_received", "cancelled") in _kinds(desk, ticket_id)
    with pytest.raises(FlowdeskError) as late:  # xu.ming's task is gone: no orphan
        tickets.approve(desk.ctx, actor=desk.actors["xu.ming"], task_id=handle)
    assert (late.value.status, late.value.code) == (409, "task_not_open")
    with pytest.raises(FlowdeskError) as again:  # served: a second message is refused
        _send(desk, "order_cancelled", "PO-1", "m-2")
    assert again.value.code == "message_already_received"
    assert desk.approve("wang.fang", ticket_id, "refund").status == "approved"
    _assert_replays(desk, ticket_id)


def test_a_non_interrupting_boundary_message_opens_a_parallel_path(desk: Desk) -> None:
    ticket_id = _submit(desk, "aside", "PO-2")
    _send(desk, "order_cancelled", "PO-2", "m-3")
    assert sorted(t.node_id for t in desk.view(ticket_id).open_tasks) == ["handle", "refund"]
    _assert_replays(desk, ticket_id)  # mid-way, two tokens
    assert desk.approve("xu.ming", ticket_id, "handle").status == "running"
    assert desk.approve("wang.fang", ticket_id, "refund").status == "approved"


def test_a_boundary_message_after_the_task_was_decided_finds_no_ticket(desk: Desk) -> None:
    ticket_id = _submit(desk, "stop", "PO-3")
    assert desk.approve("xu.ming", ticket_id, "handle").status == "approved"
    with pytest.raises(FlowdeskError) as caught:
        _send(desk, "order_cancelled", "PO-3", "m-4")
    assert (caught.value.status, caught.value.code) == (404, "no_waiting_ticket")


def test_after_an_event_gateway_the_message_wins_and_the_timer_row_is_cancelled(
    desk: Desk,
) -> None:
    ticket_id = _submit(desk, "race", "PO-4")
    assert _wait_states(desk, ticket_id) == {"paid": "pending", "expired": "pending"}
    _send(desk, "payment_received", "PO-4", "m-5")
    assert _wait_states(desk, ticket_id) == {"paid": "received", "expired": "cancelled"}
    assert ("wait_cancelled", "expired") in _kinds(desk, ticket_id)
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["ship"]
    assert isinstance(desk.ctx.clock, FrozenClock)
    desk.ctx.clock.advance(timedelta(days=4))
    assert timers.fire_due(desk.ctx).fired == 0  # the cancelled timer never fires
    _assert_replays(desk, ticket_id)


def test_after_an_event_gateway_the_timer_wins_and_the_message_finds_nothing(
    desk: Desk,
) -> None:
    ticket_id = _submit(desk, "race", "PO-6")
    assert isinstance(desk.ctx.clock, FrozenClock)
    desk.ctx.clock.advance(timedelta(days=3, minutes=1))
    assert timers.fire_due(desk.ctx).fired == 1
    assert _wait_states(desk, ticket_id) == {"paid": "cancelled", "expired": "fired"}
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["chase"]
    with pytest.raises(FlowdeskError) as caught:
        _send(desk, "payment_received", "PO-6", "m-6")
    assert (caught.value.status, caught.value.code) == (404, "no_waiting_ticket")
    _assert_replays(desk, ticket_id)


def _started_by(key: str, message: str) -> str:
    definition = line_app(key, (), name={"en": key, "zh": key}, serial_prefix=key.upper()[:4])
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start", "message": {"name": message}},
            {"id": "check", "type": "user_task", "assignee": XU},
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
    }
    return yaml_of(definition)


def test_a_message_start_files_a_ticket_once_and_it_replays(desk: Desk) -> None:
    apps.publish_yaml(desk.ctx, _started_by("intake", "lead_arrived"))
    first = messages.receive(
        desk.ctx,
        actor=desk.actors["admin"],
        name="lead_arrived",
        key="L-1",
        message_id="m-10",
        variables=loan_values(),
    )
    assert first.started and first.node_id == "start"
    assert desk.view(first.ticket_id).values["applicant_name"] == loan_values()["applicant_name"]
    again = messages.receive(
        desk.ctx,
        actor=desk.actors["admin"],
        name="lead_arrived",
        key="L-1",
        message_id="m-10",
        variables=loan_values(),
    )
    assert (again.ticket_id, again.duplicate) == (first.ticket_id, True)
    _assert_replays(desk, first.ticket_id)


def test_two_apps_starting_on_one_message_are_the_senders_409(desk: Desk) -> None:
    apps.publish_yaml(desk.ctx, _started_by("intake", "lead_arrived"))
    apps.publish_yaml(desk.ctx, _started_by("second_intake", "lead_arrived"))
    with pytest.raises(FlowdeskError) as caught:
        _send(desk, "lead_arrived", "L-2", "m-11")
    assert (caught.value.status, caught.value.code) == (409, "message_start_ambiguous")


def test_one_ticket_interrupted_then_raced_replays(desk: Desk) -> None:
    ticket_id = interrupted_ticket(desk.ctx, desk.actors)
    kinds = _kinds(desk, ticket_id)
    assert ("message_received", "cancelled") in kinds
    assert ("wait_cancelled", "expired") in kinds
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["ship"]
    _assert_replays(desk, ticket_id)
