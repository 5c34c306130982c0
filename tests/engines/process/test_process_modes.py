"""Approval modes (会签, 或签, 依次审批, vote): their definition keys and, by property
tests, their decisions. The golden scenarios (scenarios/*edge_N.yaml) pin the traces."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from process_fakes import FakeContext

from flowdesk.engines.process import (
    Approval,
    AssigneeRule,
    CompleteTask,
    InstanceState,
    ProcessSpec,
    Start,
    StepFailed,
    TaskClosed,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.kernel.errors import DefinitionInvalid

APPROVERS = ("amy", "ben", "cai", "dan", "eva", "fay", "gus")


def _process(approval: Mapping[str, object] | None, users: Sequence[str]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "review",
        "type": "user_task",
        "assignee": {"kind": "users", "users": list(users)},
    }
    if approval is not None:
        node["approval"] = dict(approval)
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "next", "type": "user_task", "assignee": {"kind": "user", "user": "ops01"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "review"},
            {"from": "review", "to": "next"},
            {"from": "next", "to": "end"},
        ],
    }


def _problems(approval: object, users: Sequence[str] = ("amy", "ben")) -> list[tuple[str, str]]:
    data = _process(None, users)
    data["nodes"][1]["approval"] = approval
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    return [(e.path, e.code) for e in caught.value.errors]


# --- definitions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("approval", "expected"),
    [
        ({"mode": "all"}, Approval("all")),
        ({"mode": "any"}, Approval("any")),
        ({"mode": "sequential"}, Approval("sequential")),
        ({"mode": "single"}, Approval()),
        ({"mode": "vote", "pass_count": 2}, Approval("vote", pass_count=2)),
        (
            {"mode": "vote", "pass_percent": 60, "fail": "first_reject"},
            Approval("vote", pass_percent=60, fail="first_reject"),
        ),
    ],
)
def test_approval_modes_parse_and_round_trip(
    approval: dict[str, object], expected: Approval
) -> None:
    spec = parse_process(_process(approval, ["amy", "ben", "cai"]))
    assert spec.nodes["review"].approval == expected
    assert parse_process(spec.to_dict()) == spec
    assert spec.nodes["review"].assignee == AssigneeRule("users", users=("amy", "ben", "cai"))


def test_single_is_the_default_and_is_not_written_out() -> None:
    spec = parse_process(_process({"mode": "single"}, ["amy"]))
    assert "approval" not in spec.to_dict()["nodes"][1]  # type: ignore[index]


@pytest.mark.parametrize(
    ("approval", "expected"),
    [
        ("all", [("process.nodes[1].approval", "wrong_type")]),
        ({}, [("process.nodes[1].approval.mode", "required")]),
        ({"mode": "majority"}, [("process.nodes[1].approval.mode", "unknown_approval_mode")]),
        ({"mode": "all", "quorum": 2}, [("process.nodes[1].approval.quorum", "unknown_key")]),
        (
            {"mode": "all", "pass_count": 2},
            [("process.nodes[1].approval.pass_count", "vote_key_not_allowed")],
        ),
        (
            {"mode": "any", "fail": "first_reject"},
            [("process.nodes[1].approval.fail", "vote_key_not_allowed")],
        ),
        ({"mode": "vote"}, [("process.nodes[1].approval", "pass_rule_required")]),
        (
            {"mode": "vote", "pass_count": 1, "pass_percent": 50},
            [("process.nodes[1].approval.pass_percent", "pass_rule_conflict")],
        ),
        (
            {"mode": "vote", "pass_count": 0},
            [("process.nodes[1].approval.pass_count", "invalid_pass_count")],
        ),
        (
            {"mode": "vote", "pass_count": True},
            [("process.nodes[1].approval.pass_count", "invalid_pass_count")],
        ),
        (
            {"mode": "vote", "pass_percent": 101},
            [("process.nodes[1].approval.pass_percent", "invalid_pass_percent")],
        ),
        (
            {"mode": "vote", "pass_percent": "60%"},
            [("process.nodes[1].approval.pass_percent", "invalid_pass_percent")],
        ),
        (
            {"mode": "vote", "pass_percent": 60, "fail": "never"},
            [("process.nodes[1].approval.fail", "unknown_vote_failure")],
        ),
        (
            {"mode": "vote", "pass_count": 3},
            [("process.nodes[1].approval.pass_count", "pass_count_unreachable")],
        ),
    ],
)
def test_bad_approvals(approval: object, expected: list[tuple[str, str]]) -> None:
    assert _problems(approval) == expected


def test_only_user_tasks_have_an_approval_mode() -> None:
    data = _process(None, ["amy"])
    data["nodes"][0]["approval"] = {"mode": "all"}
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("process.nodes[0].approval", "approval_not_allowed")
    ]


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        (None, [("process.nodes[1].assignee.users", "required")]),
        ([], [("process.nodes[1].assignee.users", "wrong_type")]),
        ("amy", [("process.nodes[1].assignee.users", "wrong_type")]),
        (["amy", ""], [("process.nodes[1].assignee.users", "wrong_type")]),
        (["amy", "ben", "amy"], [("process.nodes[1].assignee.users[2]", "duplicate")]),
    ],
)
def test_bad_user_lists(users: object, expected: list[tuple[str, str]]) -> None:
    data = _process(None, ["amy"])
    data["nodes"][1]["assignee"] = (
        {"kind": "users"}
        if users is None
        else {
            "kind": "users",
            "users": users,
        }
    )
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert [(e.path, e.code) for e in caught.value.errors] == expected


# --- runtime -------------------------------------------------------------------


class ChangingOrg(FakeContext):
    """A role whose members can change between steps (an org-chart edit)."""

    def __init__(self, members: list[str]) -> None:
        super().__init__()
        self.members = members

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        if rule.kind == "role":
            return list(self.members)
        return super().resolve_assignees(rule, starter)


def test_approvers_are_fixed_when_the_node_starts_edge_4() -> None:
    """APPROVALS.md edge case 4: a role gains a member while the 会签 is open; the
    approver set (and the approvals needed) stay as they were at the node's start."""
    data = _process({"mode": "all"}, ["x"])
    data["nodes"][1]["assignee"] = {"kind": "role", "role": "reviewers"}
    spec = parse_process(data)
    org = ChangingOrg(["amy", "ben"])
    state = step(spec, None, Start("alice"), org).state
    org.members.append("cai")
    (activation,) = state.activations.values()
    assert activation.approvers == ("amy", "ben") and activation.required == 2
    for person in ("amy", "ben"):
        task = next(t for t in state.tasks.values() if person in t.assignees)
        state = step(spec, state, CompleteTask(task.task_id, person, "approve"), org).state
    assert [t.node_id for t in state.tasks.values()] == ["next"]


def test_a_vote_needing_more_people_than_assigned_refuses_to_start() -> None:
    data = _process({"mode": "vote", "pass_count": 3}, ["x"])
    data["nodes"][1]["assignee"] = {"kind": "role", "role": "reviewers"}
    spec = parse_process(data)
    with pytest.raises(StepFailed) as caught:
        step(spec, None, Start("alice"), ChangingOrg(["amy", "ben"]))
    assert caught.value.code == "too_few_approvers"
    assert caught.value.status == 422
    assert caught.value.errors[0].path == "process.nodes[1]"


def test_percent_is_rounded_up_and_fixed_at_entry() -> None:
    spec = parse_process(_process({"mode": "vote", "pass_percent": 60}, APPROVERS[:4]))
    state = step(spec, None, Start("alice"), FakeContext()).state
    (activation,) = state.activations.values()
    assert activation.required == 3  # 60% of 4 is 2.4


def test_single_mode_keeps_one_shared_task() -> None:
    spec = parse_process(_process(None, ["amy", "ben"]))
    state = step(spec, None, Start("alice"), FakeContext()).state
    assert [t.assignees for t in state.tasks.values()] == [("amy", "ben")]


# --- properties ----------------------------------------------------------------


@st.composite
def _votes(draw: st.DrawFn) -> tuple[dict[str, object], list[str], list[tuple[str, bool]]]:
    """A node's approval, its approvers, and every approver's decision in a random order."""
    size = draw(st.integers(1, len(APPROVERS)))
    people = draw(st.permutations(APPROVERS))[:size]
    mode = draw(st.sampled_from(["all", "any", "sequential", "vote", "single"]))
    approval: dict[str, object] = {"mode": mode}
    if mode == "vote":
        if draw(st.booleans()):
            approval["pass_count"] = draw(st.integers(1, size))
        else:
            approval["pass_percent"] = draw(st.integers(1, 100))
        approval["fail"] = draw(st.sampled_from(["unreachable", "first_reject"]))
    order = list(people) if mode == "sequential" else draw(st.permutations(people))
    decisions = [(person, draw(st.booleans())) for person in order]
    return approval, list(people), decisions


def _expected(approval: Approval, size: int, approved: int, rejected: int) -> str | None:
    """The node's outcome once it is certain, from the definition alone; None while open."""
    required = approval.required(size)
    if approved >= required:
        return "approved"
    if rejected and (approval.veto or rejected > size - required):
        return "rejected"
    return None


@settings(max_examples=300, deadline=None)
@given(_votes(), st.booleans())
def test_a_node_is_decided_exactly_when_its_outcome_becomes_certain(
    case: tuple[dict[str, object], list[str], list[tuple[str, bool]]], persist: bool
) -> None:
    approval_data, people, decisions = case
    spec: ProcessSpec = parse_process(_process(approval_data, people))
    approval = spec.nodes["review"].approval
    ctx = FakeContext()
    state: InstanceState = step(spec, None, Start("alice"), ctx).state
    approved = rejected = 0
    decided_by_others: set[str] = set()
    for person, approves in decisions:
        if state.status != "running" or not any(
            t.node_id == "review" for t in state.tasks.values()
        ):
            break
        holding = [t for t in state.tasks.values() if person in t.assignees]
        if approval.mode == "single":
            assert [t.assignees for t in state.tasks.values()] == [tuple(people)]
        elif approval.mode == "sequential":
            assert len(state.tasks) == 1 and holding  # only the current approver has one
        else:  # one task each for everyone who has not decided yet
            assert len(holding) == 1 and len(state.tasks) == len(people) - approved - rejected
        result = step(
            spec,
            state,
            CompleteTask(holding[0].task_id, person, "approve" if approves else "reject"),
            ctx,
        )
        approved += approves
        rejected += not approves
        if approval.mode == "single":
            approved, rejected = min(approved, 1), min(rejected, 1)
        outcome = _expected(approval, len(people), approved, rejected)
        review_open = [t for t in result.state.tasks.values() if t.node_id == "review"]
        cancelled = [
            e for e in result.effects if isinstance(e, TaskClosed) and e.outcome == "cancelled"
        ]
        if outcome is None:
            assert result.state.status == "running" and review_open and not cancelled
        else:
            # decided now, no earlier and no later: nothing of the node stays open
            assert not review_open
            assert result.state.status == ("running" if outcome == "approved" else "rejected")
            if outcome == "approved":
                assert [t.node_id for t in result.state.tasks.values()] == ["next"]
            assert all(e.reason == "node_decided" and e.decided_by == person for e in cancelled)
            decided_by_others = {e.task_id for e in cancelled}
        state = result.state
        if persist:
            state = load_state(json.loads(json.dumps(dump_state(state))))
            assert state == result.state
    # once everyone has decided (or fewer, when it was certain earlier) the node is decided
    assert _expected(approval, len(people), approved, rejected) is not None
    assert state.status != "running" or not any(t.node_id == "review" for t in state.tasks.values())
    assert not (decided_by_others & set(state.tasks))


def test_yaml_process_with_every_mode_runs() -> None:
    """A contract-review shape: 会签 of three reviewers, then 或签 of two deputies."""
    spec = parse_process(
        yaml.safe_load("""
        nodes:
          - {id: start, type: start}
          - {id: review, type: user_task, assignee: {kind: users, users: [lena, rita, fred]},
             approval: {mode: all}}
          - {id: deputies, type: user_task, assignee: {kind: users, users: [dora, dick]},
             approval: {mode: any}}
          - {id: end, type: end}
        flows:
          - {from: start, to: review}
          - {from: review, to: deputies}
          - {from: deputies, to: end}
    """)
    )
    ctx = FakeContext()
    state = step(spec, None, Start("alice"), ctx).state
    for person in ("fred", "lena", "rita"):
        task = next(t for t in state.tasks.values() if person in t.assignees)
        state = step(spec, state, CompleteTask(task.task_id, person, "approve"), ctx).state
    assert sorted(t.assignees for t in state.tasks.values()) == [("dick",), ("dora",)]
    task = next(t for t in state.tasks.values() if "dora" in t.assignees)
    assert step(spec, state, CompleteTask(task.task_id, "dora", "approve"), ctx).state.status == (
        "approved"
    )
