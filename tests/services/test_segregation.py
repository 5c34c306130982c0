"""Maker-checker through the services, on SQLite and PostgreSQL: the applicant never
decides their own ticket, even when a step's rule names them; nor through a transfer or
an out-of-office substitute (issue 8, segregation of duties)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from loan_desk import Desk

from flowdesk.kernel.errors import Forbidden
from flowdesk.services import add_signs, delegations, tickets, transfers

LARGE = "120000.00"  # finance review by the finance reviewers' role (liu.yang, ma.li)


def _holders(desk: Desk, ticket_id: str, node_id: str) -> list[str]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(names[p.id] for p in desk.task(ticket_id, node_id).assignees)


def test_a_rule_that_names_the_applicant_leaves_them_out(desk: Desk) -> None:
    ticket_id = desk.submit(LARGE, who="liu.yang")  # a finance reviewer files a loan
    assert _holders(desk, ticket_id, "finance_review") == ["ma.li"]
    assert _holders(desk, desk.submit(LARGE), "finance_review") == ["liu.yang", "ma.li"]


def test_no_transfer_or_substitute_brings_the_task_to_the_applicant(desk: Desk) -> None:
    ticket_id = desk.submit("20000.00")  # zhang.wei files; li.na reviews
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(Forbidden) as refused:
        transfers.transfer(desk.ctx, actor=desk.actors["li.na"], task_id=task.id, to="zhang.wei")
    assert refused.value.code == "self_approval"
    now = datetime.now(UTC)
    delegations.create(
        desk.ctx,
        actor=desk.actors["li.na"],
        delegate="zhang.wei",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
    )
    later = desk.submit("20000.00")  # li.na is away, but her substitute filed this one
    assert _holders(desk, later, "branch_review") == ["li.na"]
    other = desk.submit("20000.00", who="wu.min")  # someone else's ticket: he stands in
    assert _holders(desk, other, "branch_review") == ["zhang.wei"]


def test_the_applicant_cannot_be_added_as_a_signer_nor_decide_a_task_they_do_not_hold(
    desk: Desk,
) -> None:
    ticket_id = desk.submit("20000.00")
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(Forbidden) as added:
        add_signs.add_signers(
            desk.ctx,
            actor=desk.actors["li.na"],
            task_id=task.id,
            users=["zhang.wei"],
            position="before",
        )
    assert added.value.code == "self_approval"
    large = desk.submit(LARGE, who="liu.yang")
    finance = desk.task(large, "finance_review")
    with pytest.raises(Forbidden) as refused:  # he does not hold it: that is the reason
        tickets.approve(desk.ctx, actor=desk.actors["liu.yang"], task_id=finance.id)
    assert refused.value.code == "not_assignee"
