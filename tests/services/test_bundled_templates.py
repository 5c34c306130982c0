"""Every app template the demo bank publishes files and finishes a ticket through the
services, on SQLite and PostgreSQL, with the demo org's people, roles and job levels;
the stored steps replay to the stored state."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from loan_desk import Desk, loan_values
from replay_history import replay
from sqlalchemy import select

from account_opening_values import opening_values
from file_samples import PDF
from flowdesk.engines.process import dump_state
from flowdesk.services import (
    add_signs,
    apps,
    attachments,
    audit,
    demo,
    links,
    task_returns,
    tickets,
    transfers,
)
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


def _claim(amount: str, expense_type: str = "travel") -> dict[str, object]:
    return {
        "expense_type": expense_type,
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


def _task_of(desk: Desk, ticket_id: str, who: str) -> str:
    user_id = desk.actors[who].user_id
    (task_id,) = [
        t.id
        for t in desk.view(ticket_id).open_tasks
        if any(person.id == user_id for person in t.assignees)
    ]
    return task_id


def _approve(desk: Desk, ticket_id: str, who: str) -> str:
    task_id = _task_of(desk, ticket_id, who)
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
    _assert_finished(desk, ticket_id)


def _assert_finished(desk: Desk, ticket_id: str) -> None:
    """Approved with no task left open, and the stored steps replay to the stored state."""
    assert desk.view(ticket_id).status == "approved"
    assert desk.view(ticket_id).open_tasks == ()
    with desk.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert dump_state(replay(desk.ctx, ticket_id)) == stored


def _loan(desk: Desk) -> None:
    ticket_id = _file(desk, "loan", "zhang.wei", loan_values("30000.00"))
    disbursement = _by_id(desk, "qian.yu", "zhao.lei")  # one shared task
    _finish(desk, ticket_id, [("branch_review", ["li.na"]), ("disburse", disbursement)])


REVIEWERS = ("xu.ming", "liu.yang", "hu.bin")  # Legal, Planning & Finance, Risk
DEPUTIES = ("xiao.yun", "tian.ye")


def _contract_by_staff(desk: Desk) -> None:
    ticket_id = _file(desk, "contract_review", "zhang.wei", _contract("500000.00"))
    _finish(
        desk,
        ticket_id,
        [
            ("joint_review", _by_id(desk, *REVIEWERS)),  # 会签: all three must approve
            ("deputy_approval", _by_id(desk, *DEPUTIES)),  # 或签: the first decides
        ],
    )
    (closed,) = [e for e in desk.view(ticket_id).timeline if e.kind == "task_cancelled"]
    assert closed.data == {
        "reason": "node_decided",
        "decided_by": desk.actors[_by_id(desk, *DEPUTIES)[0]].user_id,
    }


def _contract_by_a_head_the_same_way(desk: Desk) -> None:
    # no authority by job level any more: a branch head's contract takes the same steps
    ticket_id = _file(desk, "contract_review", "li.na", _contract("5000000.00"))
    _finish(
        desk,
        ticket_id,
        [
            ("joint_review", _by_id(desk, *REVIEWERS)),
            ("deputy_approval", _by_id(desk, *DEPUTIES)),
        ],
    )


def _contract_with_add_sign_transfer_and_return(desk: Desk) -> None:
    ticket_id = _file(desk, "contract_review", "zhang.wei", _contract("800000.00"))
    # 加签: the risk reviewer asks a colleague first, then decides himself
    add_signs.add_signers(
        desk.ctx,
        actor=desk.actors["hu.bin"],
        task_id=_task_of(desk, ticket_id, "hu.bin"),
        users=["guo.qing"],
        position="before",
        comment="请先核对担保条款",
    )
    assert _approve(desk, ticket_id, "guo.qing") == "running"
    assert _approve(desk, ticket_id, "hu.bin") == "running"
    # 转交: the legal reviewer hands his task to a colleague, who decides in his place
    transfers.transfer(
        desk.ctx,
        actor=desk.actors["xu.ming"],
        task_id=_task_of(desk, ticket_id, "xu.ming"),
        to="fu.qiang",
        comment="出差，请代为审查",
    )
    assert _approve(desk, ticket_id, "fu.qiang") == "running"
    assert _approve(desk, ticket_id, "liu.yang") == "running"
    # 退回 to the passed review, straight back to the deputy heads once it is done again
    deputy_task = _task_of(desk, ticket_id, "xiao.yun")
    options = task_returns.return_options(desk.ctx, desk.actors["xiao.yun"], deputy_task)
    assert [t.target for t in options.targets] == [task_returns.APPLICANT, "joint_review"]
    assert options.resubmit == "returner_chooses"
    task_returns.return_task(
        desk.ctx,
        actor=desk.actors["xiao.yun"],
        task_id=deputy_task,
        target="joint_review",
        comment="请补充违约责任条款的风险意见",
        resubmit="straight_back",
    )
    # fresh tasks for the reviewers the rule names now
    reviewers = _by_id(desk, *REVIEWERS)
    assert _holders(desk, ticket_id) == [("joint_review", who) for who in reviewers]
    for who in reviewers:
        _approve(desk, ticket_id, who)
    _finish(desk, ticket_id, [("deputy_approval", _by_id(desk, *DEPUTIES))])
    kinds = [e.kind for e in desk.view(ticket_id).timeline]
    for kind in ("task_add_sign", "task_transferred", "task_returned"):
        assert kind in kinds
    assert audit.verify(desk.ctx).ok


AUTOMATIC = (
    "expense_type == 'travel' and amount < 5000 and applicant.job_level in ('M3', 'M4', 'M5')"
)


def _managers_travel_claim_approved_automatically(desk: Desk) -> None:
    ticket_id = _file(desk, "reimbursement", "li.na", _claim("4800.00"))  # M3
    assert desk.view(ticket_id).open_tasks == ()
    skipped = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert [
        (e.node_id, e.data and e.data["reason"], e.data and e.data["condition"]) for e in skipped
    ] == [
        ("manager_approval", "auto_approved", AUTOMATIC),
        ("finance_review", "auto_approved", AUTOMATIC),
    ]
    _assert_finished(desk, ticket_id)


def _staff_travel_claim(desk: Desk) -> None:
    ticket_id = _file(desk, "reimbursement", "zhang.wei", _claim("800.00"))  # P6
    finance = _by_id(desk, "liu.yang", "ma.li")
    # the manager, then finance (或签: the first decides)
    _finish(desk, ticket_id, [("manager_approval", ["li.na"]), ("finance_review", finance)])


def _managers_large_travel_claim(desk: Desk) -> None:
    ticket_id = _file(desk, "reimbursement", "li.na", _claim("5000.00"))  # not under 5,000
    finance = _by_id(desk, "liu.yang", "ma.li")
    _finish(desk, ticket_id, [("manager_approval", ["zhou.hang"]), ("finance_review", finance)])


def _managers_other_claim(desk: Desk) -> None:
    ticket_id = _file(desk, "reimbursement", "xiao.yun", _claim("300.00", "meals"))  # M4
    finance = _by_id(desk, "liu.yang", "ma.li")
    _finish(desk, ticket_id, [("manager_approval", ["zhou.hang"]), ("finance_review", finance)])


def _account_opening(desk: Desk) -> None:
    clerk = desk.actors["feng.xue"]
    (customer,) = links.options(desk.ctx, clerk, "account_opening", "customer", "华信")
    licence = attachments.upload(
        desk.ctx, actor=clerk, filename="营业执照.pdf", source=io.BytesIO(PDF)
    ).id
    ticket_id = _file(desk, "account_opening", "feng.xue", opening_values(customer.id, [licence]))
    assert _holders(desk, ticket_id) == [("manager_review", "zhang.wei")]
    _approve(desk, ticket_id, "zhang.wei")
    # 会签 of compliance and operations (one operations supervisor is enough: 或签)
    assert {node for node, _ in _holders(desk, ticket_id)} == {"aml_review", "operations_review"}
    _approve(desk, ticket_id, "he.jia")
    _approve(desk, ticket_id, "han.bing")
    assert {who for _, who in _holders(desk, ticket_id)} == {"li.na", "huang.lei", "yu.hong"}
    assert _approve(desk, ticket_id, "yu.hong") == "approved"
    _assert_finished(desk, ticket_id)


DRIVERS: dict[str, list[Callable[[Desk], None]]] = {
    "loan": [_loan],
    "contract_review": [
        _contract_by_staff,
        _contract_by_a_head_the_same_way,
        _contract_with_add_sign_transfer_and_return,
    ],
    "reimbursement": [
        _managers_travel_claim_approved_automatically,
        _staff_travel_claim,
        _managers_large_travel_claim,
        _managers_other_claim,
    ],
    "account_opening": [_account_opening],
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
