"""加签 and 减签 through the services, on SQLite and PostgreSQL (ADR 0020): the main edge
cases of APPROVALS.md (5, 6, 7, 9, 11, 14), what the timeline, the audit and the
notifications say, the refusals with their codes, and an add-sign racing another
approver's decision on an or-sign step."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import select
from test_concurrency import Racers

from approval_apps import CONTRACT_STEPS, REVIEWERS, line_app, yaml_of
from flowdesk.kernel.errors import Conflict, FlowdeskError, NotFound, ValidationFailed
from flowdesk.services import add_signs, apps, jobs, tickets, transfers
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification

RACE_ROUNDS = 10


@pytest.fixture
def contract(desk: Desk) -> Desk:
    """会签 of wang.fang, liu.yang, ma.li, then 或签 of chen.jing, yang.guang."""
    apps.publish_yaml(desk.ctx, yaml_of(line_app("contract", CONTRACT_STEPS, serial_prefix="HT")))
    return desk


def _submit(desk: Desk) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id


def _task(desk: Desk, ticket_id: str, who: str) -> str:
    user_id = desk.actors[who].user_id
    (task,) = [
        t for t in desk.view(ticket_id).open_tasks if any(p.id == user_id for p in t.assignees)
    ]
    return task.id


def _at_deputies(desk: Desk) -> str:
    ticket_id = _submit(desk)
    for who in REVIEWERS:
        tickets.approve(desk.ctx, actor=desk.actors[who], task_id=_task(desk, ticket_id, who))
    return ticket_id


def _add(desk: Desk, ticket_id: str, who: str, users: Any, position: str, **kw: Any) -> Any:
    return add_signs.add_signers(
        desk.ctx,
        actor=desk.actors[who],
        task_id=_task(desk, ticket_id, who),
        users=users,
        position=position,
        comment=kw.pop("comment", "请法务把关"),
        **kw,
    )


def _approve(desk: Desk, ticket_id: str, who: str, **kw: Any) -> tickets.StepOutcome:
    return tickets.approve(
        desk.ctx, actor=desk.actors[who], task_id=_task(desk, ticket_id, who), **kw
    )


def _states(desk: Desk, ticket_id: str, node_id: str) -> list[tuple[str, str]]:
    names = {a.user_id: n for n, a in desk.actors.items()}
    return [
        (names[t.assignees[0].id], t.state)
        for t in desk.view(ticket_id).tasks
        if t.node_id == node_id
    ]


def _audit(desk: Desk, action: str) -> list[dict[str, Any]]:
    with desk.ctx.db.read() as conn:
        return [e.details for e in audit_store.entries(conn) if e.action == action]


def _notified(desk: Desk, kind: str) -> list[str]:
    jobs.run_due(desk.ctx, owner="worker")
    names = {a.user_id: n for n, a in desk.actors.items()}
    table = Notification.__table__
    with desk.ctx.db.read() as conn:
        return sorted(
            names[u] for (u,) in conn.execute(select(table.c.user_id).where(table.c.kind == kind))
        )


def test_edge_5_and_7_before_the_holder_waits_and_the_node_count_stays(contract: Desk) -> None:
    desk = contract
    ticket_id = _submit(desk)
    wang = _task(desk, ticket_id, "wang.fang")
    outcome = _add(desk, ticket_id, "wang.fang", ["luo.xin"], "before")
    assert outcome.status == "running" and len(outcome.opened_task_ids) == 1
    view = desk.view(ticket_id)
    assert [t.waiting for t in view.open_tasks if t.id == wang] == [True]
    # edge 7: the waiting holder is refused, and nothing was written
    with pytest.raises(Conflict) as refused:
        tickets.approve(desk.ctx, actor=desk.actors["wang.fang"], task_id=wang)
    assert refused.value.code == "waiting_for_added_signers"
    # the timeline and the audit say who added whom, where, how and why
    [added] = [e for e in desk.view(ticket_id).timeline if e.kind == "task_add_sign"]
    assert added.actor is not None and added.actor.id == desk.actors["wang.fang"].user_id
    assert added.comment == "请法务把关"
    assert added.data == {
        "users": [desk.actors["luo.xin"].user_id],
        "position": "before",
        "mode": "all",
    }
    [audited] = _audit(desk, "task.add_sign")
    assert (audited["users"], audited["position"], audited["mode"], audited["reason"]) == (
        ["luo.xin"],
        "before",
        "all",
        "请法务把关",
    )
    assert "luo.xin" in _notified(desk, "task_assigned")
    # B and C approve, then the added signer: the node still waits for A (count 3)
    _approve(desk, ticket_id, "liu.yang")
    _approve(desk, ticket_id, "ma.li")
    _approve(desk, ticket_id, "luo.xin")
    assert not any(t.waiting for t in desk.view(ticket_id).open_tasks)
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["review"]
    _approve(desk, ticket_id, "wang.fang")
    assert {t.node_id for t in desk.view(ticket_id).open_tasks} == {"deputies"}


def test_edge_6_after_the_signers_approval_completes_the_holders_task(contract: Desk) -> None:
    """Two completions in one step (the signer's and the holder's held approval)."""
    desk = contract
    ticket_id = _at_deputies(desk)
    _add(desk, ticket_id, "chen.jing", ["song.jie"], "after", comment="同意，请宋杰复核")
    outcome = _approve(desk, ticket_id, "song.jie")
    assert outcome.status == "approved"
    assert sorted(_states(desk, ticket_id, "deputies")) == [
        ("chen.jing", "approved"),
        ("song.jie", "approved"),
        ("yang.guang", "cancelled"),
    ]
    chen = next(
        t
        for t in desk.view(ticket_id).tasks
        if t.completed_by
        and t.completed_by.id == desk.actors["chen.jing"].user_id
        and t.node_id == "deputies"
    )
    assert chen.comment == "同意，请宋杰复核"


def test_edge_6_after_a_signers_rejection_rejects_the_holders_task(contract: Desk) -> None:
    desk = contract
    ticket_id = _at_deputies(desk)
    _add(desk, ticket_id, "chen.jing", ["song.jie"], "after")
    outcome = tickets.reject(
        desk.ctx,
        actor=desk.actors["song.jie"],
        task_id=_task(desk, ticket_id, "song.jie"),
        comment="风险过高",
    )
    assert outcome.status == "rejected"
    assert sorted(_states(desk, ticket_id, "deputies")) == [
        ("chen.jing", "rejected"),
        ("song.jie", "rejected"),
        ("yang.guang", "cancelled"),
    ]
    [closed] = [e for e in desk.view(ticket_id).timeline if e.kind == "task_rejected" and e.data]
    assert closed.data == {
        "reason": "added_signer_rejected",
        "decided_by": desk.actors["song.jie"].user_id,
    }


def test_edge_14_an_or_sign_decided_by_another_cancels_the_chain(contract: Desk) -> None:
    desk = contract
    ticket_id = _at_deputies(desk)
    _add(desk, ticket_id, "chen.jing", ["song.jie"], "before")
    _approve(desk, ticket_id, "yang.guang")
    assert sorted(_states(desk, ticket_id, "deputies")) == [
        ("chen.jing", "cancelled"),
        ("song.jie", "cancelled"),
        ("yang.guang", "approved"),
    ]
    assert desk.view(ticket_id).status == "approved"


def test_edge_11_removing_the_signers_frees_the_waiting_task(contract: Desk) -> None:
    desk = contract
    ticket_id = _at_deputies(desk)
    chen = _task(desk, ticket_id, "chen.jing")
    _add(desk, ticket_id, "chen.jing", "luo.xin, song.jie", "before")
    add_signs.remove_signers(
        desk.ctx,
        actor=desk.actors["chen.jing"],
        task_id=chen,
        users=["luo.xin"],
        comment="不需要了",
    )
    assert [t.waiting for t in desk.view(ticket_id).open_tasks if t.id == chen] == [True]
    add_signs.remove_signers(
        desk.ctx, actor=desk.actors["chen.jing"], task_id=chen, users=["song.jie"]
    )
    assert [t.waiting for t in desk.view(ticket_id).open_tasks if t.id == chen] == [False]
    assert ("luo.xin", "cancelled") in _states(desk, ticket_id, "deputies")
    assert [a["users"] for a in _audit(desk, "task.remove_signer")] == [["luo.xin"], ["song.jie"]]
    removed = [e for e in desk.view(ticket_id).timeline if e.kind == "task_remove_signer"]
    assert [e.comment for e in removed] == ["不需要了", None]
    _approve(desk, ticket_id, "chen.jing")
    assert desk.view(ticket_id).status == "approved"


@pytest.mark.parametrize(
    ("users", "position", "error", "code"),
    [
        (["nobody.here"], "before", ValidationFailed, "unknown_user"),
        (["liu.yang"], "before", Conflict, "add_sign_already_holder"),  # edge 9
        (["wang.fang"], "before", ValidationFailed, "add_sign_self"),
        ([], "before", ValidationFailed, "add_signers_required"),
        (["luo.xin"], "sideways", ValidationFailed, "invalid_add_sign_position"),
    ],
)
def test_refusals_write_nothing(
    contract: Desk, users: list[str], position: str, error: type[FlowdeskError], code: str
) -> None:
    desk = contract
    ticket_id = _submit(desk)
    with pytest.raises(error) as refused:
        _add(desk, ticket_id, "wang.fang", users, position)
    assert refused.value.code == code
    assert not any(e.kind == "task_add_sign" for e in desk.view(ticket_id).timeline)
    assert _audit(desk, "task.add_sign") == []


def test_edge_8_and_strangers(contract: Desk) -> None:
    desk = contract
    ticket_id = _submit(desk)
    wang = _task(desk, ticket_id, "wang.fang")
    with pytest.raises(NotFound):  # ids reveal nothing to who may not read the ticket
        add_signs.add_signers(
            desk.ctx,
            actor=desk.actors["song.jie"],
            task_id=wang,
            users=["luo.xin"],
            position="before",
        )
    _add(desk, ticket_id, "wang.fang", ["luo.xin"], "before")
    with pytest.raises(Conflict) as refused:
        _add(desk, ticket_id, "luo.xin", ["song.jie"], "before")
    assert refused.value.code == "add_sign_too_deep"
    desk.ctx.add_sign_depth = 2
    _add(desk, ticket_id, "luo.xin", ["song.jie"], "after")
    _approve(desk, ticket_id, "song.jie")
    assert [t.waiting for t in desk.view(ticket_id).open_tasks if t.id == wang] == [False]


def test_an_add_sign_racing_an_or_sign_decision_leaves_no_orphan(contract: Desk) -> None:
    """chen.jing adds song.jie before while yang.guang approves: whichever goes first, the
    ticket ends approved with no task left open (an add-sign that lost is 409)."""
    desk = contract
    race = Racers(2)
    for _ in range(RACE_ROUNDS):
        ticket_id = _at_deputies(desk)
        chen, yang = _task(desk, ticket_id, "chen.jing"), _task(desk, ticket_id, "yang.guang")
        results = race.race(
            [
                partial(
                    add_signs.add_signers,
                    desk.ctx,
                    actor=desk.actors["chen.jing"],
                    task_id=chen,
                    users=["song.jie"],
                    position="before",
                ),
                partial(tickets.approve, desk.ctx, actor=desk.actors["yang.guang"], task_id=yang),
            ]
        )
        assert isinstance(results[1], tickets.StepOutcome), results
        if not isinstance(results[0], tickets.StepOutcome):
            assert isinstance(results[0], Conflict) and results[0].code == "task_not_open"
        view = desk.view(ticket_id)
        assert view.status == "approved" and view.open_tasks == ()
        states = dict(_states(desk, ticket_id, "deputies"))
        assert (
            states["chen.jing"] == "cancelled"
            and states.get("song.jie", "cancelled") == "cancelled"
        )


def test_edge_10_a_signer_transfers_their_task_and_the_new_holder_takes_their_place(
    contract: Desk,
) -> None:
    desk = contract
    ticket_id = _at_deputies(desk)
    chen = _task(desk, ticket_id, "chen.jing")
    _add(desk, ticket_id, "chen.jing", ["song.jie"], "before")
    transfers.transfer(
        desk.ctx,
        actor=desk.actors["song.jie"],
        task_id=_task(desk, ticket_id, "song.jie"),
        to="luo.xin",
        comment="请罗欣处理",
    )
    assert [t.waiting for t in desk.view(ticket_id).open_tasks if t.id == chen] == [True]
    _approve(desk, ticket_id, "luo.xin")  # the new holder's approval frees the parent
    assert [t.waiting for t in desk.view(ticket_id).open_tasks if t.id == chen] == [False]
    # the waiting parent itself cannot be handed on (edge case 7) …
    _add(desk, ticket_id, "chen.jing", ["song.jie"], "before")
    with pytest.raises(Conflict) as refused:
        transfers.transfer(desk.ctx, actor=desk.actors["chen.jing"], task_id=chen, to="luo.xin")
    assert refused.value.code == "waiting_for_added_signers"
    # … and an administrator's hand-over leaves it where it is, reported
    handed = transfers.hand_over(
        desk.ctx, actor=desk.actors["admin"], username="chen.jing", to="luo.xin"
    )
    assert handed.left == ((chen, "waiting_for_added_signers"),)


def test_alongside_an_early_approval_is_held_and_in_the_timeline(contract: Desk) -> None:
    desk = contract
    ticket_id = _submit(desk)
    wang = _task(desk, ticket_id, "wang.fang")
    _add(desk, ticket_id, "wang.fang", ["luo.xin"], "parallel")
    _approve(desk, ticket_id, "wang.fang", comment="我同意，等罗欣意见")
    [held] = [e for e in desk.view(ticket_id).timeline if e.kind == "task_approval_held"]
    assert (held.task_id, held.comment) == (wang, "我同意，等罗欣意见")
    assert [t.waiting for t in desk.view(ticket_id).open_tasks if t.id == wang] == [True]
    _approve(desk, ticket_id, "luo.xin")
    assert ("wang.fang", "approved") in _states(desk, ticket_id, "review")
