"""Boundary messages and event-based gateways in the pure engine (ADR 0035): golden
scenarios written as code, each run straight and with the state saved to JSON and
loaded back between steps, as the services do between requests."""

from __future__ import annotations

from typing import Any

import pytest
from test_process_timers import Run as TimerRun

from flowdesk.engines.process import (
    CompleteTask,
    MessageAwaited,
    MessageReceived,
    ReceiveMessage,
    ReturnTask,
    Start,
    TaskClosed,
    WaitCancelled,
    parse_process,
)
from flowdesk.engines.process.runtime import StepResult
from flowdesk.engines.process.soundness import check_soundness
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

PERSIST = pytest.mark.parametrize("persist", [False, True], ids=["straight", "save_restore"])
BOB = {"kind": "user", "user": "bob"}
CAROL = {"kind": "user", "user": "carol"}


class Run(TimerRun):
    """One instance stepped through commands (test_process_timers.Run), which also sends
    the messages its steps awaited."""

    def __init__(self, process: dict[str, Any], persist: bool) -> None:
        super().__init__(process, persist)
        self.awaited: list[MessageAwaited] = []

    def do(self, command: Any) -> StepResult:
        result = super().do(command)
        self.awaited.extend(e for e in result.effects if isinstance(e, MessageAwaited))
        return result

    def message(self, node_id: str, **values: object) -> StepResult:
        """The message the boundary or catch event `node_id` listens for, as the services
        send it for the row its MessageAwaited wrote."""
        awaited = [a for a in self.awaited if a.node_id == node_id][-1]
        return self.do(
            ReceiveMessage(
                awaited.name,
                awaited.key,
                {"order_no": "PO-7", **values},
                awaited.wait_id,
                awaited.activation_id,
                node_id if awaited.activation_id else "",
            )
        )

    def open_nodes(self) -> list[str]:
        assert self.state is not None
        return [t.node_id for t in self.state.tasks.values()]


def _with_boundary(interrupting: bool) -> dict[str, Any]:
    """start -> handle (bob) -> end; a boundary message `cancelled` on handle leads to
    `refund` (carol) -> end."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "handle", "type": "user_task", "assignee": BOB},
            {
                "id": "cancelled",
                "type": "boundary_message",
                "attached_to": "handle",
                "interrupting": interrupting,
                "message": {"name": "order_cancelled", "key": "order_no"},
            },
            {"id": "refund", "type": "user_task", "assignee": CAROL},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "handle"},
            {"from": "handle", "to": "end"},
            {"from": "cancelled", "to": "refund"},
            {"from": "refund", "to": "end"},
        ],
    }


@PERSIST
def test_an_interrupting_boundary_message_closes_the_task_and_takes_its_flow(
    persist: bool,
) -> None:
    run = Run(_with_boundary(True), persist)
    started = run.do(Start("alice", {"order_no": "PO-7"}))
    (awaited,) = [e for e in started.effects if isinstance(e, MessageAwaited)]
    assert (awaited.node_id, awaited.key, awaited.activation_id) == (
        "cancelled",
        "PO-7",
        run.task("handle"),
    )
    assert run.state is not None and not run.state.waits  # the node instance listens
    handle = run.task("handle")
    got = run.message("cancelled")
    assert next(e for e in got.effects if isinstance(e, MessageReceived)).node_id == "cancelled"
    (closed,) = [e for e in got.effects if isinstance(e, TaskClosed)]
    assert (closed.task_id, closed.outcome, closed.reason) == (
        handle,
        "cancelled",
        "message_received",
    )
    assert run.open_nodes() == ["refund"]
    assert run.state is not None and next(iter(run.state.activations.values())).node_id == "refund"
    with pytest.raises(FlowdeskError) as caught:  # bob's task is gone: no orphan
        run.do(CompleteTask(handle, "bob", "approve"))
    assert caught.value.code == "task_not_open"
    with pytest.raises(FlowdeskError) as again:  # the node instance is gone: 404
        run.message("cancelled")
    assert again.value.code == "no_waiting_ticket"
    done = run.do(CompleteTask(run.task("refund"), "carol", "approve"))
    assert done.state.status == "approved"


@PERSIST
def test_a_non_interrupting_boundary_message_starts_a_parallel_path(persist: bool) -> None:
    run = Run(_with_boundary(False), persist)
    run.do(Start("alice", {"order_no": "PO-7"}))
    got = run.message("cancelled")
    assert not [e for e in got.effects if isinstance(e, TaskClosed)]
    assert run.open_nodes() == ["handle", "refund"]
    run.do(CompleteTask(run.task("handle"), "bob", "approve"))
    assert run.state is not None and run.state.status == "running"
    done = run.do(CompleteTask(run.task("refund"), "carol", "approve"))
    assert done.state.status == "approved"


def test_a_boundary_message_after_the_task_was_decided_finds_no_ticket() -> None:
    process = _with_boundary(True)
    process["nodes"].insert(3, {"id": "check", "type": "user_task", "assignee": CAROL})
    process["flows"][1] = {"from": "handle", "to": "check"}
    process["flows"].append({"from": "check", "to": "end"})
    run = Run(process, False)
    run.do(Start("alice", {"order_no": "PO-7"}))
    run.do(CompleteTask(run.task("handle"), "bob", "approve"))
    with pytest.raises(FlowdeskError) as caught:
        run.message("cancelled")
    assert caught.value.status == 404
    assert run.open_nodes() == ["check"]


def test_a_return_to_the_task_listens_again_with_the_values_then() -> None:
    process = _with_boundary(True)
    process["nodes"].insert(3, {"id": "check", "type": "user_task", "assignee": CAROL})
    process["flows"][1] = {"from": "handle", "to": "check"}
    process["flows"].append({"from": "check", "to": "end"})
    run = Run(process, False)
    run.do(Start("alice", {"order_no": "PO-7"}))
    run.do(CompleteTask(run.task("handle"), "bob", "approve", values={"order_no": "PO-7"}))
    back = run.do(ReturnTask(run.task("check"), "carol", "handle", values={"order_no": "PO-9"}))
    (awaited,) = [e for e in back.effects if isinstance(e, MessageAwaited)]
    assert awaited.key == "PO-9" and awaited.activation_id == run.task("handle")
    run.message("cancelled", order_no="PO-9")
    assert run.open_nodes() == ["refund"]


def test_a_boundary_message_needs_its_key_when_the_task_starts() -> None:
    run = Run(_with_boundary(True), False)
    with pytest.raises(FlowdeskError) as caught:
        run.do(Start("alice"))
    assert caught.value.code == "message_key_missing"


def _race() -> dict[str, Any]:
    """start -> wait (event-based gateway) -> paid (message) -> ship (bob) -> end
    | expired (timer, P3D) -> chase (carol) -> end"""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "event_gateway"},
            {
                "id": "paid",
                "type": "message_catch",
                "message": {"name": "payment_received", "key": "order_no"},
            },
            {"id": "expired", "type": "timer_catch", "timer": {"after": "P3D"}},
            {"id": "ship", "type": "user_task", "assignee": BOB},
            {"id": "chase", "type": "user_task", "assignee": CAROL},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "wait"},
            {"from": "wait", "to": "paid"},
            {"from": "wait", "to": "expired"},
            {"from": "paid", "to": "ship"},
            {"from": "expired", "to": "chase"},
            {"from": "ship", "to": "end"},
            {"from": "chase", "to": "end"},
        ],
    }


@PERSIST
def test_after_an_event_gateway_the_message_wins_and_the_timer_is_cancelled(
    persist: bool,
) -> None:
    run = Run(_race(), persist)
    started = run.do(Start("alice", {"order_no": "PO-7"}))
    assert sorted(w.node_id for w in started.state.waits.values()) == ["expired", "paid"]
    assert len({w.group for w in started.state.waits.values()}) == 1
    timer = run.timers[-1]
    got = run.message("paid")
    (cancelled,) = [e for e in got.effects if isinstance(e, WaitCancelled)]
    assert (cancelled.wait_id, cancelled.node_id, cancelled.by) == (
        timer.timer_id,
        "expired",
        "paid",
    )
    assert run.state is not None and not run.state.waits
    assert run.open_nodes() == ["ship"]
    with pytest.raises(FlowdeskError) as caught:  # the cancelled timer's row fires late
        run.fire("expired")
    assert caught.value.code == "timer_stale"


@PERSIST
def test_after_an_event_gateway_the_timer_wins_and_the_message_finds_nothing(
    persist: bool,
) -> None:
    run = Run(_race(), persist)
    run.do(Start("alice", {"order_no": "PO-7"}))
    fired = run.fire("expired")
    assert [e.node_id for e in fired.effects if isinstance(e, WaitCancelled)] == ["paid"]
    assert run.open_nodes() == ["chase"]
    with pytest.raises(FlowdeskError) as caught:
        run.message("paid")
    assert caught.value.code == "no_waiting_ticket"
    assert run.do(CompleteTask(run.task("chase"), "carol", "approve")).state.status == "approved"


def test_two_rounds_of_an_event_gateway_do_not_cancel_each_other() -> None:
    """A loop back to the gateway starts a new group; only its own siblings go."""
    process = _race()
    process["nodes"].insert(6, {"id": "again", "type": "exclusive_gateway"})
    process["flows"][4] = {"from": "expired", "to": "chase"}
    process["flows"][6] = {"from": "chase", "to": "again"}
    process["flows"] += [
        {"from": "again", "to": "wait", "condition": "docs_complete == false"},
        {"from": "again", "to": "end", "default": True},
    ]
    run = Run(process, False)
    run.do(Start("alice", {"order_no": "PO-7"}))
    run.fire("expired")
    again = {"order_no": "PO-7", "docs_complete": False}
    run.do(CompleteTask(run.task("chase"), "carol", "approve", values=again))
    assert run.state is not None
    groups = {w.group for w in run.state.waits.values()}
    assert len(run.state.waits) == 2 and len(groups) == 1
    run.message("paid")
    assert run.open_nodes() == ["ship"] and not run.state.waits


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda p: p["flows"].remove({"from": "wait", "to": "expired"}), "event_gateway_exits"),
        (
            lambda p: p["nodes"].__setitem__(
                3, {"id": "expired", "type": "user_task", "assignee": CAROL}
            ),
            "event_gateway_target",
        ),
        (
            lambda p: p["flows"].append({"from": "ship", "to": "expired"}),
            "event_gateway_target_shared",
        ),
    ],
    ids=["one_exit", "not_a_catch_event", "shared_target"],
)
def test_event_gateway_definitions_are_checked(change: Any, code: str) -> None:
    process = _race()
    change(process)
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(process)
    assert code in {d.code for d in caught.value.errors}


def test_a_boundary_message_attaches_to_a_user_task_only() -> None:
    process = _race()
    process["nodes"].append(
        {
            "id": "late_payment",
            "type": "boundary_message",
            "attached_to": "paid",
            "message": {"name": "x", "key": "order_no"},
        }
    )
    process["flows"].append({"from": "late_payment", "to": "end"})
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(process)
    assert "boundary_target" in {d.code for d in caught.value.errors}


def test_the_new_elements_round_trip_through_to_dict_and_are_sound() -> None:
    for process in (_race(), _with_boundary(True), _with_boundary(False)):
        spec = parse_process(process)
        assert parse_process(spec.to_dict()) == spec
        assert check_soundness(spec) == []


def test_an_event_gateway_into_a_parallel_join_is_refused_as_unsound() -> None:
    """Only one exit of an event-based gateway is taken: a parallel join after two of
    them would wait forever, and publishing says so."""
    process = _race()
    process["nodes"].insert(6, {"id": "both", "type": "parallel_gateway"})
    process["flows"][5] = {"from": "ship", "to": "both"}
    process["flows"][6] = {"from": "chase", "to": "both"}
    process["flows"].append({"from": "both", "to": "end"})
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(process)
    assert "join_unbalanced" in {d.code for d in caught.value.errors}
