"""Golden scenarios: each YAML file in scenarios/ is a process, commands and the expected trace.

Each scenario runs twice: straight, and with the state saved to JSON and loaded
back between every step, as the service layer does between requests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from process_fakes import FakeContext

from flowdesk.engines.process import (
    ChangeApplicant,
    ChildCalled,
    ChildEnded,
    Command,
    CompleteTask,
    DelegateTask,
    Effect,
    ErrorThrown,
    FinishCall,
    InstanceFinished,
    InstanceState,
    NodeDecided,
    NodePassed,
    NodeSkipped,
    ProcessSpec,
    ResolveTask,
    Resubmit,
    ReturnTask,
    Start,
    TaskClosed,
    TaskOpened,
    TransferTask,
    WebhookRequested,
    dump_state,
    load_state,
    open_tasks,
    parse_process,
    step,
)
from flowdesk.kernel.errors import FlowdeskError

SCENARIOS = Path(__file__).parent / "scenarios"
SCENARIO_KEYS = {"description", "process", "values", "steps", "status"}
STEP_KEYS = {
    "start",
    "approve",
    "reject",
    "return",
    "to",
    "mode",
    "resubmit",
    "transfer",
    "delegate",  # 委派 the open task at this node to `to` (ADR 0034)
    "resolve",  # the delegate resolves their task at this node, with an `opinion`
    "opinion",
    "owner",  # a hand-over gives the ticket to this person as its applicant (ADR 0034)
    "as",
    "comment",
    "values",
    "expect",
    "error",
    "open",
    "status",
    "child",  # a call activity's child ended (ADR 0033): the node, with `outcome`
    "outcome",
}


def _load(path: Path) -> dict[str, Any]:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(scenario) <= SCENARIO_KEYS, f"unknown keys {set(scenario) - SCENARIO_KEYS}"
    for i, entry in enumerate(scenario["steps"]):
        assert set(entry) <= STEP_KEYS, f"step {i}: unknown keys {set(entry) - STEP_KEYS}"
        assert ("expect" in entry) != ("error" in entry), f"step {i}: expect or error"
    return scenario


def _spec(scenario: Mapping[str, Any]) -> ProcessSpec:
    process = scenario["process"]
    if isinstance(process, str):
        process = yaml.safe_load((SCENARIOS / "processes" / f"{process}.yaml").read_text("utf-8"))
    return parse_process(process)


class Tracer:
    """Writes effects the way scenario files do: tasks named by their node."""

    def __init__(self) -> None:
        self.task_nodes: dict[str, str] = {}
        self.task_assignees: dict[str, tuple[str, ...]] = {}

    def trace(self, effect: Effect) -> dict[str, object]:
        if isinstance(effect, TaskOpened):
            assert effect.task_id not in self.task_nodes, "task ids must be fresh"
            self.task_nodes[effect.task_id] = effect.node_id
            self.task_assignees[effect.task_id] = effect.assignees
            opened: dict[str, object] = {
                "kind": effect.kind,
                "task": effect.node_id,
                "assignees": list(effect.assignees),
            }
            if effect.via:
                opened["via"] = effect.via
            return opened
        if isinstance(effect, TaskClosed):
            assert self.task_nodes[effect.task_id] == effect.node_id
            entry: dict[str, object] = {
                "kind": effect.kind,
                "task": effect.node_id,
                "outcome": effect.outcome,
            }
            if effect.actor is not None:
                entry["actor"] = effect.actor
            if effect.comment:
                entry["comment"] = effect.comment
            if effect.reason:
                entry["reason"] = effect.reason
                entry["decided_by"] = effect.decided_by
            return entry
        if isinstance(effect, NodePassed):
            return {"kind": effect.kind, "node": effect.node_id, "type": effect.node_type}
        if isinstance(effect, NodeDecided):
            return {
                "kind": effect.kind,
                "node": effect.node_id,
                "mode": effect.mode,
                "outcome": effect.outcome,
                "tally": [effect.approved, effect.rejected, effect.required, effect.approvers],
            }
        if isinstance(effect, NodeSkipped):
            skipped: dict[str, object] = {
                "kind": effect.kind,
                "node": effect.node_id,
                "reason": effect.reason,
            }
            if effect.condition:
                skipped["condition"] = effect.condition
            if effect.approvers:
                skipped["approvers"] = list(effect.approvers)
            return skipped
        if isinstance(effect, ErrorThrown):
            return {
                "kind": effect.kind,
                "node": effect.node_id,
                "code": effect.code,
                "caught_by": effect.caught_by,
            }
        if isinstance(effect, WebhookRequested):  # a service task (ADR 0024)
            return {"kind": effect.kind, "node": effect.node_id, "form": dict(effect.form)}
        if isinstance(effect, ChildCalled):  # a call activity (ADR 0033)
            return {
                "kind": effect.kind,
                "node": effect.node_id,
                "app": effect.app,
                "values": dict(effect.values),
            }
        if isinstance(effect, ChildEnded):
            return {
                "kind": effect.kind,
                "node": effect.node_id,
                "outcome": effect.outcome,
                "caught_by": effect.caught_by,
            }
        assert isinstance(effect, InstanceFinished)
        return {"kind": effect.kind, "status": effect.status}

    def task_id(self, state: InstanceState | None, node_id: str, actor: str) -> str:
        """The open task at `node_id` assigned to `actor`, else the last task ever opened
        there for them, else the first open task there (someone else's), else the last
        task ever opened there."""
        here = [task for task in open_tasks(state) if task.node_id == node_id]
        for task in here:
            if actor in task.assignees:
                return task.task_id
        opened = [task_id for task_id, node in self.task_nodes.items() if node == node_id]
        assert opened, f"no task was ever opened at {node_id}"
        theirs = [task_id for task_id in opened if actor in self.task_assignees[task_id]]
        if theirs:
            return theirs[-1]
        return here[0].task_id if here else opened[-1]


def _command(
    entry: Mapping[str, Any],
    state: InstanceState | None,
    tracer: Tracer,
    values: Mapping[str, object],
) -> Command:
    if "start" in entry:
        return Start(entry["start"], values)
    if "child" in entry:  # the child ticket of the call activity at this node ended
        assert state is not None
        (wait_id,) = [w.wait_id for w in state.waits.values() if w.node_id == entry["child"]]
        return FinishCall(wait_id, entry["outcome"], values)
    if "resubmit" in entry:  # the applicant resubmits a ticket returned to them
        applicant = entry["resubmit"]
        task_id = tracer.task_id(state, "start", applicant)
        return Resubmit(task_id, applicant, entry.get("comment", ""), values)
    if "return" in entry:  # to: a node, or null for the applicant
        task_id = tracer.task_id(state, entry["return"], entry["as"])
        return ReturnTask(
            task_id, entry["as"], entry["to"], entry.get("comment", ""), entry.get("mode"), values
        )
    if "transfer" in entry:  # 转交 the open task at this node to `to`
        task_id = tracer.task_id(state, entry["transfer"], entry["as"])
        return TransferTask(task_id, entry["as"], entry["to"], entry.get("comment", ""))
    if "owner" in entry:
        return ChangeApplicant(entry["owner"])
    if "delegate" in entry:  # 委派 the open task at this node to `to`
        task_id = tracer.task_id(state, entry["delegate"], entry["as"])
        return DelegateTask(task_id, entry["as"], entry["to"], entry.get("comment", ""))
    if "resolve" in entry:
        task_id = tracer.task_id(state, entry["resolve"], entry["as"])
        return ResolveTask(task_id, entry["as"], entry.get("comment", ""), entry.get("opinion", ""))
    outcome = "approve" if "approve" in entry else "reject"
    task_id = tracer.task_id(state, entry[outcome], entry["as"])
    return CompleteTask(task_id, entry["as"], outcome, entry.get("comment", ""), values)


def _round_trip(state: InstanceState) -> InstanceState:
    restored = load_state(json.loads(json.dumps(dump_state(state))))
    assert restored == state
    return restored


@pytest.mark.parametrize("persist", [False, True], ids=["straight", "save_restore"])
# returns/ holds the 退回 scenarios (ReturnTask, Resubmit), kept apart from the files other
# runners replay with approve and reject only (the BPMN round trip).
@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *SCENARIOS.glob("*.yaml"),
            *SCENARIOS.glob("returns/*.yaml"),
            *SCENARIOS.glob("transfers/*.yaml"),
            *SCENARIOS.glob("delegations/*.yaml"),
            *SCENARIOS.glob("hand_over/*.yaml"),
            *SCENARIOS.glob("policies/*.yaml"),
            *SCENARIOS.glob("control/*.yaml"),
            *SCENARIOS.glob("service/*.yaml"),
            *SCENARIOS.glob("assignees/*.yaml"),
            *SCENARIOS.glob("calls/*.yaml"),
        ]
    ),
    ids=lambda p: p.stem,
)
def test_scenario(path: Path, persist: bool) -> None:
    scenario = _load(path)
    spec = _spec(scenario)
    ctx = FakeContext()
    tracer = Tracer()
    state: InstanceState | None = None
    values: Mapping[str, object] = scenario.get("values") or {}
    for i, entry in enumerate(scenario["steps"]):
        where = f"{path.name} step {i}"
        values = entry.get("values", values)  # the ticket's form as edited so far
        command = _command(entry, state, tracer, values)
        previous = state
        before = None if previous is None else dump_state(previous)
        if "error" in entry:
            with pytest.raises(FlowdeskError) as caught:
                step(spec, state, command, ctx)
            expected = entry["error"]
            assert caught.value.status == expected["status"], where
            assert caught.value.code == expected["code"], where
            if "path" in expected:
                assert [e.path for e in caught.value.errors] == [expected["path"]], where
        else:
            result = step(spec, state, command, ctx)
            assert [tracer.trace(e) for e in result.effects] == entry["expect"], where
            assert all(e.to_dict()["kind"] == e.kind for e in result.effects)
            state = result.state
        if previous is not None:  # step never mutates the state it is given
            assert dump_state(previous) == before, where
        if persist and state is not None:
            state = _round_trip(state)
        if "open" in entry:
            assert [task.node_id for task in open_tasks(state)] == entry["open"], where
        if "status" in entry:
            assert state is not None and state.status == entry["status"], where

    if scenario["status"] is None:
        assert state is None
        return
    assert state is not None
    assert state.status == scenario["status"]
    if state.status != "running":
        assert not state.tasks and not state.joins
        assert len(json.dumps(dump_state(state))) < 100
