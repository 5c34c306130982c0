"""Replay: what the services stored is what the pure engine computes, on both databases.

Real tickets are driven through the services (approvals, 退回 and resubmit, 会签 with
加签, 转交, an approver's 撤回, the applicant's 撤回, a rejection), then the commands of
their stored steps (audit entry + timeline row, replay_history.py) are re-run through
`step` from the start; the state replayed must equal the state stored, exactly. A
ticket whose state was stored as version 1 replays from that document, upgraded as the
service upgrades it, to the same state too.
"""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk, loan_values
from replay_history import read_history, replay
from sqlalchemy import select, update

from approval_apps import CONTRACT_STEPS, REVIEWERS, line_app, yaml_of
from flowdesk.engines.process import dump_state, load_state
from flowdesk.services import add_signs, apps, task_returns, tickets, transfers, withdrawals
from flowdesk.store.tables import Ticket


def _stored(desk: Desk, ticket_id: str) -> dict[str, Any]:
    with desk.ctx.db.read() as conn:
        state = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert isinstance(state, dict)
    return state


def _assert_replays(desk: Desk, ticket_id: str) -> None:
    stored = _stored(desk, ticket_id)
    replayed = replay(desk.ctx, ticket_id)
    assert dump_state(replayed) == stored
    assert replayed == load_state(stored)


def _task_of(desk: Desk, ticket_id: str, who: str, node_id: str | None = None) -> str:
    user_id = desk.actors[who].user_id
    (task,) = [
        t
        for t in desk.view(ticket_id).open_tasks
        if any(p.id == user_id for p in t.assignees) and node_id in (None, t.node_id)
    ]
    return task.id


def _approve(desk: Desk, ticket_id: str, who: str, comment: str = "") -> str:
    return tickets.approve(
        desk.ctx,
        actor=desk.actors[who],
        task_id=_task_of(desk, ticket_id, who),
        comment=comment,
    ).status


@pytest.fixture
def contract(desk: Desk) -> Desk:
    definition = line_app("contract", CONTRACT_STEPS, serial_prefix="HT")
    apps.publish_yaml(desk.ctx, yaml_of(definition))
    return desk


def _file_contract(desk: Desk) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id


def test_a_large_loan_returned_and_resubmitted_replays_to_its_stored_state(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review", "合规")
    _assert_replays(desk, ticket_id)  # mid-way, waiting at the parallel join
    desk.approve("liu.yang", ticket_id, "finance_review")
    task_returns.return_task(
        desk.ctx,
        actor=desk.actors["yang.guang"],
        task_id=desk.task(ticket_id, "committee").id,
        target="applicant",
        comment="请补充抵押材料",
    )
    task_returns.resubmit(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    desk.approve("wang.fang", ticket_id, "legal_review")
    desk.approve("ma.li", ticket_id, "finance_review")
    desk.approve("chen.jing", ticket_id, "committee")
    assert desk.approve("zhao.lei", ticket_id, "disburse").status == "approved"
    history = read_history(desk.ctx, ticket_id)
    assert [s.action for s in history.steps] == [
        "ticket.submit",
        "task.approve",
        "task.approve",
        "task.return",
        "ticket.resubmit",
        "task.approve",
        "task.approve",
        "task.approve",
        "task.approve",
    ]
    _assert_replays(desk, ticket_id)


def test_a_small_loan_rejected_replays(desk: Desk) -> None:
    ticket_id = desk.submit("30000.00")
    assert desk.reject("li.na", ticket_id, "branch_review", "收入证明不足").status == "rejected"
    _assert_replays(desk, ticket_id)


def test_countersign_with_add_sign_transfer_and_withdrawals_replays(contract: Desk) -> None:
    desk = contract
    ticket_id = _file_contract(desk)
    withdrawals.withdraw_ticket(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    task_returns.resubmit(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    first, second, third = REVIEWERS
    add_signs.add_signers(
        desk.ctx,
        actor=desk.actors[first],
        task_id=_task_of(desk, ticket_id, first),
        users=["he.jia"],
        position="before",
        comment="请先核对条款",
    )
    _assert_replays(desk, ticket_id)  # the add-sign chain in the state, too
    _approve(desk, ticket_id, "he.jia")
    _approve(desk, ticket_id, first, "同意")
    transfers.transfer(
        desk.ctx,
        actor=desk.actors[second],
        task_id=_task_of(desk, ticket_id, second),
        to="gao.feng",
        comment="出差，转交",
    )
    _approve(desk, ticket_id, "gao.feng")
    _approve(desk, ticket_id, third)  # the last 会签 approval opens the 或签
    third_id = desk.actors[third].user_id
    review_task = next(
        t.id
        for t in desk.view(ticket_id).tasks
        if t.state == "approved" and t.completed_by is not None and t.completed_by.id == third_id
    )
    withdrawals.retract_decision(desk.ctx, actor=desk.actors[third], task_id=review_task)
    _approve(desk, ticket_id, third)
    _assert_replays(desk, ticket_id)
    status = tickets.reject(
        desk.ctx,
        actor=desk.actors["chen.jing"],
        task_id=_task_of(desk, ticket_id, "chen.jing"),
        comment="金额超出授权",
    ).status
    assert status == "rejected"
    actions = [s.action for s in read_history(desk.ctx, ticket_id).steps]
    assert {"ticket.withdraw", "task.add_sign", "task.transfer", "task.withdraw"} <= set(actions)
    _assert_replays(desk, ticket_id)


def test_a_cancelled_ticket_replays(contract: Desk) -> None:
    ticket_id = _file_contract(contract)
    _approve(contract, ticket_id, REVIEWERS[0])
    withdrawals.cancel_ticket(contract.ctx, actor=contract.actors["zhang.wei"], ticket_id=ticket_id)
    _assert_replays(contract, ticket_id)


def _as_version_1(state: dict[str, Any]) -> dict[str, Any]:
    """What the version-1 engine stored for the same position (test_state_upgrade.py)."""
    nodes = {
        key: entry if isinstance(entry, str) else entry[0]
        for key, entry in state.get("nodes", {}).items()
    }
    v1: dict[str, Any] = {"v": 1, "status": state["status"], "starter": state["starter"]}
    if state.get("tasks"):
        v1["tasks"] = {
            task_id: [nodes[activation_id], assignees]
            for task_id, (activation_id, assignees) in state["tasks"].items()
        }
    if state.get("joins"):
        v1["joins"] = state["joins"]
    return v1


def test_a_ticket_upgraded_from_version_1_replays_from_its_v1_document(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    v1 = _as_version_1(_stored(desk, ticket_id))
    with desk.ctx.db.write() as conn:
        conn.execute(update(Ticket).where(Ticket.id == ticket_id).values(state=v1))
    upgraded_at = read_history(desk.ctx, ticket_id).version

    desk.approve("liu.yang", ticket_id, "finance_review")
    desk.approve("yang.guang", ticket_id, "committee")
    assert desk.approve("zhao.lei", ticket_id, "disburse").status == "approved"
    stored = _stored(desk, ticket_id)
    assert stored["v"] == 2
    replayed = replay(desk.ctx, ticket_id, from_state=v1, from_version=upgraded_at)
    assert dump_state(replayed) == stored


def test_from_the_start_a_v1_ticket_replays_to_what_v1_never_kept(desk: Desk) -> None:
    """The version-1 document did not keep the nodes passed, so its upgrade cannot know
    them (ADR 0015); the replay from the start does, and differs from the stored state
    in exactly that."""
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    v1 = _as_version_1(_stored(desk, ticket_id))
    with desk.ctx.db.write() as conn:
        conn.execute(update(Ticket).where(Ticket.id == ticket_id).values(state=v1))
    desk.approve("liu.yang", ticket_id, "finance_review")
    stored = load_state(_stored(desk, ticket_id))
    replayed = replay(desk.ctx, ticket_id)
    assert replayed._replace(passed=stored.passed) == stored
    assert replayed.passed == ("legal_review", "finance_review")
    assert stored.passed == ("finance_review",)
