"""step: the edges the golden scenarios do not show in a trace."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml
from process_fakes import FakeContext

from flowdesk.engines.process import (
    AssigneeRule,
    CompleteTask,
    Flow,
    InstanceFinished,
    InstanceState,
    Node,
    NodePassed,
    ProcessSpec,
    Start,
    StepFailed,
    TaskClosed,
    TaskOpened,
    dump_state,
    open_tasks,
    parse_process,
    step,
)
from flowdesk.kernel.errors import Conflict, ValidationFailed

LOAN = parse_process(
    yaml.safe_load((Path(__file__).parent / "scenarios/processes/loan.yaml").read_text("utf-8"))
)


def start_large(ctx: FakeContext | None = None) -> InstanceState:
    return step(LOAN, None, Start("alice", {"amount": 120000}), ctx or FakeContext()).state


def test_effects_serialise_with_their_kind() -> None:
    assert TaskOpened("t1", "review", ("bob", "amy")).to_dict() == {
        "kind": "task_opened",
        "task_id": "t1",
        "node_id": "review",
        "assignees": ["bob", "amy"],
    }
    assert TaskClosed("t1", "review", "cancelled", None, "").to_dict() == {
        "kind": "task_closed",
        "task_id": "t1",
        "node_id": "review",
        "outcome": "cancelled",
        "actor": None,
        "comment": "",
    }
    assert NodePassed("split", "parallel_gateway").to_dict() == {
        "kind": "node_passed",
        "node_id": "split",
        "node_type": "parallel_gateway",
    }
    assert InstanceFinished("approved").to_dict() == {
        "kind": "instance_finished",
        "status": "approved",
    }


def test_values_are_not_stored_in_the_state() -> None:
    state = step(
        LOAN, None, Start("alice", {"amount": 120000, "secret": "ID 1234"}), FakeContext()
    ).state
    text = json.dumps(dump_state(state))
    assert "120000" not in text and "secret" not in text
    assert len(text) < 2048


def test_conditions_are_tried_in_order_and_stop_at_the_first_true() -> None:
    ctx = FakeContext()
    step(LOAN, None, Start("alice", {"amount": 10}), ctx)
    assert ctx.evaluated == ["amount <= 50000"]


def test_command_on_an_instance_not_started() -> None:
    with pytest.raises(Conflict) as caught:
        step(LOAN, None, CompleteTask("t1", "bob", "approve", "", {}), FakeContext())
    assert caught.value.code == "instance_not_started"


def test_unknown_outcome() -> None:
    state = start_large()
    task = open_tasks(state)[0]
    bad = CompleteTask(task.task_id, "carol", "abstain", "", {})  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as caught:
        step(LOAN, state, bad, FakeContext())
    assert caught.value.code == "invalid_outcome"


def test_unknown_command() -> None:
    with pytest.raises(TypeError):
        step(LOAN, None, "start", FakeContext())  # type: ignore[arg-type]


def test_rejection_cancels_open_tasks_in_opening_order() -> None:
    spec = parse_process(
        yaml.safe_load("""
        nodes:
          - {id: s, type: start}
          - {id: p, type: parallel_gateway}
          - {id: a, type: user_task, assignee: {kind: user, user: ua}}
          - {id: b, type: user_task, assignee: {kind: user, user: ub}}
          - {id: c, type: user_task, assignee: {kind: user, user: uc}}
          - {id: j, type: parallel_gateway}
          - {id: e, type: end}
        flows:
          - {from: s, to: p}
          - {from: p, to: a}
          - {from: p, to: b}
          - {from: p, to: c}
          - {from: a, to: j}
          - {from: b, to: j}
          - {from: c, to: j}
          - {from: j, to: e}
    """)
    )
    ctx = FakeContext()
    state = step(spec, None, Start("alice", {}), ctx).state
    result = step(spec, state, CompleteTask("t2", "ub", "reject", "no", {}), ctx)
    assert result.effects == (
        TaskClosed("t2", "b", "rejected", "ub", "no"),
        TaskClosed("t1", "a", "cancelled", None, "", "ticket_rejected", "ub"),
        TaskClosed("t3", "c", "cancelled", None, "", "ticket_rejected", "ub"),
        InstanceFinished("rejected"),
    )
    assert result.state == InstanceState("rejected", "alice")


def test_join_remembers_arrivals_between_steps() -> None:
    ctx = FakeContext()
    state = start_large(ctx)
    finance = next(t for t in open_tasks(state) if t.node_id == "finance_review")
    state = step(LOAN, state, CompleteTask(finance.task_id, "frank", "approve", "", {}), ctx).state
    assert state.joins == {"join": frozenset({"finance_review->join"})}


class DuplicatingContext(FakeContext):
    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        return ["amy", "bob", "amy"]


def test_assignees_are_deduplicated_in_order() -> None:
    result = step(LOAN, None, Start("alice", {"amount": 1}), DuplicatingContext())
    assert open_tasks(result.state)[0].assignees == ("amy", "bob")


def test_manager_level_and_starter_reach_the_context() -> None:
    spec = parse_process(
        yaml.safe_load("""
        nodes:
          - {id: s, type: start}
          - {id: a, type: user_task, assignee: {kind: applicant_manager, level: 2}}
          - {id: b, type: user_task, assignee: {kind: applicant_department_head}}
          - {id: e, type: end}
        flows: [{from: s, to: a}, {from: a, to: b}, {from: b, to: e}]
    """)
    )
    ctx = FakeContext()
    state = step(spec, None, Start("alice", {}), ctx).state
    assert open_tasks(state)[0].assignees == ("dave",)
    state = step(spec, state, CompleteTask("t1", "dave", "approve", "", {}), ctx).state
    assert open_tasks(state)[0].assignees == ("hank",)  # resolved for alice, not for dave


def test_step_failed_names_the_node() -> None:
    class Nobody(FakeContext):
        def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
            return []

    with pytest.raises(StepFailed) as caught:
        step(LOAN, None, Start("alice", {"amount": 1}), Nobody())
    assert caught.value.node_id == "branch_review"
    assert caught.value.errors[0].path == "process.nodes[2]"
    assert "branch_review" in caught.value.message


def test_a_join_that_can_never_fire_fails_the_step() -> None:
    # built without parse_process, which would refuse this graph
    nodes: Mapping[str, Node] = {
        "s": Node("s", "start"),
        "a": Node("a", "user_task", assignee=AssigneeRule("user", user="u")),
        "j": Node("j", "parallel_gateway"),
        "e": Node("e", "end"),
    }
    flows = (
        Flow("s->a", "s", "a"),
        Flow("a->j", "a", "j"),
        Flow("e->j", "e", "j"),
        Flow("j->e", "j", "e"),
    )
    spec = ProcessSpec(nodes, flows)
    ctx = FakeContext()
    state = step(spec, None, Start("alice", {}), ctx).state
    with pytest.raises(StepFailed) as caught:
        step(spec, state, CompleteTask("t1", "u", "approve", "", {}), ctx)
    assert caught.value.code == "join_stuck"


def test_spec_needs_one_start() -> None:
    with pytest.raises(ValueError, match="start"):
        ProcessSpec({"e": Node("e", "end")}, ())


def test_same_inputs_same_outputs() -> None:
    first = step(LOAN, None, Start("alice", {"amount": 120000}), FakeContext())
    second = step(LOAN, None, Start("alice", {"amount": 120000}), FakeContext())
    assert first == second
