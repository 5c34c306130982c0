"""The ticket page's diagram data: the BPMN of the version the ticket runs on, the steps
it is at and the steps it has passed; read like the ticket (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import yaml
from loan_desk import Desk

from flowdesk.engines.access import Actor
from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import NotFound
from flowdesk.services import apps, task_returns, tickets
from flowdesk.services.ticket_diagram import ticket_diagram


def test_a_new_loan_is_at_both_reviews_having_passed_the_split(desk: Desk) -> None:
    ticket = desk.submit("120000.00")
    found = ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket)
    assert set(found.current) == {"legal_review", "finance_review"}
    assert set(found.passed) == {"start", "amount_check", "split"}
    assert found.holders["legal_review"] == ("王芳",)
    assert found.modes == {"legal_review": "single", "finance_review": "single"}
    assert 'id="legal_review"' in found.bpmn and "bpmndi:BPMNDiagram" in found.bpmn


def test_an_approved_step_is_passed_and_the_join_waits(desk: Desk) -> None:
    ticket = desk.submit("120000.00")
    desk.approve("liu.yang", ticket, "finance_review")
    found = ticket_diagram(desk.ctx, desk.actors["liu.yang"], ticket)
    assert found.current == ("legal_review",)
    assert "finance_review" in found.passed
    assert "join" not in found.passed and "committee" not in found.passed

    desk.approve("wang.fang", ticket, "legal_review")
    found = ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket)
    assert found.current == ("committee",)
    assert {"legal_review", "finance_review", "join"} <= set(found.passed)


def test_the_diagram_is_of_the_tickets_own_version(desk: Desk) -> None:
    ticket = desk.submit("120000.00")
    definition = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] == "legal_review":
            node["name"] = {"en": "Compliance review", "zh": "合规审查"}
    apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    found = ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket)
    assert "法务审查" in found.bpmn and "合规审查" not in found.bpmn


def test_someone_who_may_not_read_the_ticket_gets_not_found(desk: Desk) -> None:
    ticket = desk.submit("120000.00")
    with pytest.raises(NotFound) as refused:
        ticket_diagram(desk.ctx, desk.actors["xu.ming"], ticket)
    assert refused.value.code == "ticket_not_found"
    with pytest.raises(NotFound):
        ticket_diagram(desk.ctx, desk.actors["zhang.wei"], "0" * 32)


def _holder(desk: Desk, ticket: str, node: str) -> Actor:
    task = desk.task(ticket, node)
    holder = next(p.id for p in task.assignees)
    return next(a for a in desk.actors.values() if a.user_id == holder)


def test_a_return_makes_the_steps_after_its_target_to_come_again(desk: Desk) -> None:
    ticket = desk.submit("30000.00")  # the branch manager, then disbursement
    tickets.approve(
        desk.ctx,
        actor=_holder(desk, ticket, "branch_review"),
        task_id=desk.task(ticket, "branch_review").id,
    )
    found = ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket)
    assert found.current == ("disburse",)
    assert {"start", "amount_check", "branch_review"} <= set(found.passed)

    task_returns.return_task(
        desk.ctx,
        actor=_holder(desk, ticket, "disburse"),
        task_id=desk.task(ticket, "disburse").id,
        target="branch_review",
        comment="请补充材料",
    )
    found = ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket)
    assert found.current == ("branch_review",)
    # passed before the target: still passed; the target and after it: to come again
    assert set(found.passed) == {"start", "amount_check"}
