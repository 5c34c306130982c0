"""A user task's automatic decision (`auto`) and its answer to a rule naming nobody
(`on_empty`): parsed and refused with their paths, kept through YAML and BPMN, and run
(the golden scenarios in scenarios/policies/ show the behaviour)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_bpmn_write import round_trip, run

from flowdesk.engines.process import parse_process
from flowdesk.kernel.errors import DefinitionInvalid

POLICIES = Path(__file__).parent / "scenarios" / "policies"


def _process(**node: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "n1", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}, **node},
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "n1"}, {"from": "n1", "to": "end"}],
    }


@pytest.mark.parametrize(
    ("node", "path", "code"),
    [
        ({"auto": {"action": "approve"}}, "process.nodes[1].auto.when", "required"),
        (
            {"auto": {"when": "amount > 1", "action": "maybe"}},
            "process.nodes[1].auto.action",
            "invalid_choice",
        ),
        ({"auto": "amount > 1"}, "process.nodes[1].auto", "wrong_type"),
        ({"on_empty": {"action": "wait"}}, "process.nodes[1].on_empty.action", "invalid_choice"),
        ({"on_empty": {"action": "assign"}}, "process.nodes[1].on_empty.assignee", "required"),
        (
            {"on_empty": {"action": "assign", "assignee": {"kind": "astrologer"}}},
            "process.nodes[1].on_empty.assignee.kind",
            "unknown_assignee_kind",
        ),
        ({"approve_once": "yes"}, "process.nodes[1].approve_once", "wrong_type"),
        (
            {"on_empty": {"action": "admin", "requester": "boss"}},
            "process.nodes[1].on_empty.requester",
            "invalid_choice",
        ),
        (
            {"on_empty": {"action": "reject", "assignee": {"kind": "user", "user": "x"}}},
            "process.nodes[1].on_empty.assignee",
            "assignee_not_allowed",
        ),
        (
            {"on_empty": {"action": "skip", "assignee": {"kind": "user", "user": "x"}}},
            "process.nodes[1].on_empty.assignee",
            "assignee_not_allowed",
        ),
    ],
)
def test_bad_policies_are_refused_at_their_path(node: dict[str, Any], path: str, code: str) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_process(_process(**node), "process")
    assert (path, code) in [(e.path, e.code) for e in refused.value.errors]


def test_only_user_tasks_have_policies() -> None:
    data = _process()
    data["nodes"][0]["auto"] = {"when": "amount > 1"}
    with pytest.raises(DefinitionInvalid) as refused:
        parse_process(data, "process")
    assert ("process.nodes[0].auto", "auto_not_allowed") in [
        (e.path, e.code) for e in refused.value.errors
    ]


def test_policies_survive_yaml_and_bpmn_and_their_conditions_are_listed() -> None:
    spec = parse_process(
        _process(
            auto={"when": "amount <= 50000", "action": "skip"},
            on_empty={"action": "assign", "assignee": {"kind": "role", "role": "cro"}},
            approve_once=True,
        )
    )
    assert parse_process(spec.to_dict()) == spec
    again, _ = round_trip(spec)
    assert again == spec
    for on_empty in ({"action": "reject"}, {"action": "admin", "requester": "leader"}):
        other = parse_process(_process(on_empty=on_empty))
        assert other.nodes["n1"].to_dict()["on_empty"] == on_empty
        assert round_trip(other)[0] == other
    # the app layer type-checks the automatic decision's condition like a branch's
    assert ("process.nodes[1].auto.when", "amount <= 50000") in spec.conditions()


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.stem)
def test_policy_scenarios_run_the_same_after_bpmn(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text("utf-8"))
    spec = parse_process(scenario["process"])
    again, _ = round_trip(spec)
    assert run(again, scenario) == run(spec, scenario)
