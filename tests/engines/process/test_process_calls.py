"""Call activities in the pure engine (ADR 0033): the wait a token keeps while the child
runs, what ends it, and what the definition may say."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from process_fakes import FakeContext

from flowdesk.engines.process import (
    CancelInstance,
    ChildCalled,
    CompleteTask,
    FinishCall,
    InstanceState,
    Start,
    TaskOpened,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

_CALL = {
    "id": "check",
    "type": "call_activity",
    "call": {"app": "credit_check", "inputs": {"amount": "amount"}, "outputs": {"rating": "r"}},
}


def _line(*middle: dict[str, Any]) -> dict[str, Any]:
    nodes = [{"id": "start", "type": "start"}, *middle, {"id": "end", "type": "end"}]
    ids = [n["id"] for n in nodes]
    return {"nodes": nodes, "flows": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]}


def _start(process: dict[str, Any], values: dict[str, object] | None = None) -> Any:
    spec = parse_process(process)
    ctx = FakeContext()
    return spec, ctx, step(spec, None, Start("alice", values or {"amount": 7}), ctx)


def _wait(state: InstanceState, node_id: str) -> str:
    (wait_id,) = [w.wait_id for w in state.waits.values() if w.node_id == node_id]
    return wait_id


def test_a_call_waits_and_survives_a_save() -> None:
    spec, ctx, started = _start(_line(_CALL))
    state = started.state
    assert state.status == "running" and not state.tasks
    called = [e for e in started.effects if isinstance(e, ChildCalled)]
    assert [(c.app, dict(c.values)) for c in called] == [("credit_check", {"amount": 7})]
    restored = load_state(json.loads(json.dumps(dump_state(state))))
    assert restored == state
    done = step(spec, restored, FinishCall(_wait(restored, "check"), "approved"), ctx)
    assert done.state.status == "approved"


def test_the_same_child_ending_twice_is_stale() -> None:
    spec, ctx, started = _start(_line(_CALL))
    wait_id = _wait(started.state, "check")
    done = step(spec, started.state, FinishCall(wait_id, "approved"), ctx)
    with pytest.raises(FlowdeskError) as stale:
        step(spec, done.state, FinishCall(wait_id, "approved"), ctx)
    assert stale.value.code == "call_stale"


def test_cancelling_the_parent_drops_the_call_wait() -> None:
    spec, ctx, started = _start(_line(_CALL))
    wait_id = _wait(started.state, "check")
    cancelled = step(spec, started.state, CancelInstance("alice"), ctx)
    assert cancelled.state.status == "cancelled" and not cancelled.state.waits
    with pytest.raises(FlowdeskError) as stale:
        step(spec, cancelled.state, FinishCall(wait_id, "approved"), ctx)
    assert stale.value.code == "call_stale"


def test_a_rejected_child_without_a_boundary_rejects_the_parent() -> None:
    spec, ctx, started = _start(_line(_CALL))
    ended = step(spec, started.state, FinishCall(_wait(started.state, "check"), "rejected"), ctx)
    assert ended.state.status == "rejected"


def test_an_or_join_waits_for_a_running_child() -> None:
    process = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "inclusive_gateway"},
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            _CALL,
            {"id": "join", "type": "inclusive_gateway"},
            {"id": "sign", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "review"},
            {"from": "split", "to": "check"},
            {"from": "review", "to": "join"},
            {"from": "check", "to": "join"},
            {"from": "join", "to": "sign"},
            {"from": "sign", "to": "end"},
        ],
    }
    spec, ctx, started = _start(process)
    (review,) = started.state.tasks
    approved = step(spec, started.state, CompleteTask(review, "bob", "approve"), ctx)
    assert not [e for e in approved.effects if isinstance(e, TaskOpened)]  # the join waits
    resumed = step(
        spec, approved.state, FinishCall(_wait(approved.state, "check"), "approved"), ctx
    )
    assert [e.node_id for e in resumed.effects if isinstance(e, TaskOpened)] == ["sign"]


def test_the_call_round_trips_through_to_dict() -> None:
    spec = parse_process(_line(_CALL))
    assert parse_process(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("node", "code"),
    [
        ({"id": "check", "type": "call_activity"}, "required"),
        ({"id": "check", "type": "call_activity", "call": {"app": "Bad Key"}}, "invalid_app_key"),
        (
            {"id": "check", "type": "call_activity", "call": {"app": "a", "version": "v3"}},
            "invalid_version_policy",
        ),
        (
            {"id": "check", "type": "call_activity", "call": {"app": "a", "inputs": {"x": 1}}},
            "invalid_mapping",
        ),
        (
            {
                "id": "check",
                "type": "user_task",
                "assignee": {"kind": "user", "user": "bob"},
                "call": {"app": "a"},
            },
            "call_not_allowed",
        ),
    ],
)
def test_call_definitions_are_checked(node: dict[str, Any], code: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(_line(node))
    assert code in [e.code for e in caught.value.errors]


def test_a_terminate_end_sweeps_the_call_wait() -> None:
    """A branch ending at a terminate end ends the ticket; the call wait of the other
    branch goes with it (the services then cancel its child)."""
    process = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel_gateway"},
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "stop", "type": "terminate_end"},
            _CALL,
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "review"},
            {"from": "split", "to": "check"},
            {"from": "review", "to": "stop"},
            {"from": "check", "to": "end"},
        ],
    }
    spec, ctx, started = _start(process)
    assert len(started.state.waits) == 1
    (review,) = started.state.tasks
    ended = step(spec, started.state, CompleteTask(review, "bob", "approve"), ctx)
    assert ended.state.status == "approved" and not ended.state.waits


def _each(order: str = "parallel") -> dict[str, Any]:
    """A multi-instance call (ADR 0035): a credit check per guarantor, then sign (bob)."""
    return _line(
        {
            "id": "check",
            "type": "call_activity",
            "call": {
                "app": "credit_check",
                "inputs": {"amount": "amount"},
                "each": "guarantors",
                "as": "guarantor",
                "order": order,
            },
        },
        {"id": "sign", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
    )


def _saved(state: InstanceState) -> InstanceState:
    restored = load_state(json.loads(json.dumps(dump_state(state))))
    assert restored == state
    return restored


def _children(effects: Any) -> list[tuple[str, str]]:
    return [(c.item, str(c.values["guarantor"])) for c in effects if isinstance(c, ChildCalled)]


def test_a_parallel_multi_instance_call_files_a_child_per_item_and_waits_for_all() -> None:
    values = {"amount": 7, "guarantors": ["li.na", "wang.wei", "li.na"]}
    spec, ctx, started = _start(_each(), values)
    assert _children(started.effects) == [("li.na", "li.na"), ("wang.wei", "wang.wei")]
    state = _saved(started.state)
    first, second = list(state.waits)
    one = step(spec, state, FinishCall(first, "approved", values), ctx)
    assert not [e for e in one.effects if isinstance(e, TaskOpened)]
    assert list(one.state.waits) == [second]
    both = step(spec, _saved(one.state), FinishCall(second, "approved", values), ctx)
    assert [e.node_id for e in both.effects if isinstance(e, TaskOpened)] == ["sign"]
    assert not both.state.waits


def test_a_sequential_multi_instance_call_files_the_next_child_when_one_is_approved() -> None:
    values = {"amount": 7, "guarantors": "li.na, wang.wei"}  # a users field's text
    spec, ctx, started = _start(_each("sequential"), values)
    assert _children(started.effects) == [("li.na", "li.na")]
    state = _saved(started.state)
    (first,) = state.waits
    nxt = step(spec, state, FinishCall(first, "approved", values), ctx)
    assert _children(nxt.effects) == [("wang.wei", "wang.wei")]
    (second,) = nxt.state.waits
    done = step(spec, _saved(nxt.state), FinishCall(second, "approved", values), ctx)
    assert [e.node_id for e in done.effects if isinstance(e, TaskOpened)] == ["sign"]


def test_one_rejected_child_ends_the_parent_and_its_other_children_are_not_awaited() -> None:
    values = {"amount": 7, "guarantors": ["li.na", "wang.wei"]}
    spec, ctx, started = _start(_each(), values)
    first, _second = list(started.state.waits)
    ended = step(spec, started.state, FinishCall(first, "rejected", values), ctx)
    assert ended.state.status == "rejected" and not ended.state.waits


def test_no_item_no_child_the_token_goes_straight_on() -> None:
    _spec, _ctx, started = _start(_each(), {"amount": 7, "guarantors": []})
    assert not _children(started.effects)
    assert [t.node_id for t in started.state.tasks.values()] == ["sign"]


def test_a_multi_instance_call_has_no_outputs_and_names_both_fields() -> None:
    process = _each()
    process["nodes"][1]["call"]["outputs"] = {"rating": "r"}
    process["nodes"][1]["call"].pop("as")
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(process)
    assert {"outputs_with_each", "invalid_mapping"} <= {e.code for e in caught.value.errors}
    spec = parse_process(_each("sequential"))
    assert parse_process(spec.to_dict()) == spec
