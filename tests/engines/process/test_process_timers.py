"""Timers and messages in the pure engine (ADR 0023): golden scenarios written as code.

Each scenario runs straight and with the state saved to JSON and loaded back between
steps, as the services do between requests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from process_fakes import FakeContext

from flowdesk.engines.process import (
    AddSigners,
    CancelInstance,
    CompleteTask,
    FireTimer,
    InstanceState,
    MessageAwaited,
    MessageReceived,
    NodeDecided,
    ReceiveMessage,
    ReturnTask,
    Start,
    TaskClosed,
    TaskEscalated,
    TaskOpened,
    TimerFired,
    TimerSet,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.engines.process.runtime import StepResult
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

PERSIST = pytest.mark.parametrize("persist", [False, True], ids=["straight", "save_restore"])


def _handle_with(*boundaries: dict[str, Any], after: str = "handle") -> dict[str, Any]:
    """start -> handle (alice's manager bob) -> end, with `boundaries` on `after`."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "handle", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            *({"type": "boundary_timer", "attached_to": after, **b} for b in boundaries),
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "handle"}, {"from": "handle", "to": "end"}],
    }


class Run:
    """One instance stepped through commands, its state optionally round-tripped."""

    def __init__(self, process: dict[str, Any], persist: bool) -> None:
        self.spec = parse_process(process)
        self.ctx = FakeContext()
        self.persist = persist
        self.state: InstanceState | None = None
        self.timers: list[TimerSet] = []

    def do(self, command: Any) -> StepResult:
        result = step(self.spec, self.state, command, self.ctx)
        self.state = result.state
        if self.persist:
            restored = load_state(json.loads(json.dumps(dump_state(result.state))))
            assert restored == result.state
            self.state = restored
        self.timers.extend(e for e in result.effects if isinstance(e, TimerSet))
        return result

    def fire(self, node_id: str, *, last: bool = True) -> StepResult:
        timer = [t for t in self.timers if t.node_id == node_id][-1 if last else 0]
        return self.do(FireTimer(timer.timer_id, node_id, timer.activation_id, timer.fire))

    def task(self, node_id: str) -> str:
        assert self.state is not None
        return next(t.task_id for t in self.state.tasks.values() if t.node_id == node_id)


@PERSIST
def test_a_task_starts_its_boundary_timers(persist: bool) -> None:
    run = Run(
        _handle_with(
            {
                "id": "remind",
                "interrupting": False,
                "timer": {"after": "PT1H30M", "working": True, "action": "remind"},
            }
        ),
        persist,
    )
    result = run.do(Start("alice"))
    (timer,) = [e for e in result.effects if isinstance(e, TimerSet)]
    assert (timer.node_id, timer.delay, timer.working, timer.fire) == ("remind", "PT1H30M", True, 1)
    assert timer.activation_id == run.task("handle")


@PERSIST
def test_remind_repeats_then_stops_and_leaves_the_task_open(persist: bool) -> None:
    run = Run(
        _handle_with(
            {
                "id": "remind",
                "interrupting": False,
                "timer": {"after": "PT1H", "action": "remind", "repeat": 2, "every": "PT30M"},
            }
        ),
        persist,
    )
    run.do(Start("alice"))
    fired = [e for e in run.fire("remind").effects if isinstance(e, TimerFired)]
    assert fired[0].action == "remind" and fired[0].notify == ("bob",)
    assert run.timers[-1].fire == 2 and run.timers[-1].delay == "PT30M"
    run.fire("remind")
    assert run.timers[-1].fire == 3
    last = run.fire("remind")
    assert not any(isinstance(e, TimerSet) for e in last.effects)  # 1 + repeat fires
    assert run.state is not None and [t.node_id for t in run.state.tasks.values()] == ["handle"]


@PERSIST
def test_auto_approve_decides_the_node_and_the_ticket_goes_on(persist: bool) -> None:
    run = Run(
        _handle_with({"id": "approve_late", "timer": {"after": "P2D", "action": "approve"}}),
        persist,
    )
    run.do(Start("alice"))
    task_id = run.task("handle")
    result = run.fire("approve_late")
    closed = [e for e in result.effects if isinstance(e, TaskClosed)]
    assert [(c.task_id, c.outcome, c.reason) for c in closed] == [
        (task_id, "cancelled", "timer_fired")
    ]
    assert result.state.status == "approved"


@PERSIST
def test_a_timer_whose_task_closed_is_stale(persist: bool) -> None:
    run = Run(
        {
            **_handle_with({"id": "approve_late", "timer": {"after": "P2D", "action": "approve"}}),
        },
        persist,
    )
    run.do(Start("alice"))
    run.do(CompleteTask(run.task("handle"), "bob", "approve"))
    assert run.state is not None and run.state.status == "approved"
    with pytest.raises(FlowdeskError) as caught:
        run.fire("approve_late")
    assert caught.value.code == "timer_stale"


def test_a_timer_loses_to_the_approval_that_came_first() -> None:
    """The race as the services see it: both read one state; the approval's write wins,
    the timer is re-run on the new state and is stale (and the reverse: the approval is
    refused because the task has closed)."""
    run = Run(
        _handle_with({"id": "approve_late", "timer": {"after": "P2D", "action": "approve"}}),
        False,
    )
    run.do(Start("alice"))
    read = run.state
    task_id = run.task("handle")
    timer = run.timers[-1]
    approved = step(run.spec, read, CompleteTask(task_id, "bob", "approve"), run.ctx)
    with pytest.raises(FlowdeskError) as caught:
        step(run.spec, approved.state, FireTimer(timer.timer_id, "approve_late", task_id), run.ctx)
    assert caught.value.code == "timer_stale"
    fired = step(run.spec, read, FireTimer(timer.timer_id, "approve_late", task_id), run.ctx)
    with pytest.raises(FlowdeskError) as refused:
        step(run.spec, fired.state, CompleteTask(task_id, "bob", "approve"), run.ctx)
    assert refused.value.status == 409


@PERSIST
def test_auto_reject_ends_the_ticket(persist: bool) -> None:
    run = Run(
        _handle_with({"id": "give_up", "timer": {"after": "P5D", "action": "reject"}}), persist
    )
    run.do(Start("alice"))
    assert run.fire("give_up").state.status == "rejected"


@PERSIST
def test_auto_return_sends_the_ticket_back_to_the_applicant(persist: bool) -> None:
    run = Run(_handle_with({"id": "back", "timer": {"after": "P5D", "action": "return"}}), persist)
    run.do(Start("alice"))
    result = run.fire("back")
    returned = [e for e in result.effects if isinstance(e, TaskClosed)]
    assert [(c.outcome, c.actor) for c in returned] == [("returned", None)]
    opened = [e for e in result.effects if isinstance(e, TaskOpened)]
    assert [(o.node_id, o.assignees) for o in opened] == [("start", ("alice",))]


@PERSIST
def test_escalate_adds_the_holders_manager_beside_them(persist: bool) -> None:
    run = Run(
        _handle_with(
            {
                "id": "escalate",
                "interrupting": False,
                "timer": {
                    "after": "PT2H",
                    "working": True,
                    "action": "escalate",
                    "to": {"kind": "previous_approver_manager"},
                },
            }
        ),
        persist,
    )
    run.do(Start("alice"))
    result = run.fire("escalate")
    (escalated,) = [e for e in result.effects if isinstance(e, TaskEscalated)]
    assert escalated.added == ("dave",)  # bob's manager
    task_id = run.task("handle")
    assert run.state is not None and run.state.tasks[task_id].assignees == ("bob", "dave")
    assert run.do(CompleteTask(task_id, "dave", "approve")).state.status == "approved"


@PERSIST
def test_auto_approve_while_added_signers_are_pending_reminds_them(persist: bool) -> None:
    """加签 before me: the signers decide first. A deciding timer does not skip them: it
    is held and reminds them; the node is decided by people as usual afterwards."""
    run = Run(
        _handle_with({"id": "approve_late", "timer": {"after": "P2D", "action": "approve"}}),
        persist,
    )
    run.do(Start("alice"))
    task_id = run.task("handle")
    run.do(AddSigners(task_id, "bob", ("carol",), "before"))
    result = run.fire("approve_late")
    (fired,) = [e for e in result.effects if isinstance(e, TimerFired)]
    assert fired.held and fired.notify == ("carol",)
    assert run.state is not None and run.state.status == "running"
    assert {t.node_id for t in run.state.tasks.values()} == {"handle"}
    assert run.state.signs  # the add-sign chain is intact


@PERSIST
def test_interrupting_timer_without_action_leaves_by_its_flow(persist: bool) -> None:
    process = _handle_with({"id": "late", "timer": {"after": "PT4H"}})
    process["nodes"].insert(
        -1, {"id": "deputy", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}}
    )
    process["flows"] += [{"from": "late", "to": "deputy"}, {"from": "deputy", "to": "end"}]
    run = Run(process, persist)
    run.do(Start("alice"))
    result = run.fire("late")
    assert [e.node_id for e in result.effects if isinstance(e, TaskOpened)] == ["deputy"]
    assert run.state is not None and [t.node_id for t in run.state.tasks.values()] == ["deputy"]


def _waiting(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "check", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": node["id"]},
            {"from": node["id"], "to": "check"},
            {"from": "check", "to": "end"},
        ],
    }


@PERSIST
def test_timer_catch_waits_then_goes_on(persist: bool) -> None:
    run = Run(
        _waiting({"id": "cool_off", "type": "timer_catch", "timer": {"after": "P2D"}}), persist
    )
    result = run.do(Start("alice"))
    assert result.state.status == "running" and not result.state.tasks
    assert [w.node_id for w in result.state.waits.values()] == ["cool_off"]
    fired = run.fire("cool_off")
    assert [e.node_id for e in fired.effects if isinstance(e, TaskOpened)] == ["check"]
    assert not fired.state.waits
    with pytest.raises(FlowdeskError) as caught:  # fired twice (a redelivery): stale
        run.fire("cool_off")
    assert caught.value.code == "timer_stale"


@PERSIST
def test_message_catch_correlates_by_a_form_field(persist: bool) -> None:
    run = Run(
        _waiting(
            {
                "id": "paid",
                "type": "message_catch",
                "message": {"name": "payment_received", "key": "order_no"},
            }
        ),
        persist,
    )
    result = run.do(Start("alice", {"order_no": "PO-7"}))
    (awaited,) = [e for e in result.effects if isinstance(e, MessageAwaited)]
    assert (awaited.name, awaited.key) == ("payment_received", "PO-7")
    with pytest.raises(FlowdeskError) as caught:
        run.do(ReceiveMessage("payment_received", "PO-8"))
    assert caught.value.status == 404
    got = run.do(ReceiveMessage("payment_received", "PO-7"))
    assert any(isinstance(e, MessageReceived) for e in got.effects)
    assert run.state is not None and [t.node_id for t in run.state.tasks.values()] == ["check"]


def test_a_message_key_that_is_empty_is_the_steps_error() -> None:
    run = Run(
        _waiting({"id": "paid", "type": "message_catch", "message": {"name": "p", "key": "no"}}),
        False,
    )
    with pytest.raises(FlowdeskError) as caught:
        run.do(Start("alice"))
    assert caught.value.code == "message_key_missing"


def test_cancel_drops_the_waits() -> None:
    run = Run(_waiting({"id": "cool_off", "type": "timer_catch", "timer": {"after": "P2D"}}), False)
    run.do(Start("alice"))
    result = run.do(CancelInstance("alice"))
    assert result.state.status == "cancelled" and not result.state.waits
    with pytest.raises(FlowdeskError):
        run.fire("cool_off")


def test_or_join_waits_for_a_token_at_a_timer() -> None:
    """An inclusive join does not fire while a token waits at a timer upstream of it."""
    process = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "inclusive_gateway"},
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "cool_off", "type": "timer_catch", "timer": {"after": "PT1H"}},
            {"id": "join", "type": "inclusive_gateway"},
            {"id": "sign", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "review"},
            {"from": "split", "to": "cool_off"},
            {"from": "review", "to": "join"},
            {"from": "cool_off", "to": "join"},
            {"from": "join", "to": "sign"},
            {"from": "sign", "to": "end"},
        ],
    }
    run = Run(process, True)
    run.do(Start("alice"))
    approved = run.do(CompleteTask(run.task("review"), "bob", "approve"))
    assert not [e for e in approved.effects if isinstance(e, TaskOpened)]  # join waits
    fired = run.fire("cool_off")
    assert [e.node_id for e in fired.effects if isinstance(e, TaskOpened)] == ["sign"]


@pytest.mark.parametrize(
    ("boundary", "code"),
    [
        (
            {"id": "b", "interrupting": False, "timer": {"after": "PT1H", "action": "approve"}},
            "timer_action_interrupts",
        ),
        ({"id": "b", "timer": {"after": "PT1H", "action": "remind"}}, "timer_action_keeps_task"),
        (
            {
                "id": "b",
                "timer": {"after": "PT1H", "action": "remind", "repeat": 1},
                "interrupting": True,
            },
            "timer_action_keeps_task",
        ),
        ({"id": "b", "timer": {"after": "1 hour", "action": "approve"}}, "duration_invalid"),
        (
            {"id": "b", "timer": {"after": "P1DT2H", "working": True, "action": "approve"}},
            "duration_mixed",
        ),
        (
            {"id": "b", "interrupting": False, "timer": {"after": "PT1H", "action": "escalate"}},
            "required",
        ),
        ({"id": "b", "timer": {"after": "PT1H"}}, "no_outgoing"),
        (
            {
                "id": "b",
                "timer": {"after": "PT1H", "at": "2027-01-01T00:00:00Z", "action": "approve"},
            },
            "timer_when",
        ),
    ],
)
def test_timer_definitions_are_checked(boundary: dict[str, Any], code: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(_handle_with(boundary))
    assert code in [e.code for e in caught.value.errors]


def test_a_boundary_timer_attaches_to_a_user_task_only() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(
            _handle_with({"id": "b", "timer": {"after": "PT1H", "action": "approve"}}, after="end")
        )
    assert "boundary_target" in [e.code for e in caught.value.errors]


def test_timers_round_trip_through_to_dict() -> None:
    process = _handle_with(
        {
            "id": "remind",
            "interrupting": False,
            "timer": {
                "after": "PT1H",
                "working": True,
                "action": "remind",
                "repeat": 2,
                "every": "PT30M",
            },
        },
        {
            "id": "escalate",
            "interrupting": False,
            "timer": {"after": "PT2H", "action": "escalate", "to": {"kind": "role", "role": "cro"}},
        },
    )
    spec = parse_process(process)
    assert parse_process(spec.to_dict()) == spec


def test_a_ticket_waiting_at_a_timer_is_not_migrated() -> None:
    from flowdesk.engines.process.repair import migration_problems

    run = Run(_waiting({"id": "cool_off", "type": "timer_catch", "timer": {"after": "P2D"}}), False)
    run.do(Start("alice"))
    problems = migration_problems(run.spec, run.spec, run.state, {"check": "check"})
    assert [p.code for p in problems] == ["token_waits"]


def _review_then_check(approval: dict[str, Any] | None = None) -> dict[str, Any]:
    """start -> review (bob, or a 会签 of amy, ben, cai) with a P1D auto-approve timer ->
    check (carol) -> end."""
    review: dict[str, Any] = {
        "id": "review",
        "type": "user_task",
        "assignee": {"kind": "user", "user": "bob"},
    }
    if approval is not None:
        review.update(assignee={"kind": "users", "users": ["amy", "ben", "cai"]}, approval=approval)
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            review,
            {
                "id": "approve_late",
                "type": "boundary_timer",
                "attached_to": "review",
                "timer": {"after": "P1D", "action": "approve"},
            },
            {"id": "check", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "review"},
            {"from": "review", "to": "check"},
            {"from": "check", "to": "end"},
        ],
    }


@PERSIST
def test_edge_case_34_a_return_gives_the_reopened_task_a_fresh_timer(persist: bool) -> None:
    """APPROVALS.md edge case 34 (yudao #1018): review has a 24 h auto-approve timer;
    check returns the ticket to review: the new task gets a fresh P1D timer of its own
    node instance, and the first task's timer is stale."""
    run = Run(_review_then_check(), persist)
    run.do(Start("alice"))
    first = run.timers[-1]
    run.do(CompleteTask(run.task("review"), "bob", "approve"))
    result = run.do(ReturnTask(run.task("check"), "carol", "review", "金额有误"))
    (fresh,) = [e for e in result.effects if isinstance(e, TimerSet)]
    reopened = run.task("review")
    assert (fresh.node_id, fresh.delay, fresh.fire) == ("approve_late", "P1D", 1)
    assert fresh.activation_id == reopened != first.activation_id
    assert fresh.timer_id != first.timer_id
    with pytest.raises(FlowdeskError) as stale:
        run.fire("approve_late", last=False)
    assert stale.value.code == "timer_stale"
    fired = run.fire("approve_late")
    closed = [e for e in fired.effects if isinstance(e, TaskClosed)]
    assert [(c.task_id, c.outcome, c.reason) for c in closed] == [
        (reopened, "cancelled", "timer_fired")
    ]
    assert [t.node_id for t in fired.state.tasks.values()] == ["check"]


@PERSIST
def test_edge_case_35_a_timeout_on_a_countersign_approves_only_that_task(persist: bool) -> None:
    """APPROVALS.md edge case 35 (ADR 0041): in a 会签 of amy, ben and cai the
    auto-approve timer runs per approver's task. amy approves; ben's timer fires: only
    ben's task closes approved by nobody (reason timer_fired) and counts, and cai still
    decides. When cai approves the node is decided and the ticket goes on; cai's and
    amy's timers are stale then."""
    run = Run(_review_then_check({"mode": "all"}), persist)
    run.do(Start("alice"))
    assert run.state is not None
    tasks = {t.assignees[0]: t.task_id for t in run.state.tasks.values()}
    assert sorted(t.activation_id for t in run.timers) == sorted(tasks.values())
    run.do(CompleteTask(tasks["amy"], "amy", "approve"))
    (ben_timer,) = [t for t in run.timers if t.activation_id == tasks["ben"]]
    fired = run.do(FireTimer(ben_timer.timer_id, "approve_late", tasks["ben"], 1))
    closed = [
        (c.task_id, c.outcome, c.actor, c.reason)
        for c in fired.effects
        if isinstance(c, TaskClosed)
    ]
    assert closed == [(tasks["ben"], "approved", None, "timer_fired")]
    assert [t.assignees for t in fired.state.tasks.values()] == [("cai",)]
    done = run.do(CompleteTask(tasks["cai"], "cai", "approve"))
    assert [t.node_id for t in done.state.tasks.values()] == ["check"]
    for person in ("amy", "cai"):
        (timer,) = [t for t in run.timers if t.activation_id == tasks[person]]
        with pytest.raises(FlowdeskError) as stale:
            run.do(FireTimer(timer.timer_id, "approve_late", tasks[person], 1))
        assert stale.value.code == "timer_stale"


@PERSIST
def test_edge_case_35_the_last_timeout_decides_the_countersign(persist: bool) -> None:
    """When every approver's task times out, the last timeout decides the node."""
    run = Run(_review_then_check({"mode": "all"}), persist)
    run.do(Start("alice"))
    result = None
    for timer in list(run.timers):
        result = run.do(FireTimer(timer.timer_id, "approve_late", timer.activation_id, 1))
    assert result is not None
    decided = [e for e in result.effects if isinstance(e, NodeDecided)]
    assert [(d.outcome, d.approved) for d in decided] == [("approved", 3)]
    assert [t.node_id for t in result.state.tasks.values()] == ["check"]
