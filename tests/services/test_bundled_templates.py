"""Every app template the demo bank publishes files and finishes a ticket through the
services, on SQLite and PostgreSQL, with the demo org's people, roles and job levels;
the stored steps replay to the stored state."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from loan_desk import Desk, loan_values
from replay_history import replay
from sqlalchemy import select

from flowdesk.engines.process import dump_state
from flowdesk.services import apps, demo, tickets
from flowdesk.store.tables import Ticket


def _contract(amount: str) -> dict[str, object]:
    return {
        "contract_title": "营业网点装修工程合同",
        "counterparty": "北京某装饰工程有限公司",
        "contract_type": "service",
        "amount": amount,
        "term_months": 12,
        "key_terms": "分期付款，质保金 5%",
    }


def _claim(amount: str) -> dict[str, object]:
    return {
        "expense_type": "travel",
        "amount": amount,
        "expense_date": "2026-11-20",
        "invoice_count": 3,
        "description": "上海分行业务培训差旅",
    }


def _file(desk: Desk, app_key: str, who: str, values: dict[str, object]) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors[who], app_key=app_key, values=values
    ).ticket_id


def _holders(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    """(node, username) of every open task's holders, in the order the tasks opened."""
    usernames = {actor.user_id: name for name, actor in desk.actors.items()}
    return [
        (task.node_id, usernames[person.id])
        for task in desk.view(ticket_id).open_tasks
        for person in task.assignees
    ]


def _by_id(desk: Desk, *people: str) -> list[str]:
    """A role's people in the order a step lists them (by user id)."""
    return sorted(people, key=lambda who: desk.actors[who].user_id)


def _approve(desk: Desk, ticket_id: str, who: str) -> str:
    user_id = desk.actors[who].user_id
    (task_id,) = [
        t.id
        for t in desk.view(ticket_id).open_tasks
        if any(person.id == user_id for person in t.assignees)
    ]
    return tickets.approve(desk.ctx, actor=desk.actors[who], task_id=task_id).status


def _finish(desk: Desk, ticket_id: str, steps: list[tuple[str, list[str]]]) -> None:
    """Each (node, people) in turn: exactly those people hold the open tasks, and each of
    them approves (a 或签 needs only the first: the others' tasks close)."""
    for node, people in steps:
        assert _holders(desk, ticket_id) == [(node, who) for who in people]
        for who in people:
            status = _approve(desk, ticket_id, who)
            if desk.view(ticket_id).status != "running" or not any(
                t.node_id == node for t in desk.view(ticket_id).open_tasks
            ):
                break
    assert status == "approved"
    assert desk.view(ticket_id).open_tasks == ()
    with desk.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert dump_state(replay(desk.ctx, ticket_id)) == stored


def _loan(desk: Desk) -> None:
    ticket_id = _file(desk, "loan", "zhang.wei", loan_values("30000.00"))
    disbursement = _by_id(desk, "qian.yu", "zhao.lei")  # one shared task
    _finish(desk, ticket_id, [("branch_review", ["li.na"]), ("disburse", disbursement)])


def _large_contract_by_staff(desk: Desk) -> None:
    ticket_id = _file(desk, "contract_review", "zhang.wei", _contract("500000.00"))  # P6
    reviewers = _by_id(desk, "xu.ming", "fu.qiang")
    _finish(
        desk,
        ticket_id,
        [
            ("department_review", ["li.na"]),
            ("legal_review", reviewers),  # 会签: both must approve
            ("deputy_approval", ["xiao.yun"]),  # above a P6's authority of 300,000
        ],
    )


def _contract_by_a_head(desk: Desk) -> None:
    # li.na heads the Beijing branch (M3): nobody else heads it, so the department review
    # is skipped, and 500,000 is within a head's authority: no deputy head
    ticket_id = _file(desk, "contract_review", "li.na", _contract("500000.00"))
    reviewers = _by_id(desk, "xu.ming", "fu.qiang")
    _finish(desk, ticket_id, [("legal_review", reviewers)])
    skipped = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert [(e.node_id, e.data and e.data["reason"]) for e in skipped] == [
        ("department_review", "no_assignee")
    ]


def _small_claim(desk: Desk) -> None:
    ticket_id = _file(desk, "reimbursement", "zhang.wei", _claim("800.00"))
    finance = _by_id(desk, "liu.yang", "ma.li")
    _finish(desk, ticket_id, [("finance_review", finance)])  # 或签: the first decides
    skipped = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert [
        (e.node_id, e.data and e.data["reason"], e.data and e.data["condition"]) for e in skipped
    ] == [("manager_approval", "auto_approved", "amount <= 1000")]


def _large_claim(desk: Desk) -> None:
    ticket_id = _file(desk, "reimbursement", "zhang.wei", _claim("25000.00"))
    finance = _by_id(desk, "liu.yang", "ma.li")
    _finish(
        desk,
        ticket_id,
        [
            ("manager_approval", ["li.na"]),
            ("finance_review", finance),
            ("finance_head_approval", ["gao.feng"]),
        ],
    )


DRIVERS: dict[str, list[Callable[[Desk], None]]] = {
    "loan": [_loan],
    "contract_review": [_large_contract_by_staff, _contract_by_a_head],
    "reimbursement": [_small_claim, _large_claim],
}
CASES = [(key, driver) for key, drivers in DRIVERS.items() for driver in drivers]


def test_the_demo_publishes_these_templates(desk: Desk) -> None:
    assert set(DRIVERS) <= set(demo.TEMPLATES)
    assert set(DRIVERS) <= {a.key for a in apps.list_apps(desk.ctx)}


@pytest.mark.parametrize(
    ("app_key", "driver"), CASES, ids=[driver.__name__.strip("_") for _, driver in CASES]
)
def test_a_ticket_is_filed_and_finished(
    desk: Desk, app_key: str, driver: Callable[[Desk], None]
) -> None:
    assert apps.current(desk.ctx, app_key).version == 1
    driver(desk)
