"""Admin repairs at engine level (ADR 0026): the jump rule (every token moves; never into
a parallel block), reassigning a task in a multi-person step, the admin cancel, and the
migration check and move; plus random runs mixing repairs with decisions and returns,
checking after every step (saved and restored) that no token is stuck or orphaned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from process_fakes import FakeContext
from test_process_returns import LOAN, SCENARIOS, SPECS, _check
from test_process_scenarios import Tracer, _command, _round_trip

from flowdesk.engines.process import (
    CompleteTask,
    InstanceState,
    ProcessSpec,
    Resubmit,
    ReturnTask,
    Start,
    TaskClosed,
    dump_state,
    load_state,
    open_tasks,
    parse_process,
    repair,
    step,
)
from flowdesk.engines.process.runtime import StepResult
from flowdesk.kernel.errors import Conflict, FlowdeskError, Forbidden, ValidationFailed

LARGE = {"amount": 120000, "docs_complete": True}


def _large(ctx: FakeContext) -> InstanceState:
    return step(LOAN, None, Start("alice", LARGE), ctx).state


def _nodes(state: InstanceState) -> list[str]:
    return sorted(t.node_id for t in state.tasks.values())


def test_a_jump_moves_every_token_and_clears_the_joins() -> None:
    ctx = FakeContext()
    state = _large(ctx)
    legal = next(t for t in state.tasks.values() if t.node_id == "legal_review")
    state = step(LOAN, state, CompleteTask(legal.task_id, "carol", "approve", values=LARGE), ctx)
    assert state.state.joins  # the legal branch waits at the join
    result = repair.jump(LOAN, state.state, "committee", "root", ctx)
    assert _nodes(result.state) == ["committee"]
    assert not result.state.joins and result.state.acted is True
    closed = [e for e in result.effects if isinstance(e, TaskClosed)]
    assert [(e.node_id, e.reason, e.decided_by) for e in closed] == [
        ("finance_review", "moved", "root")
    ]
    _check(LOAN, result.state)


def test_the_jump_targets_are_the_user_tasks_outside_parallel_blocks() -> None:
    assert repair.jump_targets(LOAN) == ("branch_review", "committee", "disburse")


@pytest.mark.parametrize(
    ("target", "error", "code"),
    [
        ("nowhere", ValidationFailed, "unknown_node"),
        ("split", ValidationFailed, "not_user_task"),
        ("start", ValidationFailed, "not_user_task"),
        ("legal_review", Conflict, "jump_into_parallel"),
        ("finance_review", Conflict, "jump_into_parallel"),
    ],
)
def test_a_jump_is_refused_where_it_cannot_land(
    target: str, error: type[FlowdeskError], code: str
) -> None:
    ctx = FakeContext()
    state = _large(ctx)
    with pytest.raises(error) as refused:
        repair.jump(LOAN, state, target, "root", ctx)
    assert refused.value.code == code


def test_a_finished_ticket_refuses_every_repair() -> None:
    ctx = FakeContext()
    done = repair.cancel(_large(ctx), "root")
    assert done.state.status == "cancelled" and not done.state.tasks
    for attempt in (
        lambda: repair.jump(LOAN, done.state, "committee", "root", ctx),
        lambda: repair.cancel(done.state, "root"),
        lambda: repair.reassign(LOAN, done.state, "t1", ("zoe",), "root", "x"),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "ticket_not_running"


V2 = parse_process(
    {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel_gateway"},
            {
                "id": "legal",
                "type": "user_task",
                "assignee": {"kind": "department_head", "department": "legal"},
            },
            {
                "id": "finance_review",
                "type": "user_task",
                "assignee": {"kind": "role", "role": "finance_reviewer"},
            },
            {"id": "join", "type": "parallel_gateway"},
            {
                "id": "committee",
                "type": "user_task",
                "assignee": {"kind": "role", "role": "risk_committee"},
                "approval": {"mode": "all"},
            },
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "legal"},
            {"from": "split", "to": "finance_review"},
            {"from": "legal", "to": "join"},
            {"from": "finance_review", "to": "join"},
            {"from": "join", "to": "committee"},
            {"from": "committee", "to": "end"},
        ],
    }
)


def test_reassigning_a_countersigners_task_keeps_the_count() -> None:
    ctx = FakeContext()
    state = repair.jump(V2, step(V2, None, Start("alice"), ctx).state, "committee", "root", ctx)
    amy = next(t for t in state.state.tasks.values() if t.assignees == ("amy",))
    with pytest.raises(Conflict) as twice:
        repair.reassign(V2, state.state, amy.task_id, ("ben",), "root", "n1")
    assert twice.value.code == "already_approver"
    with pytest.raises(Forbidden):
        repair.reassign(V2, state.state, amy.task_id, ("alice",), "root", "n1")
    with pytest.raises(ValidationFailed) as two:
        repair.reassign(V2, state.state, amy.task_id, ("zoe", "yan"), "root", "n1")
    assert two.value.code == "one_assignee_only"
    result = repair.reassign(V2, state.state, amy.task_id, ("zoe",), "root", "n1")
    activation = result.state.activations[result.state.tasks["n1"].activation_id]
    assert activation.approvers == ("zoe", "ben", "cai", "dan", "eva")
    assert activation.required == 5
    _check(V2, result.state)


def test_a_shared_task_goes_to_several_people() -> None:
    ctx = FakeContext()
    state = _large(ctx)
    finance = next(t for t in state.tasks.values() if t.node_id == "finance_review")
    result = repair.reassign(LOAN, state, finance.task_id, ("zoe", "yan"), "root", "n1")
    assert result.state.tasks["n1"].assignees == ("zoe", "yan")
    _check(LOAN, result.state)


def test_the_migration_check_names_every_problem_at_once() -> None:
    ctx = FakeContext()
    state = _large(ctx)
    problems = repair.migration_problems(LOAN, V2, state, {"legal_review": "split"})
    assert sorted((p.node, p.code) for p in problems) == [
        ("finance_review", "node_not_mapped"),
        ("legal_review", "not_user_task"),
    ]
    merged = repair.migration_problems(
        LOAN, V2, state, {"legal_review": "committee", "finance_review": "committee"}
    )
    assert [p.code for p in merged] == ["tokens_merge"]
    strands = repair.migration_problems(
        LOAN, V2, state, {"legal_review": "legal", "finance_review": "committee"}
    )
    assert [p.code for p in strands] == ["tokens_strand"]


def test_a_migration_restarts_each_token_at_its_mapped_step_and_keeps_the_join() -> None:
    ctx = FakeContext()
    state = _large(ctx)
    legal = next(t for t in state.tasks.values() if t.node_id == "legal_review")
    state = step(
        LOAN, state, CompleteTask(legal.task_id, "carol", "approve", values=LARGE), ctx
    ).state
    # the legal branch waits at the join; in the new version the step is called "legal"
    mapping = {"finance_review": "finance_review", "legal_review": "legal"}
    assert repair.migration_problems(LOAN, V2, state, mapping) == []
    result = repair.migrate(LOAN, V2, state, mapping, "root", ctx)
    _check(V2, result.state)
    assert result.state.joins == {"join": frozenset({"legal->join"})}
    assert _nodes(result.state) == ["finance_review"]
    assert all(e.reason == "migrated" for e in result.effects if isinstance(e, TaskClosed))
    # the remaining branch completes the join, and the new 会签 of five opens
    [finance] = result.state.tasks.values()
    command = CompleteTask(finance.task_id, "frank", "approve", values=LARGE)
    assert _nodes(step(V2, result.state, command, ctx).state) == ["committee"] * 5


def test_a_waiting_join_that_the_new_version_lacks_is_a_problem() -> None:
    ctx = FakeContext()
    state = _large(ctx)
    legal = next(t for t in state.tasks.values() if t.node_id == "legal_review")
    state = step(
        LOAN, state, CompleteTask(legal.task_id, "carol", "approve", values=LARGE), ctx
    ).state
    problems = repair.migration_problems(LOAN, V2, state, {"finance_review": "finance_review"})
    assert [(p.node, p.code) for p in problems] == [("join", "join_changed")]


def test_a_ticket_with_the_applicant_moves_with_them() -> None:
    ctx = FakeContext()
    state = _large(ctx)
    legal = next(t for t in state.tasks.values() if t.node_id == "legal_review")
    returned = step(LOAN, state, ReturnTask(legal.task_id, "carol", None, values=LARGE), ctx)
    assert _nodes(returned.state) == ["start"]
    assert repair.migration_problems(LOAN, V2, returned.state, {}) == []
    moved = repair.migrate(LOAN, V2, returned.state, {}, "root", ctx).state
    assert _nodes(moved) == ["start"]
    start = next(iter(moved.tasks.values()))
    again = step(V2, moved, Resubmit(start.task_id, "alice", values=LARGE), ctx).state
    assert _nodes(again) == ["finance_review", "legal"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SPECS)), st.data())
def test_random_repairs_among_decisions_keep_the_state_sound(
    name: str, data: st.DataObject
) -> None:
    spec = SPECS[name]
    ctx = FakeContext()
    values = {"amount": data.draw(st.sampled_from([20000, 120000])), "docs_complete": True}
    state = step(spec, None, Start("alice", values), ctx).state
    targets = repair.jump_targets(spec)
    for _ in range(20):
        if state.status != "running":
            break
        task = data.draw(st.sampled_from(list(state.tasks.values())))
        action = data.draw(st.sampled_from(["approve", "approve", "jump", "reassign", "return"]))
        try:
            if action == "jump" and targets:
                result = repair.jump(spec, state, data.draw(st.sampled_from(targets)), "root", ctx)
            elif action == "reassign":
                result = repair.reassign(spec, state, task.task_id, ("zoe",), "root", ctx.new_id())
            elif task.node_id == spec.start.id:
                result = step(spec, state, Resubmit(task.task_id, "alice", values=values), ctx)
            elif action == "return":
                command: Any = ReturnTask(task.task_id, task.assignees[0], None, values=values)
                result = step(spec, state, command, ctx)
            else:
                command = CompleteTask(task.task_id, task.assignees[0], "approve", values=values)
                result = step(spec, state, command, ctx)
        except FlowdeskError as refused:
            assert refused.code in {
                "already_approver",
                "ticket_returned",
                "task_in_add_sign",
                "assignees_unchanged",
                "one_assignee_only",
            }, refused.code
            continue
        state = load_state(json.loads(json.dumps(dump_state(result.state))))
        assert state == result.state
        _check(spec, state)


# --- golden scenarios ---------------------------------------------------------------------

REPAIR_SCENARIOS = SCENARIOS / "repairs"


def _scenario_step(
    spec: ProcessSpec, state: InstanceState | None, entry: dict[str, Any], tracer: Tracer, ctx: Any
) -> StepResult:
    """One scenario step: a repair (jump, reassign, cancel_as_admin) or a plain command."""
    if "jump" in entry:
        return repair.jump(spec, state, entry["jump"], entry["as"], ctx)
    if "reassign" in entry:
        task_id = tracer.task_id(state, entry["reassign"], entry["holder"])
        return repair.reassign(spec, state, task_id, tuple(entry["to"]), entry["as"], ctx.new_id())
    if "cancel_as_admin" in entry:
        return repair.cancel(state, entry["cancel_as_admin"])
    return step(spec, state, _command(entry, state, tracer, {}), ctx)


@pytest.mark.parametrize("persist", [False, True], ids=["straight", "save_restore"])
@pytest.mark.parametrize("path", sorted(REPAIR_SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario(path: Path, persist: bool) -> None:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = parse_process(scenario["process"])
    ctx = FakeContext()
    tracer = Tracer()
    state: InstanceState | None = None
    for i, entry in enumerate(scenario["steps"]):
        where = f"{path.name} step {i}"
        before = None if state is None else dump_state(state)
        if "error" in entry:
            with pytest.raises(FlowdeskError) as caught:
                _scenario_step(spec, state, entry, tracer, ctx)
            assert (caught.value.status, caught.value.code) == (
                entry["error"]["status"],
                entry["error"]["code"],
            ), where
            assert state is None or dump_state(state) == before, where
        else:
            result = _scenario_step(spec, state, entry, tracer, ctx)
            assert [tracer.trace(e) for e in result.effects] == entry["expect"], where
            previous, state = state, result.state
            if previous is not None:  # a repair never mutates the state it is given
                assert dump_state(previous) == before, where
            _check(spec, state)
        if persist and state is not None:
            state = _round_trip(state)
        if "open" in entry:
            assert sorted(t.node_id for t in open_tasks(state)) == entry["open"], where
    assert state is not None and state.status == scenario["status"]
