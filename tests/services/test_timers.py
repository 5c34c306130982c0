"""Boundary timers and timer catch events through the services, on SQLite and PostgreSQL
(ADR 0023), with a frozen clock moved forward instead of sleeping.

The demo clock starts on Monday 5 January 2026 at 09:30 in Beijing (01:30 UTC), inside
working hours; 2026's holidays are known to the calendar."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from replay_history import replay
from sqlalchemy import select

from approval_apps import line_app, yaml_of
from flowdesk.engines.process import dump_state
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import FlowdeskError
from flowdesk.services import apps, jobs, notifications, repairs, tickets, timers, transfers
from flowdesk.services.context import ServiceContext
from flowdesk.store.tables import Ticket


def _user(who: str) -> dict[str, Any]:
    return {"kind": "user", "user": who}


def _app(key: str, *boundaries: dict[str, Any], extra: list[dict[str, Any]] | None = None) -> str:
    definition = line_app(key, (), name={"en": key, "zh": key}, serial_prefix=key.upper()[:4])
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "handle", "type": "user_task", "assignee": _user("xu.ming")},
            *({"type": "boundary_timer", "attached_to": "handle", **b} for b in boundaries),
            *(extra or []),
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "handle"}, {"from": "handle", "to": "end"}],
    }
    return yaml_of(definition)


SLA = _app(
    "sla",
    {
        "id": "remind",
        "interrupting": False,
        "timer": {
            "after": "PT1H30M",
            "working": True,
            "action": "remind",
            "repeat": 1,
            "every": "PT1H",
        },
    },
    {
        "id": "escalate",
        "interrupting": False,
        "timer": {
            "after": "PT2H",
            "working": True,
            "action": "escalate",
            "to": {"kind": "previous_approver_manager"},
        },
    },
)
AUTO = _app(
    "autook",
    {"id": "approve_late", "timer": {"after": "P2D", "working": True, "action": "approve"}},
)


@pytest.fixture
def clock(demo_ctx: ServiceContext) -> FrozenClock:
    frozen = FrozenClock(datetime(2026, 1, 5, 1, 30, tzinfo=UTC))
    demo_ctx.clock = frozen
    return frozen


@pytest.fixture
def desk(demo_ctx: ServiceContext, actors: dict[str, Any], clock: FrozenClock) -> Desk:
    apps.publish_yaml(demo_ctx, SLA)
    apps.publish_yaml(demo_ctx, AUTO)
    return Desk(demo_ctx, actors)


def _submit(desk: Desk, app_key: str) -> str:
    outcome = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key=app_key, values=loan_values()
    )
    return outcome.ticket_id


def _events(desk: Desk, ticket_id: str, kind: str) -> list[Any]:
    return [e for e in desk.view(ticket_id).timeline if e.kind == kind]


def test_pending_timers_are_due_in_working_time(desk: Desk) -> None:
    ticket_id = _submit(desk, "sla")
    view = desk.view(ticket_id)
    due = {t.node_id: t.due_at for t in view.timers}
    # 09:30 + 1.5 working hours = 11:00 Beijing; + 2 h = 11:30 (before the lunch break)
    assert due == {
        "remind": datetime(2026, 1, 5, 3, 0, tzinfo=UTC),
        "escalate": datetime(2026, 1, 5, 3, 30, tzinfo=UTC),
    }
    assert [t.action for t in view.timers] == ["remind", "escalate"]


def test_reminder_repeats_and_escalation_adds_the_manager(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = _submit(desk, "sla")
    assert timers.fire_due(desk.ctx).fired == 0  # nothing due yet
    clock.advance(timedelta(hours=1, minutes=30))
    assert timers.fire_due(desk.ctx).fired == 1
    reminded = _events(desk, ticket_id, "timer_fired")
    assert len(reminded) == 1
    jobs.run_due(desk.ctx, owner="test")  # the notices go out through the job queue
    assert "task_reminder" in [
        n.kind for n in notifications.unread(desk.ctx, desk.actors["xu.ming"])
    ]
    clock.advance(timedelta(minutes=30))
    assert timers.fire_due(desk.ctx).fired == 1  # the escalation
    task = desk.task(ticket_id, "handle")
    assert {p.id for p in task.assignees} == {
        desk.actors["xu.ming"].user_id,
        desk.actors["wang.fang"].user_id,  # xu.ming's manager, beside him
    }
    clock.advance(timedelta(minutes=30))  # the reminder's repeat, 1 working hour on
    assert timers.fire_due(desk.ctx).fired == 1
    clock.advance(timedelta(days=3))
    assert timers.fire_due(desk.ctx).fired == 0  # repeat: 1, so no third reminder
    outcome = tickets.approve(desk.ctx, actor=desk.actors["wang.fang"], task_id=task.id)
    assert outcome.status == "approved"
    assert desk.view(ticket_id).timers == ()


def test_auto_approve_after_two_working_days_fires_once_and_late(
    desk: Desk, clock: FrozenClock
) -> None:
    ticket_id = _submit(desk, "autook")
    (pending,) = desk.view(ticket_id).timers
    # Monday's day not counted: the close of business on Wednesday (17:30 Beijing)
    assert pending.due_at == datetime(2026, 1, 7, 9, 30, tzinfo=UTC)
    clock.advance(timedelta(days=4))  # the worker was down: it fires once on restart
    stats = timers.fire_due(desk.ctx)
    assert (stats.fired, stats.stale) == (1, 0)
    view = desk.view(ticket_id)
    assert view.status == "approved"
    (fired,) = _events(desk, ticket_id, "timer_fired")
    # the timeline names the boundary timer that fired, and the task it acted on
    assert fired.node_id == "approve_late"
    assert fired.data is not None and fired.data["attached"] == "handle"
    assert timers.fire_due(desk.ctx).fired == 0  # never twice
    _assert_replays(desk, ticket_id)


def _assert_replays(desk: Desk, ticket_id: str) -> None:
    """The stored steps, the timer's fire among them, re-run through the engine reach
    the stored state (replay_history.py)."""
    with desk.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert dump_state(replay(desk.ctx, ticket_id)) == stored


def test_reminders_and_an_escalation_replay_to_the_stored_state(
    desk: Desk, clock: FrozenClock
) -> None:
    ticket_id = _submit(desk, "sla")
    clock.advance(timedelta(hours=2, minutes=5))
    assert timers.fire_due(desk.ctx).fired == 2  # the reminder, then the escalation
    fired = _events(desk, ticket_id, "timer_fired")
    assert [e.node_id for e in fired] == ["remind", "escalate"]
    _assert_replays(desk, ticket_id)  # mid-way: the reminder's next fire is set
    desk.approve("xu.ming", ticket_id, "handle")
    _assert_replays(desk, ticket_id)


def test_a_timer_whose_task_closed_is_stale(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = _submit(desk, "autook")
    desk.approve("xu.ming", ticket_id, "handle")
    clock.advance(timedelta(days=4))
    stats = timers.fire_due(desk.ctx)
    assert (stats.fired, stats.stale) == (0, 0)  # the approval finished it: dropped
    assert _events(desk, ticket_id, "timer_fired") == []


def test_a_cancelled_tickets_timers_are_dropped(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = _submit(desk, "sla")
    repairs.cancel(desk.ctx, actor=desk.actors["admin"], ticket_id=ticket_id, comment="duplicate")
    assert desk.view(ticket_id).timers == ()
    clock.advance(timedelta(days=2))
    assert timers.fire_due(desk.ctx).fired == 0


def test_a_year_the_calendar_does_not_cover_is_refused_at_submit(
    desk: Desk, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=365 * 60))
    with pytest.raises(FlowdeskError) as caught:
        _submit(desk, "sla")
    assert (caught.value.status, caught.value.code) == (422, "calendar_year_not_covered")


def test_a_timer_racing_an_approval_one_wins(desk: Desk, clock: FrozenClock) -> None:
    """The worker fires the auto-approve while the handler approves the same task: exactly
    one of them decides it, the other is a no-op (stale timer) or 409; one successor."""
    for _ in range(4):
        ticket_id = _submit(desk, "autook")
        task_id = desk.task(ticket_id, "handle").id
        clock.advance(timedelta(days=4))
        answers = _race(desk, task_id)
        fired = answers["worker"].fired
        assert (fired, answers["person"]) in ((1, 409), (0, "approved"))
        view = desk.view(ticket_id)
        assert view.status == "approved"
        decided = _events(desk, ticket_id, "timer_fired") + _events(
            desk, ticket_id, "task_approved"
        )
        assert len(decided) == 1
        assert len(_events(desk, ticket_id, "ticket_approved")) == 1


def _race(desk: Desk, task_id: str) -> dict[str, Any]:
    barrier = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def by_worker() -> None:
        barrier.wait()
        answers["worker"] = timers.fire_due(desk.ctx)

    def by_person() -> None:
        barrier.wait()
        try:
            answers["person"] = tickets.approve(
                desk.ctx, actor=desk.actors["xu.ming"], task_id=task_id
            ).status
        except FlowdeskError as exc:
            answers["person"] = exc.status

    threads = [threading.Thread(target=by_worker), threading.Thread(target=by_person)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_a_timer_catch_event_waits_with_no_open_task_then_goes_on(
    demo_ctx: ServiceContext, actors: dict[str, Any], clock: FrozenClock
) -> None:
    definition = line_app("cooloff", (), name={"en": "c", "zh": "c"}, serial_prefix="COOL")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "cool_off", "type": "timer_catch", "timer": {"after": "P1D"}},
            {"id": "handle", "type": "user_task", "assignee": _user("xu.ming")},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "cool_off"},
            {"from": "cool_off", "to": "handle"},
            {"from": "handle", "to": "end"},
        ],
    }
    apps.publish_yaml(demo_ctx, yaml_of(definition))
    desk = Desk(demo_ctx, actors)
    first = _submit(desk, "cooloff")
    second = _submit(desk, "cooloff")
    assert desk.view(first).open_tasks == () and desk.view(first).status == "running"
    # an admin cancels a ticket that has only a wait: its timer is dropped
    repairs.cancel(demo_ctx, actor=actors["admin"], ticket_id=second, comment="filed twice")
    clock.advance(timedelta(days=1, minutes=5))
    stats = timers.fire_due(demo_ctx)
    assert (stats.fired, stats.stale) == (1, 0)
    assert [t.node_id for t in desk.view(first).open_tasks] == ["handle"]
    assert desk.view(second).status == "cancelled"
    _assert_replays(desk, first)  # the wait's id came back from the timeline


def test_a_repeating_reminder_after_downtime_fires_once_and_counts_the_missed(
    demo_ctx: ServiceContext, actors: dict[str, Any], clock: FrozenClock
) -> None:
    apps.publish_yaml(
        demo_ctx,
        _app(
            "nagging",
            {
                "id": "remind",
                "interrupting": False,
                "timer": {"after": "PT1H", "action": "remind", "repeat": 5},
            },
        ),
    )
    desk = Desk(demo_ctx, actors)
    ticket_id = _submit(desk, "nagging")
    clock.advance(timedelta(hours=4, minutes=10))  # due at 1 h; 3 more were due since
    assert timers.fire_due(desk.ctx).fired == 1
    (fired,) = [e for e in desk.view(ticket_id).timeline if e.kind == "timer_fired"]
    assert fired.data is not None
    assert (fired.data["late"], fired.data["missed"]) == (True, 3)
    for _ in range(2):  # fires 5 and 6 of 1 + 5 (2, 3 and 4 were missed)
        clock.advance(timedelta(hours=1))
        assert timers.fire_due(desk.ctx).fired == 1
    clock.advance(timedelta(hours=5))
    assert timers.fire_due(desk.ctx).fired == 0


def test_the_complaint_template_escalates_to_the_handlers_manager(
    demo_ctx: ServiceContext, actors: dict[str, Any], clock: FrozenClock
) -> None:
    desk = Desk(demo_ctx, actors)
    ticket_id = tickets.submit(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="complaint",
        values={
            "customer_name": "王女士",
            "channel": "counter",
            "severity": "normal",
            "description": "Queue too long",
        },
    ).ticket_id
    handler = desk.task(ticket_id, "first_response")
    assert [p.id for p in handler.assignees] == [actors["li.na"].user_id]
    clock.advance(timedelta(hours=2))
    assert timers.fire_due(demo_ctx).fired == 2  # the reminder, then the escalation
    task = desk.task(ticket_id, "first_response")
    assert {p.id for p in task.assignees} == {
        actors["li.na"].user_id,
        actors["zhou.hang"].user_id,
    }
    clock.advance(timedelta(days=5))  # nobody answered for 3 working days: back to them
    assert timers.fire_due(demo_ctx).fired == 1
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["start"]


COUNTERSIGN = ("xu.ming", "liu.yang", "hu.bin")


def test_edge_case_35_a_countersign_timeout_approves_only_the_overdue_tasks(
    desk: Desk, clock: FrozenClock
) -> None:
    """APPROVALS.md edge case 35 (ADR 0041): a 会签 of three with a two-day auto-approve
    timer runs one timer per approver's task. xu.ming approves and hu.bin hands his task
    to sun.li (a new task, with no timer of its own). Four days on only liu.yang's task
    times out: it closes approved by nobody (timer_fired); sun.li still decides, and
    her approval completes the step."""
    definition = line_app("cs35", (), name={"en": "cs35", "zh": "cs35"}, serial_prefix="CS35")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "handle",
                "type": "user_task",
                "assignee": {"kind": "users", "users": list(COUNTERSIGN)},
                "approval": {"mode": "all"},
            },
            {
                "id": "approve_late",
                "type": "boundary_timer",
                "attached_to": "handle",
                "timer": {"after": "P2D", "working": True, "action": "approve"},
            },
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "handle"}, {"from": "handle", "to": "end"}],
    }
    apps.publish_yaml(desk.ctx, yaml_of(definition))
    ticket_id = _submit(desk, "cs35")
    assert len(desk.view(ticket_id).timers) == 3  # one per approver's task
    ids = {desk.actors[p].user_id: p for p in (*COUNTERSIGN, "sun.li")}

    def task_of(who: str) -> str:
        user_id = desk.actors[who].user_id
        return next(
            t.id
            for t in desk.view(ticket_id).open_tasks
            if any(p.id == user_id for p in t.assignees)
        )

    tickets.approve(desk.ctx, actor=desk.actors["xu.ming"], task_id=task_of("xu.ming"))
    transfers.transfer(
        desk.ctx, actor=desk.actors["hu.bin"], task_id=task_of("hu.bin"), to="sun.li"
    )
    clock.advance(timedelta(days=4))
    timers.fire_due(desk.ctx)
    view = desk.view(ticket_id)
    assert view.status == "running"
    assert [sorted(ids[p.id] for p in t.assignees) for t in view.open_tasks] == [["sun.li"]]
    (timed_out,) = [
        e for e in view.timeline if e.kind == "task_approved" and (e.data or {}).get("reason")
    ]
    assert timed_out.actor is None and timed_out.data == {
        "reason": "timer_fired",
        "decided_by": None,
    }
    outcome = tickets.approve(desk.ctx, actor=desk.actors["sun.li"], task_id=task_of("sun.li"))
    assert outcome.status == "approved"
