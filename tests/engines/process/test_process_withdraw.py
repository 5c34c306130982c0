"""撤回 and 撤销 at engine level (ADR 0019): the golden scenarios of scenarios/withdraw/
(APPROVALS.md edge cases 24-27, straight and with save/restore between steps), and the
refusals, settings and state documents beyond them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from process_fakes import FakeContext
from test_process_returns import SPECS, _check
from test_process_scenarios import Tracer, _command, _round_trip

from flowdesk.engines.process import (
    CancelInstance,
    Command,
    CompleteTask,
    InstanceState,
    ProcessSpec,
    RequestRevoke,
    Resubmit,
    RetractDecision,
    ReturnTask,
    Start,
    StateInvalid,
    Withdraw,
    dump_state,
    load_state,
    open_tasks,
    parse_process,
    step,
)
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.engines.process.revoke import recorded
from flowdesk.engines.process.withdraw import retractable
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

SCENARIOS = Path(__file__).parent / "scenarios" / "withdraw"


def _withdraw_command(
    entry: Mapping[str, Any], state: InstanceState | None, tracer: Tracer
) -> Command:
    if "withdraw" in entry:
        return Withdraw(entry["withdraw"])
    if "cancel" in entry:
        return CancelInstance(entry["cancel"])
    if "revoke" in entry:  # 通过后撤销 (ADR 0042) at `at`, asking those who approved
        return RequestRevoke(
            entry["revoke"], tuple(entry["approvers"]), datetime.fromisoformat(entry["at"])
        )
    if "retract" in entry:  # the approver's last task at this node
        actor = entry["as"]
        theirs = [
            task_id
            for task_id, node in tracer.task_nodes.items()
            if node == entry["retract"] and actor in tracer.task_assignees[task_id]
        ]
        return RetractDecision(theirs[-1], actor)
    return _command(entry, state, tracer, {})


@pytest.mark.parametrize("persist", [False, True], ids=["straight", "save_restore"])
@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario(path: Path, persist: bool) -> None:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = parse_process(scenario["process"])
    ctx = FakeContext()
    tracer = Tracer()
    state: InstanceState | None = None
    for i, entry in enumerate(scenario["steps"]):
        where = f"{path.name} step {i}"
        if "approved_with" in entry:  # what the services keep with the approved state
            assert state is not None
            terms = entry["approved_with"]
            state = recorded(state, terms["revoke_days"], datetime.fromisoformat(terms["at"]))
            continue
        command = _withdraw_command(entry, state, tracer)
        before = None if state is None else dump_state(state)
        if "error" in entry:
            with pytest.raises(FlowdeskError) as caught:
                step(spec, state, command, ctx)
            assert (caught.value.status, caught.value.code) == (
                entry["error"]["status"],
                entry["error"]["code"],
            ), where
        else:
            result = step(spec, state, command, ctx)
            assert [tracer.trace(e) for e in result.effects] == entry["expect"], where
            previous, state = state, result.state
            if previous is not None:  # step never mutates the state it is given
                assert dump_state(previous) == before, where
        if persist and state is not None:
            state = _round_trip(state)
        if "open" in entry:
            assert [task.node_id for task in open_tasks(state)] == entry["open"], where
    assert state is not None and state.status == scenario["status"]
    if state.status != "running":  # a finished instance keeps nothing of the withdrawals
        assert not state.tasks and not state.decisions
        assert len(json.dumps(dump_state(state))) < 100


LINE = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "n1", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
        {"id": "n2", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}},
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "n1"},
        {"from": "n1", "to": "n2"},
        {"from": "n2", "to": "end"},
    ],
}


def _line(**n1: object) -> ProcessSpec:
    nodes = [{**node, **n1} if node["id"] == "n1" else node for node in LINE["nodes"]]
    return parse_process({**LINE, "nodes": nodes})


def _task(state: InstanceState, node_id: str) -> str:
    return next(t.task_id for t in state.tasks.values() if t.node_id == node_id)


def _approved_n1(spec: ProcessSpec, ctx: FakeContext) -> tuple[str, InstanceState]:
    state = step(spec, None, Start("alice"), ctx).state
    n1 = _task(state, "n1")
    return n1, step(spec, state, CompleteTask(n1, "bob", "approve"), ctx).state


def _refused(spec: ProcessSpec, state: InstanceState | None, command: Command) -> tuple[int, str]:
    before = None if state is None else dump_state(state)
    with pytest.raises(FlowdeskError) as caught:
        step(spec, state, command, FakeContext())
    if state is not None:
        assert dump_state(state) == before
    return caught.value.status, caught.value.code


def test_a_node_can_forbid_withdrawing_its_approvals() -> None:
    spec = _line(withdraw=False)
    assert spec.nodes["n1"].withdraw is False
    assert spec.to_dict()["nodes"][1]["withdraw"] is False  # type: ignore[index]
    n1, state = _approved_n1(spec, FakeContext())
    assert _refused(spec, state, RetractDecision(n1, "bob")) == (409, "withdraw_not_allowed")
    assert parse_process(spec.to_dict()).nodes["n1"].withdraw is False


@pytest.mark.parametrize(
    ("node", "code"),
    [({"id": "start", "type": "start", "withdraw": False}, "withdraw_not_allowed")],
)
def test_withdraw_is_a_user_task_setting(node: dict[str, object], code: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process({**LINE, "nodes": [node, *LINE["nodes"][1:]]})
    assert code in {e.code for e in caught.value.errors}
    with pytest.raises(DefinitionInvalid) as caught:
        _line(withdraw="no")
    assert "wrong_type" in {e.code for e in caught.value.errors}


def test_only_the_approver_withdraws_only_their_last_approval() -> None:
    spec = _line()
    ctx = FakeContext()
    n1, state = _approved_n1(spec, ctx)
    assert _refused(spec, state, RetractDecision(n1, "carol")) == (409, "already_processed")
    assert _refused(spec, state, RetractDecision("t999", "bob")) == (409, "already_processed")
    assert _refused(spec, None, RetractDecision(n1, "bob")) == (409, "instance_not_started")
    state = step(spec, state, CompleteTask(_task(state, "n2"), "carol", "approve"), ctx).state
    assert state.status == "approved"
    for command in (RetractDecision(n1, "bob"), Withdraw("alice"), CancelInstance("alice")):
        assert _refused(spec, state, command) == (409, "instance_finished")


def test_a_rejection_is_not_withdrawn_and_ends_what_came_before() -> None:
    spec = _line()
    ctx = FakeContext()
    _, state = _approved_n1(spec, ctx)
    assert set(state.decisions) == {"bob"}
    result = step(spec, state, CompleteTask(_task(state, "n2"), "carol", "reject"), ctx)
    assert result.state.status == "rejected" and not result.state.decisions


def test_the_applicant_cannot_withdraw_once_a_retracted_approval_was_given() -> None:
    """Withdrawing an approval is an approver's action: the ticket was acted on."""
    spec = _line()
    ctx = FakeContext()
    n1, state = _approved_n1(spec, ctx)
    state = step(spec, state, RetractDecision(n1, "bob"), ctx).state
    assert [t.node_id for t in state.tasks.values()] == ["n1"]
    assert state.passed == ()
    assert _refused(spec, state, Withdraw("alice")) == (409, "already_processed")
    assert step(spec, state, CancelInstance("alice"), ctx).state.status == "cancelled"


def test_a_withdrawn_ticket_can_be_cancelled_at_the_applicant() -> None:
    spec = _line()
    ctx = FakeContext()
    state = step(spec, None, Start("alice"), ctx).state
    state = step(spec, state, Withdraw("alice"), ctx).state
    start_task = _task(state, "start")
    result = step(spec, state, CancelInstance("alice"), ctx)
    assert [e.to_dict() for e in result.effects] == [
        {
            "kind": "task_closed",
            "task_id": start_task,
            "node_id": "start",
            "outcome": "cancelled",
            "actor": None,
            "comment": "",
            "reason": "cancelled",
            "decided_by": "alice",
        },
        {"kind": "instance_finished", "status": "cancelled"},
    ]
    assert result.state == InstanceState("cancelled", "alice")
    assert dump_state(result.state) == {"v": 2, "status": "cancelled", "starter": "alice"}


def test_the_approver_can_withdraw_a_ticket_returned_to_the_applicant_no_more() -> None:
    spec = _line()
    ctx = FakeContext()
    n1, state = _approved_n1(spec, ctx)
    state = step(spec, state, ReturnTask(_task(state, "n2"), "carol", None), ctx).state
    assert not state.decisions
    assert _refused(spec, state, RetractDecision(n1, "bob")) == (409, "already_processed")


def test_a_state_stored_before_adr_0019_is_judged_by_its_tallies() -> None:
    """No `acted` key: untouched while no node passed and no decision counted."""
    spec = _line()
    fresh = load_state(
        {"v": 2, "status": "running", "starter": "alice", "nodes": {"t1": "n1"},
         "tasks": {"t1": ["t1", ["bob"]]}}
    )  # fmt: skip
    assert fresh.acted is None
    assert step(spec, fresh, Withdraw("alice"), FakeContext()).state.tasks
    moved = load_state(
        {"v": 2, "status": "running", "starter": "alice", "nodes": {"t2": "n2"},
         "tasks": {"t2": ["t2", ["carol"]]}, "passed": ["n1"]}
    )  # fmt: skip
    assert _refused(spec, moved, Withdraw("alice")) == (409, "already_processed")
    # nor can an approval given before the upgrade be withdrawn: the state never kept it
    assert _refused(spec, moved, RetractDecision("t1", "bob")) == (409, "already_processed")


def test_the_decisions_round_trip_and_bad_ones_are_refused() -> None:
    spec = _line()
    _, state = _approved_n1(spec, FakeContext())
    data = dump_state(state)
    assert data["acted"] == 1 and list(data["decided"]) == ["bob"]  # type: ignore[call-overload]
    assert load_state(json.loads(json.dumps(data))) == state
    for bad in ({"bob": ["t1"]}, {"bob": ["t1", "t1", ["n1"], [], [], 2, "", 0]}):
        with pytest.raises(StateInvalid):
            load_state({**data, "decided": bad})
    with pytest.raises(StateInvalid):
        load_state({**data, "acted": True})


def test_a_steps_withdraw_setting_survives_bpmn() -> None:
    """Written as <flowdesk:option key="withdraw">false</flowdesk:option> and read back."""
    spec = _line(withdraw=False)
    xml = write_bpmn(spec)
    assert 'key="withdraw">false<' in xml
    again = parse_process(read_bpmn(xml).process)
    assert again.nodes["n1"].withdraw is False and again.nodes["n2"].withdraw is True


# --- random runs -----------------------------------------------------------------


def _open_nodes(state: InstanceState) -> list[str]:
    return sorted(t.node_id for t in state.tasks.values())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SPECS)), st.data())
def test_random_withdrawals_keep_the_state_sound_and_the_ticket_finishable(
    name: str, data: st.DataObject
) -> None:
    """Approvals, rejections, returns, resubmissions, the applicant's withdraw and cancel
    and approvers' withdraws in any order: the state stays sound after every step (as for
    returns), every kept approval can still be withdrawn, an approval withdrawn and given
    again leaves the same steps open, and approving on always finishes the ticket."""
    spec = SPECS[name]
    ctx = FakeContext()
    values = {"amount": data.draw(st.sampled_from([20000, 120000])), "docs_complete": True}
    state = step(spec, None, Start("alice", values), ctx).state
    for _ in range(25):
        if state.status != "running":
            break
        kind = data.draw(
            st.sampled_from(["decide", "decide", "decide", "retract", "retract", "withdraw"])
        )
        command: Any
        if kind == "withdraw":
            command = data.draw(st.sampled_from([Withdraw("alice"), CancelInstance("alice")]))
        elif kind == "retract" and state.decisions:
            actor = data.draw(st.sampled_from(sorted(state.decisions)))
            command = RetractDecision(state.decisions[actor].task_id, actor)
        else:
            task = data.draw(st.sampled_from(list(state.tasks.values())))
            actor = task.assignees[0]
            if task.node_id == spec.index.start.id:
                command = Resubmit(task.task_id, actor, values=values)
            else:
                action = data.draw(st.sampled_from(["approve"] * 6 + ["reject", "return"]))
                if action == "return":
                    target = data.draw(st.sampled_from([None, *state.passed]))
                    command = ReturnTask(task.task_id, actor, target, values=values)
                else:
                    command = CompleteTask(task.task_id, actor, action, values=values)
        before = dump_state(state)
        try:
            result = step(spec, state, command, ctx)
        except FlowdeskError as refused:
            allowed = {
                "already_processed",
                "decision_completed_join",
                "ticket_returned",
                "return_strands_branch",
                "return_across_branches",
            }
            assert refused.code in allowed, refused.code
            assert dump_state(state) == before
            continue
        previous, state = state, load_state(json.loads(json.dumps(dump_state(result.state))))
        assert state == result.state
        _check(spec, state)
        for decision in state.decisions.values():
            assert retractable(state, decision)
        if isinstance(command, RetractDecision) and state.status == "running":
            # given again, the approval leaves open exactly what it left open before
            mine = [t for t in state.tasks.values() if command.actor in t.assignees]
            again = step(spec, state, CompleteTask(mine[-1].task_id, command.actor, "approve",
                         values=values), ctx).state  # fmt: skip
            open_before_retract = _open_nodes(previous)
            assert _open_nodes(again) == open_before_retract
    # whatever happened, approving on finishes the ticket (no token is ever stuck)
    for _ in range(40):
        if state.status != "running":
            break
        task = next(iter(state.tasks.values()))
        if task.node_id == spec.index.start.id:
            command = Resubmit(task.task_id, task.assignees[0], values=values)
        else:
            command = CompleteTask(task.task_id, task.assignees[0], "approve", values=values)
        state = step(spec, state, command, ctx).state
        _check(spec, state)
    assert state.status in ("approved", "rejected", "cancelled")
