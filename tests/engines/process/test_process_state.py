"""Instance state: compact versioned JSON that loads back equal, upgrading old versions."""

from __future__ import annotations

import json

import pytest

from flowdesk.engines.process import (
    STATE_VERSION,
    UPGRADES,
    Activation,
    InstanceState,
    OpenTask,
    StateInvalid,
    dump_state,
    load_state,
    open_tasks,
)
from flowdesk.engines.process.state import EMPTY, running

RUNNING = InstanceState(
    status="running",
    starter="alice",
    tasks={
        "t2": OpenTask("t2", "legal_review", ("carol",), "t2"),
        "t3": OpenTask("t3", "finance_review", ("frank",), "t3"),
        "t4": OpenTask("t4", "finance_review", ("fiona",), "t3"),
    },
    joins={"join": frozenset({"finance_review->join"})},
    activations={
        "t2": Activation("t2", "legal_review", "single", ("carol",), 1, True),
        "t3": Activation(
            "t3", "finance_review", "vote", ("frank", "fiona", "fred"), 2, False, (), ("fred",)
        ),
    },
    passed=("branch_review",),
)


def test_dump_is_compact_and_versioned() -> None:
    assert dump_state(RUNNING) == {
        "v": 2,
        "status": "running",
        "starter": "alice",
        "nodes": {
            "t2": "legal_review",  # a single approver's undecided node: its task says who
            "t3": ["finance_review", "vote", ["frank", "fiona", "fred"], 2, 0, [], ["fred"]],
        },
        "tasks": {"t2": ["t2", ["carol"]], "t3": ["t3", ["frank"]], "t4": ["t3", ["fiona"]]},
        "joins": {"join": ["finance_review->join"]},
        "passed": ["branch_review"],
    }
    assert STATE_VERSION == 2


def test_a_single_approver_node_whose_task_changed_hands_is_written_in_full() -> None:
    moved = InstanceState(
        "running",
        "alice",
        {"t5": OpenTask("t5", "review", ("dave",), "t5")},
        activations={"t5": Activation("t5", "review", "single", ("bob",), 1, True)},
    )
    assert dump_state(moved)["nodes"] == {"t5": ["review", "single", ["bob"], 1, 1, [], []]}
    assert load_state(json.loads(json.dumps(dump_state(moved)))) == moved


def test_round_trip_through_json_keeps_task_order() -> None:
    loaded = load_state(json.loads(json.dumps(dump_state(RUNNING))))
    assert loaded == RUNNING
    assert [task.task_id for task in open_tasks(loaded)] == ["t2", "t3", "t4"]
    assert [task.node_id for task in open_tasks(loaded)] == [
        "legal_review",
        "finance_review",
        "finance_review",
    ]


def test_finished_state_is_tiny() -> None:
    finished = InstanceState("approved", "alice")
    data = dump_state(finished)
    assert data == {"v": 2, "status": "approved", "starter": "alice"}
    assert len(json.dumps(data, separators=(",", ":"))) < 50
    assert load_state(data) == finished


def test_open_tasks_before_the_start() -> None:
    assert open_tasks(None) == ()


def test_older_versions_are_upgraded(monkeypatch: pytest.MonkeyPatch) -> None:
    def from_v0(old: dict[str, object]) -> dict[str, object]:
        # pretend version 0 called it "state"/"applicant" and kept tasks as a list
        tasks = old["open"]
        assert isinstance(tasks, list)
        return {
            "status": {"open": "running", "done": "approved"}[str(old["state"])],
            "starter": old["applicant"],
            "tasks": {task["id"]: [task["node"], task["who"]] for task in tasks},
        }

    monkeypatch.setitem(UPGRADES, 0, from_v0)
    v0 = {
        "v": 0,
        "state": "open",
        "applicant": "alice",
        "open": [{"id": "t1", "node": "review", "who": ["bob"]}],
    }
    state = load_state(v0)
    assert state == InstanceState(
        "running",
        "alice",
        {"t1": OpenTask("t1", "review", ("bob",), "t1")},
        activations={"t1": Activation("t1", "review", "single", ("bob",), 1, True)},
    )
    assert dump_state(state)["v"] == 2
    assert v0["state"] == "open"  # the caller's document is left alone
    # a document from before versions existed counts as version 0
    assert load_state({"state": "done", "applicant": "alice", "open": []}).status == "approved"


def test_missing_upgrade() -> None:
    with pytest.raises(StateInvalid) as caught:
        load_state({"v": 0, "status": "running", "starter": "alice"})
    assert caught.value.code == "state_invalid"
    assert caught.value.status == 500


def test_newer_version_is_refused() -> None:
    with pytest.raises(StateInvalid, match="newer"):
        load_state({"v": STATE_VERSION + 1, "status": "running", "starter": "alice"})


@pytest.mark.parametrize(
    "data",
    [
        {"v": "1", "status": "running", "starter": "alice"},
        {"v": 1, "starter": "alice"},
        {"v": 1, "status": "paused", "starter": "alice"},
        {"v": 1, "status": "running", "starter": 7},
        {"v": 1, "status": "running", "starter": "alice", "tasks": {"t1": ["review"]}},
        {"v": 1, "status": "running", "starter": "alice", "tasks": ["t1"]},
        {"v": 1, "status": "running", "starter": "alice", "joins": {"j": 5}},
        {"v": 2, "status": "running", "starter": "alice", "tasks": {"t1": ["a1", ["bob"]]}},
        {
            "v": 2,
            "status": "running",
            "starter": "alice",
            "nodes": {"a1": ["n", "x", [], 1, 1, [], []]},
        },
        {
            "v": 2,
            "status": "running",
            "starter": "alice",
            "nodes": {"a1": ["n", "all", [7], 1, 1, [], []]},
        },
        {"v": 2, "status": "running", "starter": "alice", "nodes": {"a1": ["n", "all", [], 1, 1]}},
        {"v": 2, "status": "running", "starter": "alice", "passed": "n"},
    ],
)
def test_malformed_documents(data: dict[str, object]) -> None:
    with pytest.raises(StateInvalid):
        load_state(data)


def test_a_running_state_built_as_a_tuple_is_the_named_tuple_with_every_field() -> None:
    built = running("ann", EMPTY, EMPTY, EMPTY, ("a",), True, EMPTY, EMPTY, None, EMPTY)
    assert type(built) is InstanceState
    assert len(built) == len(InstanceState._fields)  # a field added to the state is given here
    assert built == InstanceState("running", "ann", passed=("a",), acted=True)
    assert built.waits is EMPTY and built.status == "running"
