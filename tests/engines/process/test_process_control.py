"""Inclusive gateways, sub-processes, terminate and error ends (ADR 0022): what the
golden scenarios (scenarios/control/) do not show on their own — the definition checks,
the soundness refusals, the precomputed reachability, and no tokens left behind."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from process_fakes import FakeContext

from flowdesk.engines.process import (
    CompleteTask,
    InstanceState,
    RetractDecision,
    ReturnTask,
    Start,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

PROCESSES = Path(__file__).parent / "scenarios" / "processes"


def _process(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROCESSES / f"{name}.yaml").read_text("utf-8"))
    return data


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    return [(error.path, error.code) for error in caught.value.errors]


def _task(state: InstanceState, node_id: str) -> str:
    return next(t.task_id for t in state.tasks.values() if t.node_id == node_id)


def _approve(
    spec: Any, state: InstanceState, node_id: str, actor: str, ctx: FakeContext, **values: object
) -> InstanceState:
    command = CompleteTask(_task(state, node_id), actor, "approve", "", values)
    return step(spec, state, command, ctx).state


# --- the definition round-trips and its index ------------------------------------------


@pytest.mark.parametrize("name", ["inclusive", "checks"])
def test_yaml_round_trip(name: str) -> None:
    spec = parse_process(_process(name))
    assert parse_process(spec.to_dict()) == spec


def test_or_join_reachability_is_computed_once_per_spec() -> None:
    spec = parse_process(_process("inclusive"))
    upstream = spec.index.control.or_joins["merge"]
    assert {"start", "route", "legal_review", "compliance_review", "travel_check"} <= upstream
    assert "signoff" not in upstream and "merge" not in upstream
    assert "route" not in spec.index.control.or_joins  # a split only


def test_sub_process_scopes_are_indexed() -> None:
    spec = parse_process(_process("checks"))
    control = spec.index.control
    assert control.starts == {"checks": "c_start"}
    assert control.inside["checks"] >= {"c_start", "kyc", "aml", "missing", "c_end"}
    assert "rework" not in control.inside["checks"]
    assert control.catchers == {"missing": "on_missing"}
    assert spec.start.id == "start"  # the sub-process's own start is not the process's


# --- definitions refused, each problem at its element ----------------------------------


def test_control_definition_problems_name_each_element() -> None:
    data = _process("checks")
    nodes = data["nodes"]
    del nodes[8]["error_code"]  # missing: an error end throws a code
    nodes[11]["interrupting"] = False  # on_missing: error boundaries always interrupt
    nodes[12]["error_code"] = "X"  # rework: not an event
    nodes[14]["attached_to"] = "checks"  # signoff: not a boundary event
    found = problems(data)
    assert ("process.nodes[8].error_code", "required") in found
    assert ("process.nodes[11].interrupting", "error_boundary_interrupts") in found
    assert ("process.nodes[12].error_code", "error_code_not_allowed") in found
    assert ("process.nodes[14].attached_to", "attached_to_not_allowed") in found


def test_scopes_and_boundaries_are_checked() -> None:
    data = _process("checks")
    data["nodes"][11]["attached_to"] = "intake"  # a user task: nothing is thrown in it
    data["nodes"][5]["scope"] = "nowhere"
    data["flows"].append({"from": "intake", "to": "aml"})  # into the sub-process
    data["flows"].append({"from": "signoff", "to": "on_missing"})
    found = problems(data)
    assert ("process.nodes[11].attached_to", "boundary_target") in found
    assert ("process.nodes[5].scope", "unknown_scope") in found
    assert ("process.flows[14]", "flow_crosses_scope") in found
    assert ("process.flows[15].to", "boundary_has_incoming") in found


def test_a_sub_process_needs_its_own_start_and_end() -> None:
    data = _process("checks")
    data["nodes"] = [n for n in data["nodes"] if n["id"] != "c_start"]
    data["flows"] = [f for f in data["flows"] if f["from"] != "c_start"]
    found = problems(data)
    assert ("process.nodes[2]", "sub_process_start") in found


def test_a_boundary_nothing_throws_to_is_unreachable() -> None:
    data = _process("checks")
    data["nodes"][11]["error_code"] = "OTHER"
    found = problems(data)
    assert ("process.nodes[11]", "unreachable") in found


# --- unsound graphs refused at publish ---------------------------------------------------


def _two_branches(split: str, join: str, *, default: bool = False) -> dict[str, Any]:
    exits: list[dict[str, Any]] = [
        {"from": "split", "to": "a", "condition": "amount > 50000"},
        {"from": "split", "to": "b", "condition": "category == 'travel'"},
    ]
    if split == "parallel_gateway":
        exits = [{"from": "split", "to": "a"}, {"from": "split", "to": "b"}]
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": split},
            {"id": "a", "type": "user_task", "assignee": {"kind": "user", "user": "ann"}},
            {"id": "b", "type": "user_task", "assignee": {"kind": "user", "user": "ben"}},
            {"id": "join", "type": join},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            *exits,
            {"from": "a", "to": "join"},
            {"from": "b", "to": "join"},
            {"from": "join", "to": "end"},
        ],
    }


def test_an_inclusive_split_into_a_parallel_join_is_refused() -> None:
    # when only one condition holds, the parallel join waits forever for the other
    assert ("process.nodes[4]", "join_unbalanced") in problems(
        _two_branches("inclusive_gateway", "parallel_gateway")
    )


def test_an_inclusive_split_merged_without_a_join_is_refused() -> None:
    data = _two_branches("inclusive_gateway", "exclusive_gateway")
    data["nodes"][4] = {
        "id": "join",
        "type": "user_task",
        "assignee": {"kind": "user", "user": "c"},
    }
    assert ("process.nodes[4]", "parallel_tokens_merge") in problems(data)


def test_an_inclusive_join_after_a_parallel_split_is_sound() -> None:
    parse_process(_two_branches("parallel_gateway", "inclusive_gateway"))
    parse_process(_two_branches("inclusive_gateway", "inclusive_gateway"))


def test_a_sub_process_entered_by_two_parallel_tokens_is_refused() -> None:
    data = _process("checks")
    data["nodes"].insert(1, {"id": "fork", "type": "parallel_gateway"})
    start = next(i for i, f in enumerate(data["flows"]) if f["from"] == "start")
    data["flows"][start] = {"from": "start", "to": "fork"}
    data["flows"].append({"from": "fork", "to": "intake"})
    data["flows"].append({"from": "fork", "to": "checks"})
    found = problems(data)
    assert ("process.nodes[3]", "parallel_tokens_merge") in found


def test_conditions_and_defaults_are_allowed_on_inclusive_exits_only() -> None:
    data = _two_branches("parallel_gateway", "inclusive_gateway")
    data["flows"][1]["condition"] = "amount > 50000"
    assert ("process.flows[1].condition", "condition_not_allowed") in problems(data)


# --- no tokens left behind --------------------------------------------------------------


def test_a_return_out_of_an_inclusive_branch_clears_the_or_join() -> None:
    spec = parse_process(_process("inclusive"))
    ctx = FakeContext()
    values = {"amount": 60000, "category": "travel"}
    state = step(spec, None, Start("alice", values), ctx).state
    state = _approve(spec, state, "travel_check", "tina", ctx)
    assert state.joins == {"merge": frozenset({"travel_check->merge"})}
    returned = step(
        spec, state, ReturnTask(_task(state, "legal_review"), "carol", None, "", None, values), ctx
    ).state
    assert returned.joins == {}
    assert [t.node_id for t in returned.tasks.values()] == ["start"]
    assert [a.node_id for a in returned.activations.values()] == ["start"]


def test_an_approval_that_fired_an_or_join_cannot_be_withdrawn() -> None:
    spec = parse_process(_process("inclusive"))
    ctx = FakeContext()
    state = step(spec, None, Start("alice", {"amount": 10, "category": "travel"}), ctx).state
    decided = _task(state, "travel_check")
    state = _approve(spec, state, "travel_check", "tina", ctx)
    assert state.decisions["tina"].blocked == "join"
    with pytest.raises(FlowdeskError) as caught:
        step(spec, state, RetractDecision(decided, "tina"), ctx)
    assert caught.value.code == "decision_completed_join"


def test_an_approval_whose_error_swept_a_sub_process_cannot_be_withdrawn() -> None:
    spec = parse_process(_process("checks"))
    ctx = FakeContext()
    state = step(spec, None, Start("alice", {"docs_complete": False}), ctx).state
    state = _approve(spec, state, "intake", "bob", ctx, docs_complete=False)
    decided = _task(state, "kyc")
    state = _approve(spec, state, "kyc", "rita", ctx, docs_complete=False)
    assert [t.node_id for t in state.tasks.values()] == ["rework"]
    assert state.joins == {}
    with pytest.raises(FlowdeskError) as caught:
        step(spec, state, RetractDecision(decided, "rita"), ctx)
    assert caught.value.code == "decision_swept_steps"


def test_states_inside_a_sub_process_survive_save_and_restore() -> None:
    spec = parse_process(copy.deepcopy(_process("checks")))
    ctx = FakeContext()
    state = step(spec, None, Start("alice", {"docs_complete": True}), ctx).state
    state = _approve(spec, state, "intake", "bob", ctx)
    state = _approve(spec, state, "aml", "cora", ctx)
    restored = load_state(dump_state(state))
    assert restored == state
    assert restored.joins == {"c_join": frozenset({"aml->c_join"})}


def test_a_return_out_of_a_sub_process_sweeps_its_other_tokens() -> None:
    spec = parse_process(_process("checks"))
    ctx = FakeContext()
    values = {"docs_complete": True}
    state = step(spec, None, Start("alice", values), ctx).state
    state = _approve(spec, state, "intake", "bob", ctx, **values)
    state = _approve(spec, state, "aml", "cora", ctx, **values)
    command = ReturnTask(_task(state, "kyc"), "rita", "intake", "", None, values)
    state = step(spec, state, command, ctx).state
    assert [t.node_id for t in state.tasks.values()] == ["intake"]
    assert state.joins == {}
    state = _approve(spec, state, "intake", "bob", ctx, **values)
    assert [t.node_id for t in state.tasks.values()] == ["kyc", "aml"]
