"""Tickets stored as state version 1 (before node instances, ADR 0015) finish on today's engine.

The documents below are what flowdesk's engine wrote before version 2 for the loan
process, captured from that code mid-flow: a parallel review with one branch done (a
join arrival) and the committee's shared task.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from process_fakes import FakeContext

from flowdesk.engines.process import (
    Activation,
    CompleteTask,
    InstanceFinished,
    OpenTask,
    dump_state,
    load_state,
    parse_process,
    step,
)

LOAN = parse_process(
    yaml.safe_load(
        (Path(__file__).parent / "scenarios" / "processes" / "loan.yaml").read_text("utf-8")
    )
)
# Written by the version-1 engine: legal approved, finance (frank or fiona) still open.
V1_AT_JOIN = {
    "v": 1,
    "status": "running",
    "starter": "alice",
    "tasks": {"t2": ["finance_review", ["frank", "fiona"]]},
    "joins": {"join": ["legal_review->join"]},
}
V1_AT_COMMITTEE = {
    "v": 1,
    "status": "running",
    "starter": "alice",
    "tasks": {"t3": ["committee", ["chen", "wang"]]},
}
VALUES = {"amount": 120000, "docs_complete": True}


def _fresh_ids_after(issued: int) -> FakeContext:
    ctx = FakeContext()
    ctx.issued = issued
    return ctx


def test_a_v1_task_becomes_a_single_approver_activation() -> None:
    state = load_state(V1_AT_JOIN)
    assert state.tasks == {"t2": OpenTask("t2", "finance_review", ("frank", "fiona"), "t2")}
    assert state.activations == {
        "t2": Activation("t2", "finance_review", "single", ("frank", "fiona"), 1, True)
    }
    assert state.joins == {"join": frozenset({"legal_review->join"})}
    assert state.passed == ()
    assert dump_state(state)["v"] == 2
    assert V1_AT_JOIN["v"] == 1  # the stored document is left alone


def test_a_v1_ticket_waiting_at_a_join_finishes_approved() -> None:
    ctx = _fresh_ids_after(2)
    state = load_state(json.loads(json.dumps(V1_AT_JOIN)))
    result = step(LOAN, state, CompleteTask("t2", "fiona", "approve", "", VALUES), ctx)
    # the join fires on the v1 arrival plus this one: the committee opens exactly once
    (committee,) = result.state.tasks.values()
    assert committee.node_id == "committee"
    state = load_state(json.loads(json.dumps(dump_state(result.state))))
    result = step(LOAN, state, CompleteTask(committee.task_id, "wang", "approve", "", VALUES), ctx)
    (disburse,) = result.state.tasks.values()
    assert disburse.node_id == "disburse"
    result = step(LOAN, result.state, CompleteTask(disburse.task_id, "ops01", "approve"), ctx)
    assert result.state.status == "approved"
    assert isinstance(result.effects[-1], InstanceFinished)
    assert not result.state.tasks and not result.state.activations


@pytest.mark.parametrize("actor", ["chen", "wang"])
def test_every_v1_assignee_can_still_act(actor: str) -> None:
    ctx = _fresh_ids_after(3)
    result = step(LOAN, load_state(V1_AT_COMMITTEE), CompleteTask("t3", actor, "reject"), ctx)
    assert result.state.status == "rejected"
