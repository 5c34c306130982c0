"""抄送 (CC) nodes: a token passes through at once, copies go to the people the rule
names, and a rule that names nobody skips the node without stalling (issue 8)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from process_fakes import FakeContext

from flowdesk.engines.process import (
    CompleteTask,
    CopiesSent,
    InstanceFinished,
    NodePassed,
    Start,
    TaskOpened,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.kernel.errors import DefinitionInvalid


def _process(cc_rule: dict[str, Any], *, after_review: bool = True) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start"},
        {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
        {"id": "copy", "type": "cc", "name": {"en": "Copy", "zh": "抄送"}, "assignee": cc_rule},
        {"id": "end", "type": "end"},
    ]
    order = (
        ["start", "review", "copy", "end"] if after_review else ["start", "copy", "review", "end"]
    )
    flows = [{"from": a, "to": b} for a, b in itertools.pairwise(order)]
    return {"nodes": nodes, "flows": flows}


def test_a_cc_node_copies_and_passes_on_without_a_task() -> None:
    spec = parse_process(_process({"kind": "role", "role": "finance_reviewer"}))
    ctx = FakeContext()
    started = step(spec, None, Start("alice"), ctx)
    (opened,) = [e for e in started.effects if isinstance(e, TaskOpened)]
    done = step(spec, started.state, CompleteTask(opened.task_id, "bob", "approve"), ctx)
    assert CopiesSent("copy", ("frank", "fiona")) in done.effects
    assert not [e for e in done.effects if isinstance(e, TaskOpened)]  # no task for a copy
    assert done.effects[-1] == InstanceFinished("approved")
    assert done.state.status == "approved"


def test_a_cc_node_at_the_start_copies_at_submission() -> None:
    spec = parse_process(
        _process({"kind": "users", "users": ["carol", "dave"]}, after_review=False)
    )
    result = step(spec, None, Start("alice"), FakeContext())
    kinds = [type(e) for e in result.effects]
    assert kinds == [NodePassed, CopiesSent, TaskOpened]
    assert result.effects[1] == CopiesSent("copy", ("carol", "dave"))
    # the state holds nothing of the copy: it round-trips as before
    assert load_state(dump_state(result.state)) == result.state


def test_an_empty_cc_rule_skips_the_node_and_never_stalls() -> None:
    spec = parse_process(_process({"kind": "role", "role": "vacant_role"}, after_review=False))
    result = step(spec, None, Start("alice"), FakeContext())
    assert CopiesSent("copy", ()) in result.effects
    assert result.state.status == "running"  # went on to review


def test_copies_are_listed_once_each() -> None:
    spec = parse_process(
        _process({"kind": "users", "users": ["carol", "dave"]}, after_review=False)
    )
    effect = next(
        e
        for e in step(spec, None, Start("alice"), FakeContext()).effects
        if isinstance(e, CopiesSent)
    )
    assert effect.to_dict() == {
        "kind": "copies_sent",
        "node_id": "copy",
        "users": ["carol", "dave"],
    }


def test_a_cc_node_round_trips_through_its_plain_form() -> None:
    spec = parse_process(_process({"kind": "applicant_manager", "level": 2}))
    assert parse_process(spec.to_dict()) == spec
    assert spec.nodes["copy"].type == "cc"


@pytest.mark.parametrize(
    ("node", "code", "path"),
    [
        ({"id": "copy", "type": "cc"}, "required", "process.nodes[2].assignee"),
        (
            {"id": "copy", "type": "cc", "assignee": {"kind": "user"}},
            "required",
            "process.nodes[2].assignee.user",
        ),
        (
            {
                "id": "copy",
                "type": "cc",
                "assignee": {"kind": "user", "user": "carol"},
                "approval": {"mode": "all"},
            },
            "approval_not_allowed",
            "process.nodes[2].approval",
        ),
        (
            {
                "id": "copy",
                "type": "cc",
                "assignee": {"kind": "user", "user": "carol"},
                "editable": ["amount"],
            },
            "editable_not_allowed",
            "process.nodes[2].editable",
        ),
    ],
)
def test_a_cc_node_is_checked_like_a_user_task(node: dict[str, Any], code: str, path: str) -> None:
    data = _process({"kind": "user", "user": "carol"})
    data["nodes"][2] = node
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert (path, code) in [(e.path, e.code) for e in caught.value.errors]


def test_a_cc_node_has_one_way_out() -> None:
    data = _process({"kind": "user", "user": "carol"})
    data["flows"].append({"from": "copy", "to": "review"})
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert "too_many_outgoing" in [e.code for e in caught.value.errors]


def test_a_loop_of_cc_nodes_and_gateways_is_refused() -> None:
    data = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gw", "type": "exclusive_gateway"},
            {"id": "copy", "type": "cc", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "gw"},
            {"from": "gw", "to": "copy", "condition": "amount > 50000"},
            {"from": "gw", "to": "end", "default": True},
            {"from": "copy", "to": "gw"},
        ],
    }
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert "automatic_cycle" in [e.code for e in caught.value.errors]


def test_cc_nodes_in_parallel_branches_join() -> None:
    data = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel_gateway"},
            {"id": "copy", "type": "cc", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "join", "type": "parallel_gateway"},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "copy"},
            {"from": "split", "to": "review"},
            {"from": "copy", "to": "join"},
            {"from": "review", "to": "join"},
            {"from": "join", "to": "end"},
        ],
    }
    spec = parse_process(data)
    ctx = FakeContext()
    started = step(spec, None, Start("alice"), ctx)
    assert CopiesSent("copy", ("carol",)) in started.effects
    (task,) = [e for e in started.effects if isinstance(e, TaskOpened)]
    done = step(spec, started.state, CompleteTask(task.task_id, "bob", "approve"), ctx)
    assert done.state.status == "approved"
