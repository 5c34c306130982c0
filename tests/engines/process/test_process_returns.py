"""退回 (return) and resubmission beyond the golden scenarios (scenarios/returns/): the
refusals, the approvers resolved again on re-entry, and a property test driving random
approvals, rejections and returns that checks the state's invariants after every step."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from process_fakes import FakeContext

from flowdesk.engines.process import (
    AssigneeRule,
    CompleteTask,
    InstanceState,
    ProcessSpec,
    Resubmit,
    ReturnTask,
    Start,
    StateInvalid,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.engines.process.soundness import can_finish
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

SCENARIOS = Path(__file__).parent / "scenarios"
LOAN = parse_process(yaml.safe_load((SCENARIOS / "processes" / "loan.yaml").read_text("utf-8")))
LARGE = {"amount": 120000, "docs_complete": True}


def _scenario_spec(name: str) -> ProcessSpec:
    scenario = yaml.safe_load((SCENARIOS / "returns" / f"{name}.yaml").read_text("utf-8"))
    return parse_process(scenario["process"])


def _task(state: InstanceState, node_id: str, actor: str | None = None) -> str:
    for task in state.tasks.values():
        if task.node_id == node_id and (actor is None or actor in task.assignees):
            return task.task_id
    raise AssertionError(f"no open task at {node_id}")


def _at_committee(ctx: FakeContext) -> InstanceState:
    state = step(LOAN, None, Start("alice", LARGE), ctx).state
    for node, who in (("legal_review", "carol"), ("finance_review", "frank")):
        state = step(LOAN, state, CompleteTask(_task(state, node), who, "approve"), ctx).state
    return state


def test_a_return_from_after_a_join_into_one_branch_is_refused() -> None:
    """Committee → legal review would leave finance's branch with no token for the join."""
    ctx = FakeContext()
    state = _at_committee(ctx)
    before = dump_state(state)
    command = ReturnTask(_task(state, "committee"), "chen", "legal_review", values=LARGE)
    with pytest.raises(FlowdeskError) as caught:
        step(LOAN, state, command, ctx)
    assert (caught.value.status, caught.value.code) == (409, "return_strands_branch")
    assert dump_state(state) == before
    # the applicant, before the split, is a target that leaves nothing behind
    returned = step(LOAN, state, ReturnTask(_task(state, "committee"), "chen", None), ctx)
    assert [t.node_id for t in returned.state.tasks.values()] == ["start"]
    assert returned.state.joins == {} and returned.state.passed == ()


@pytest.mark.parametrize(
    ("command", "status", "code"),
    [
        (lambda s: Resubmit(_task(s, "committee"), "chen"), 409, "not_returned"),
        (
            lambda s: ReturnTask(_task(s, "committee"), "chen", None, resubmit="later"),  # type: ignore[arg-type]
            422,
            "invalid_resubmit",
        ),
        (lambda s: ReturnTask(_task(s, "committee"), "mallory", None), 403, "not_assignee"),
        (lambda s: ReturnTask("t999", "chen", None), 409, "task_not_open"),
    ],
)
def test_refusals(command: Any, status: int, code: str) -> None:
    spec = parse_process(
        {
            **LOAN.to_dict(),
            "nodes": [
                {**n, "resubmit": "returner_chooses"} if n["id"] == "committee" else n  # type: ignore[index]
                for n in LOAN.to_dict()["nodes"]  # type: ignore[union-attr]
            ],
        }
    )
    ctx = FakeContext()
    state = _at_committee(ctx)
    with pytest.raises(FlowdeskError) as caught:
        step(spec, state, command(state), ctx)
    assert (caught.value.status, caught.value.code) == (status, code)


def test_the_applicant_cannot_return_or_approve_her_own_returned_ticket() -> None:
    ctx = FakeContext()
    state = _at_committee(ctx)
    state = step(LOAN, state, ReturnTask(_task(state, "committee"), "wang", None), ctx).state
    start_task = _task(state, "start")
    for command in (
        ReturnTask(start_task, "alice", None),
        CompleteTask(start_task, "alice", "reject"),
    ):
        with pytest.raises(FlowdeskError) as caught:
            step(LOAN, state, command, ctx)
        assert (caught.value.status, caught.value.code) == (409, "ticket_returned")
    with pytest.raises(FlowdeskError) as caught:
        step(LOAN, state, Resubmit(start_task, "bob"), ctx)
    assert caught.value.code == "not_assignee"


class ChangingOrg(FakeContext):
    def __init__(self, members: list[str]) -> None:
        super().__init__()
        self.members = members

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        if rule.kind == "role" and rule.role == "reviewers":
            return list(self.members)
        return super().resolve_assignees(rule, starter)


def test_a_countersign_returned_to_is_resolved_again_edge_20() -> None:
    """APPROVALS.md edge case 20: the flow re-enters a 会签 node after a return; its
    approvers come from the current rules and every instance is created again."""
    spec = parse_process(
        yaml.safe_load("""
        nodes:
          - {id: start, type: start}
          - {id: review, type: user_task, assignee: {kind: role, role: reviewers},
             approval: {mode: all}}
          - {id: sign, type: user_task, assignee: {kind: user, user: victor}}
          - {id: end, type: end}
        flows:
          - {from: start, to: review}
          - {from: review, to: sign}
          - {from: sign, to: end}
    """)
    )
    org = ChangingOrg(["amy", "ben"])
    state = step(spec, None, Start("alice"), org).state
    for who in ("amy", "ben"):
        state = step(
            spec, state, CompleteTask(_task(state, "review", who), who, "approve"), org
        ).state
    org.members[:] = ["ben", "cai", "dan"]  # amy moved away, two joined
    state = step(spec, state, ReturnTask(_task(state, "sign"), "victor", "review"), org).state
    (activation,) = state.activations.values()
    assert activation.approvers == ("ben", "cai", "dan") and activation.required == 3
    assert activation.approved == ()
    assert sorted(t.assignees for t in state.tasks.values()) == [("ben",), ("cai",), ("dan",)]


@pytest.mark.parametrize(
    ("value", "code"),
    [("later", "unknown_resubmit"), (True, "unknown_resubmit")],
)
def test_bad_resubmit_settings(value: object, code: str) -> None:
    data = LOAN.to_dict()
    data["nodes"][7]["resubmit"] = value  # type: ignore[index]
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert [(e.path, e.code) for e in caught.value.errors] == [("process.nodes[7].resubmit", code)]


def test_only_user_tasks_have_a_resubmit_setting() -> None:
    data = LOAN.to_dict()
    data["nodes"][1]["resubmit"] = "rerun"  # type: ignore[index]
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("process.nodes[1].resubmit", "resubmit_not_allowed")
    ]


@pytest.mark.parametrize(
    "entry",
    [
        ["n", "single", ["bob"], 1, 1, [], [], {"from": 5}],
        ["n", "single", ["bob"], 1, 1, [], [], {}, {}],
        ["n", "single", ["bob"], 1, 1, [], [], "n2"],
    ],
)
def test_malformed_return_marks(entry: list[object]) -> None:
    with pytest.raises(StateInvalid):
        load_state({"v": 2, "status": "running", "starter": "alice", "nodes": {"a": entry}})


# --- random runs -----------------------------------------------------------------

SPECS = {
    "loan": LOAN,
    "edge_15": _scenario_spec("return_from_countersign_edge_15"),
    "edge_16": _scenario_spec("return_before_a_parallel_split_edge_16"),
    "edge_17": _scenario_spec("return_within_one_branch_edge_17"),
    "edge_22": _scenario_spec("return_straight_back_edge_22"),
}


def _check(spec: ProcessSpec, state: InstanceState) -> None:
    """What must hold after every step, whatever happened before."""
    if state.status != "running":
        assert not state.tasks and not state.activations and not state.joins
        return
    assert state.tasks, "a running instance always waits for someone"
    # no open task without its node instance, no node instance without an open task
    assert {t.activation_id for t in state.tasks.values()} == set(state.activations)
    for task in state.tasks.values():
        assert state.activations[task.activation_id].node_id == task.node_id
    for activation in state.activations.values():
        tasks = [t for t in state.tasks.values() if t.activation_id == activation.activation_id]
        undecided = len(activation.approvers) - len(activation.approved) - len(activation.rejected)
        if activation.mode == "sequential":
            assert len(tasks) == 1
        elif activation.mode != "single":
            assert len(tasks) == undecided
    # joins hold only arrivals through their own incoming flows, never all of them
    for join_id, arrived in state.joins.items():
        incoming = {flow.id for flow in spec.incoming(join_id)}
        assert arrived and arrived < incoming
    # no token stuck: what rests can always finish
    holding = frozenset(t.node_id for t in state.tasks.values())
    assert can_finish(spec, holding, frozenset().union(*state.joins.values()))
    assert len(set(state.passed)) == len(state.passed)
    assert all(spec.nodes[n].type == "user_task" for n in state.passed)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SPECS)), st.data())
def test_random_decisions_and_returns_keep_the_state_sound(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    ctx = FakeContext()
    values = {"amount": data.draw(st.sampled_from([20000, 120000])), "docs_complete": True}
    state = step(spec, None, Start("alice", values), ctx).state
    _check(spec, state)
    for _ in range(25):
        if state.status != "running":
            break
        task = data.draw(st.sampled_from(list(state.tasks.values())))
        # mostly an assignee; sometimes someone else, who must be refused
        actor = data.draw(st.sampled_from([*task.assignees, *task.assignees, "mallory", "bob"]))
        if task.node_id == spec.start.id:
            command: Any = Resubmit(task.task_id, actor, values=values)
        else:
            action = data.draw(
                st.sampled_from(["approve", "approve", "approve", "reject", "return"])
            )
            if action == "return":
                target = data.draw(st.sampled_from([None, *state.passed, task.node_id]))
                command = ReturnTask(task.task_id, actor, target, values=values)
            else:
                command = CompleteTask(task.task_id, actor, action, values=values)
        before = dump_state(state)
        try:
            result = step(spec, state, command, ctx)
            assert actor in task.assignees, "only an assignee acts"
        except FlowdeskError as refused:
            expected = {"return_to_current_node", "return_strands_branch", "return_across_branches"}
            if actor not in task.assignees:
                expected = {"not_assignee"}
            assert refused.code in expected, refused.code
            assert dump_state(state) == before
            continue
        state = load_state(json.loads(json.dumps(dump_state(result.state))))
        assert state == result.state
        _check(spec, state)
