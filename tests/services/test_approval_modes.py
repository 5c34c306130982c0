"""会签 and 或签 end to end through the services, on SQLite and PostgreSQL.

A contract review (issue 8's `contract_review` shape): 会签 of legal, risk and finance,
then 或签 of two deputy heads. Each approver holds their own task in their 待办; a
task closed by someone else's decision is cancelled, never in its holder's 已办
(yudao #939), and the timeline says whose decision closed it. Concurrent decisions
are decided by the ticket's version: on 会签 both count exactly once, on 或签 exactly
one wins and the other gets 409.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from loan_desk import Desk, loan_values

from approval_apps import CONTRACT_STEPS, DEPUTIES, REVIEWERS, line_app, yaml_of
from flowdesk.kernel.errors import Conflict, DefinitionInvalid, FlowdeskError
from flowdesk.services import apps, tickets, views
from flowdesk.services.list_query import parse_list_query

RACE_ROUNDS = 25


def _contract_app() -> str:
    return yaml_of(
        line_app(
            "contract",
            CONTRACT_STEPS,
            name={"en": "Contract review", "zh": "合同审查"},
            serial_prefix="HT",
        )
    )


@pytest.fixture
def contract(desk: Desk) -> Desk:
    apps.publish_yaml(desk.ctx, _contract_app())
    return desk


def _submit(desk: Desk) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id


def _task_of(desk: Desk, ticket_id: str, who: str) -> str:
    user_id = desk.actors[who].user_id
    (task,) = [
        t for t in desk.view(ticket_id).open_tasks if any(p.id == user_id for p in t.assignees)
    ]
    return task.id


def _listed(desk: Desk, who: str, *, done: bool) -> list[str]:
    page = views.task_list(
        desk.ctx, desk.actors[who], parse_list_query({}, default_limit=100), done=done
    )
    return [task.id for task in page.items]


def test_countersign_then_or_sign(contract: Desk) -> None:
    desk = contract
    ticket_id = _submit(desk)
    view = desk.view(ticket_id)
    assert [(t.node_id, [p.id for p in t.assignees]) for t in view.open_tasks] == [
        ("review", [desk.actors[who].user_id]) for who in REVIEWERS
    ]
    for who in REVIEWERS:  # each holds their own task in their 待办
        assert _listed(desk, who, done=False) == [_task_of(desk, ticket_id, who)]

    for who in ("ma.li", "wang.fang"):
        step = tickets.approve(
            desk.ctx, actor=desk.actors[who], task_id=_task_of(desk, ticket_id, who)
        )
        assert step.opened_task_ids == ()  # 会签 waits for the last approval
    last = tickets.approve(
        desk.ctx, actor=desk.actors["liu.yang"], task_id=_task_of(desk, ticket_id, "liu.yang")
    )
    assert len(last.opened_task_ids) == 2
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["deputies", "deputies"]

    loser_task = _task_of(desk, ticket_id, "chen.jing")
    winner = tickets.approve(
        desk.ctx,
        actor=desk.actors["yang.guang"],
        task_id=_task_of(desk, ticket_id, "yang.guang"),
        comment="同意",
    )
    assert winner.status == "approved"
    with pytest.raises(Conflict) as caught:
        tickets.approve(desk.ctx, actor=desk.actors["chen.jing"], task_id=loser_task)
    assert caught.value.code == "task_not_open" and caught.value.status == 409

    view = desk.view(ticket_id)
    assert [(t.node_id, t.state) for t in view.tasks] == [
        ("review", "approved"),
        ("review", "approved"),
        ("review", "approved"),
        ("deputies", "cancelled"),
        ("deputies", "approved"),
    ]
    cancelled = view.tasks[3]
    assert cancelled.id == loser_task and cancelled.completed_by is None
    # closed by the other deputy's decision: not in the holder's 已办, nor in their 待办
    assert loser_task not in _listed(desk, "chen.jing", done=True)
    assert _listed(desk, "chen.jing", done=False) == []
    (closed,) = [e for e in view.timeline if e.kind == "task_cancelled"]
    assert closed.task_id == loser_task and closed.actor is None
    assert closed.data == {
        "reason": "node_decided",
        "decided_by": desk.actors["yang.guang"].user_id,
    }
    decided = [(e.node_id, e.data) for e in view.timeline if e.kind == "node_decided"]
    assert decided == [
        (
            "review",
            {
                "mode": "all",
                "outcome": "approved",
                "approved": 3,
                "rejected": 0,
                "required": 3,
                "approvers": 3,
            },
        ),
        (
            "deputies",
            {
                "mode": "any",
                "outcome": "approved",
                "approved": 1,
                "rejected": 0,
                "required": 1,
                "approvers": 2,
            },
        ),
    ]


def test_a_countersign_rejection_cancels_the_others_edge_1(contract: Desk) -> None:
    desk = contract
    ticket_id = _submit(desk)
    tickets.approve(
        desk.ctx, actor=desk.actors["ma.li"], task_id=_task_of(desk, ticket_id, "ma.li")
    )
    step = tickets.reject(
        desk.ctx,
        actor=desk.actors["wang.fang"],
        task_id=_task_of(desk, ticket_id, "wang.fang"),
        comment="条款有误",
    )
    assert step.status == "rejected"
    view = desk.view(ticket_id)
    # in the listed order: wang.fang rejected, liu.yang's task closed by it, ma.li approved
    assert [t.state for t in view.tasks] == ["rejected", "cancelled", "approved"]
    assert view.open_tasks == ()
    assert _listed(desk, "liu.yang", done=True) == []


class _Race:
    """Two threads released together by a barrier; results or the errors they raised."""

    def __init__(self) -> None:
        self._barrier = threading.Barrier(2)

    def run(self, calls: list[Callable[[], Any]]) -> list[Any]:
        results: list[Any] = [None, None]

        def go(i: int) -> None:
            self._barrier.wait()
            try:
                results[i] = calls[i]()
            except FlowdeskError as exc:
                results[i] = exc

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results


def _decision(
    desk: Desk, decide: Callable[..., tickets.StepOutcome], who: str, task_id: str
) -> Callable[[], tickets.StepOutcome]:
    return lambda: decide(desk.ctx, actor=desk.actors[who], task_id=task_id, comment="意见")


def test_two_simultaneous_countersign_approvals_both_count(contract: Desk) -> None:
    desk = contract
    race = _Race()
    for _ in range(RACE_ROUNDS):
        ticket_id = _submit(desk)
        tickets.approve(
            desk.ctx, actor=desk.actors["ma.li"], task_id=_task_of(desk, ticket_id, "ma.li")
        )
        calls = [
            _decision(desk, tickets.approve, who, _task_of(desk, ticket_id, who))
            for who in ("wang.fang", "liu.yang")
        ]
        results = race.run(calls)
        assert all(isinstance(r, tickets.StepOutcome) for r in results), results
        view = desk.view(ticket_id)
        assert [t.state for t in view.tasks if t.node_id == "review"] == ["approved"] * 3
        # the last of the two opened the deputies' tasks, exactly once
        assert [t.node_id for t in view.open_tasks] == ["deputies", "deputies"]
        assert sum(len(r.opened_task_ids) for r in results) == 2


def test_two_simultaneous_or_sign_decisions_one_wins_the_other_409(contract: Desk) -> None:
    desk = contract
    race = _Race()
    for round_no in range(RACE_ROUNDS):
        ticket_id = _submit(desk)
        for who in REVIEWERS:
            tickets.approve(
                desk.ctx, actor=desk.actors[who], task_id=_task_of(desk, ticket_id, who)
            )
        decide = tickets.approve if round_no % 2 else tickets.reject
        calls = [_decision(desk, decide, who, _task_of(desk, ticket_id, who)) for who in DEPUTIES]
        results = race.run(calls)
        won = [r for r in results if isinstance(r, tickets.StepOutcome)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].status == 409 and lost[0].code == "task_not_open"
        view = desk.view(ticket_id)
        assert view.status == ("approved" if round_no % 2 else "rejected")
        assert sorted(t.state for t in view.tasks if t.node_id == "deputies") == sorted(
            ["cancelled", "approved" if round_no % 2 else "rejected"]
        )
        assert view.open_tasks == ()


def test_a_bad_approval_setting_is_refused_at_publish_with_its_path(desk: Desk) -> None:
    definition = yaml.safe_load(_contract_app())
    definition["process"]["nodes"][1]["approval"] = {"mode": "vote", "pass_percent": 150}
    definition["process"]["nodes"][2]["approval"] = {"mode": "majority"}
    with pytest.raises(DefinitionInvalid) as caught:
        apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    assert caught.value.status == 422
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("process.nodes[1].approval.pass_percent", "invalid_pass_percent"),
        ("process.nodes[2].approval.mode", "unknown_approval_mode"),
    ]
    assert [a.key for a in apps.list_apps(desk.ctx)] == ["complaint", "loan"]  # nothing published
