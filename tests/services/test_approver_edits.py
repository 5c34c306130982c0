"""An approver decides on the values as filed: edits are refused unless the task's node opens
a field (`editable`), and every accepted change keeps old and new value, masked where personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from loan_desk import Desk
from sqlalchemy import func, select

from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed
from flowdesk.services import apps, tickets
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Job, Ticket

PHONE = "13812345678"


@dataclass(frozen=True)
class Snapshot:
    values: dict[str, Any]
    version: int
    open_tasks: tuple[tuple[str, str], ...]
    timeline: int
    audit_head: int
    jobs: int


def _snapshot(desk: Desk, ticket_id: str) -> Snapshot:
    view = desk.view(ticket_id)
    with desk.ctx.db.read() as conn:
        version = conn.execute(select(Ticket.version).where(Ticket.id == ticket_id)).scalar_one()
        jobs = conn.execute(select(func.count()).select_from(Job)).scalar_one()
        head = audit_store.head(conn)[0]
    return Snapshot(
        values=dict(view.values),
        version=version,
        open_tasks=tuple((t.node_id, t.id) for t in view.open_tasks),
        timeline=len(view.timeline),
        audit_head=head,
        jobs=jobs,
    )


def _refused(desk: Desk, who: str, task_id: str, values: dict[str, object], **kw: Any) -> Any:
    outcome = kw.pop("outcome", "approve")
    with pytest.raises(ValidationFailed) as refused:
        tickets.complete_task(
            desk.ctx,
            actor=desk.actors[who],
            task_id=task_id,
            outcome=outcome,
            comment="同意" if outcome == "approve" else "不同意",
            values=values,
            **kw,
        )
    assert refused.value.status == 422
    return refused.value


def test_the_branch_manager_cannot_inflate_a_small_loan_past_the_committee(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    before = _snapshot(desk, ticket_id)

    error = _refused(desk, "li.na", task.id, {"amount": "99999999.00", "purpose": "Something else"})

    assert error.code == "values_not_editable"
    assert [(e.path, e.code) for e in error.errors] == [
        ("amount", "field_not_editable"),
        ("purpose", "field_not_editable"),
    ]
    assert "99999999" not in str(error) + "".join(e.message for e in error.errors)
    # Nothing was written: not the values, not the decision, no event, audit or job.
    assert _snapshot(desk, ticket_id) == before
    assert before.open_tasks == (("branch_review", task.id),)


def test_the_disburser_cannot_change_what_the_committee_approved(desk: Desk) -> None:
    ticket_id = desk.submit("200000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    desk.approve("ma.li", ticket_id, "finance_review")
    desk.approve("luo.xin", ticket_id, "committee")
    task = desk.task(ticket_id, "disburse")
    before = _snapshot(desk, ticket_id)

    error = _refused(desk, "zhao.lei", task.id, {"amount": "2000000.00"})

    assert [(e.path, e.code) for e in error.errors] == [("amount", "field_not_editable")]
    assert _snapshot(desk, ticket_id) == before
    # Deciding on the values as filed still works.
    assert desk.approve("zhao.lei", ticket_id, "disburse").status == "approved"
    assert desk.view(ticket_id).values["amount"] == "200000.00"


@pytest.mark.parametrize(
    "values",
    [
        {"amount": "1000.00"},  # the same value is still an edit the step does not allow
        {"amount": None},  # clearing a field
        {"applicant_name": ""},
        {"credit_rating": "C"},
    ],
)
def test_any_value_sent_with_a_decision_is_refused(desk: Desk, values: dict[str, object]) -> None:
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    before = _snapshot(desk, ticket_id)
    for outcome in ("approve", "reject"):
        error = _refused(desk, "li.na", task.id, values, outcome=outcome)
        assert [e.code for e in error.errors] == ["field_not_editable"]
    assert _snapshot(desk, ticket_id) == before


def test_unknown_and_personal_keys_are_named_without_echoing_them(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    error = _refused(desk, "li.na", task.id, {"colour": "red", "110101199003074578": "x"})
    assert sorted((e.path, e.code) for e in error.errors) == [
        ("(unknown)", "unknown_field"),
        ("colour", "unknown_field"),
    ]
    assert "110101199003074578" not in repr(error.errors)


def test_the_refusal_speaks_the_approvers_language(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    error = _refused(desk, "li.na", task.id, {"amount": "2000.00"}, locale="zh-CN")
    assert error.message == "此环节不能修改表单，请按提交的内容审批"
    assert error.errors[0].message == "此环节不能修改该字段"


def test_an_empty_values_object_is_no_edit(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id, values={})
    assert desk.task(ticket_id, "disburse")


# --- a node that opens fields for change -------------------------------------------------


def _loan_with_editable(**editable: list[str]) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] in editable:
            node["editable"] = editable[node["id"]]
    return definition


def _publish(desk: Desk, definition: dict[str, Any]) -> None:
    apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))


@pytest.fixture
def editable_desk(desk: Desk) -> Desk:
    _publish(desk, _loan_with_editable(branch_review=["purpose", "applicant_name"]))
    return desk


def _audit_details(desk: Desk, action: str) -> list[dict[str, Any]]:
    with desk.ctx.db.read() as conn:
        return [e.details for e in audit_store.entries(conn) if e.action == action]


def test_an_editable_field_changes_with_old_and_new_value_on_record(editable_desk: Desk) -> None:
    desk = editable_desk
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    new_purpose = f"Bakery oven; call {PHONE}"

    tickets.approve(
        desk.ctx,
        actor=desk.actors["li.na"],
        task_id=task.id,
        values={"purpose": new_purpose, "applicant_name": "张三"},  # the name is unchanged
    )

    view = desk.view(ticket_id)
    assert view.values["purpose"] == new_purpose  # the ticket keeps the real value
    assert desk.task(ticket_id, "disburse")
    changed = [e for e in view.timeline if e.kind == "values_changed"]
    assert len(changed) == 1
    assert changed[0].task_id == task.id
    assert changed[0].actor is not None and changed[0].actor.id == desk.actors["li.na"].user_id
    masked = {
        "field": "purpose",
        "old": "Working capital for a bakery",
        "new": "Bakery oven; call 138****5678",
    }
    assert changed[0].data == {"fields": ["purpose"], "changes": [masked]}
    [details] = _audit_details(desk, "task.approve")
    assert details["changed_fields"] == ["purpose"]
    assert details["changes"] == [masked]
    assert PHONE not in repr(details)


def test_a_changed_amount_keeps_both_numbers(desk: Desk) -> None:
    """A money field no condition reads may be opened; it is recorded as stored, unmasked
    (an amount is not personal). Here the gateway routes on the term instead."""
    definition = _loan_with_editable(committee=["amount"])
    for flow in definition["process"]["flows"]:
        if flow.get("condition") == "amount <= 50000":
            flow["condition"] = "term_months <= 12"
    _publish(desk, definition)
    ticket_id = desk.submit("200000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    desk.approve("ma.li", ticket_id, "finance_review")
    task = desk.task(ticket_id, "committee")
    tickets.approve(
        desk.ctx, actor=desk.actors["luo.xin"], task_id=task.id, values={"amount": "150000"}
    )
    view = desk.view(ticket_id)
    assert view.values["amount"] == "150000.00"
    [changed] = [e for e in view.timeline if e.kind == "values_changed"]
    assert changed.data is not None
    assert changed.data["changes"] == [{"field": "amount", "old": "200000.00", "new": "150000.00"}]
    assert _audit_details(desk, "task.approve")[-1]["changes"] == changed.data["changes"]


def test_fields_the_node_does_not_open_are_still_refused(editable_desk: Desk) -> None:
    desk = editable_desk
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    before = _snapshot(desk, ticket_id)
    error = _refused(desk, "li.na", task.id, {"purpose": "New purpose", "amount": "99999999.00"})
    assert [(e.path, e.code) for e in error.errors] == [("amount", "field_not_editable")]
    # Editable fields are not opened on a reject: it ends the decision on what was filed.
    error = _refused(desk, "li.na", task.id, {"purpose": "New purpose"}, outcome="reject")
    assert [(e.path, e.code) for e in error.errors] == [("purpose", "field_not_editable")]
    # An editable field is validated like a submission; a required one cannot be cleared.
    error = _refused(desk, "li.na", task.id, {"purpose": "x" * 1001, "applicant_name": " "})
    assert [(e.path, e.code) for e in error.errors] == [
        ("applicant_name", "required"),
        ("purpose", "too_long"),
    ]
    assert _snapshot(desk, ticket_id) == before


def test_an_unchanged_editable_value_records_no_change(editable_desk: Desk) -> None:
    desk = editable_desk
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(
        desk.ctx,
        actor=desk.actors["li.na"],
        task_id=task.id,
        values={"purpose": "  Working capital for a bakery "},
    )
    view = desk.view(ticket_id)
    assert not [e for e in view.timeline if e.kind == "values_changed"]
    assert _audit_details(desk, "task.approve")[0]["changes"] == []


@pytest.mark.parametrize(
    ("editable", "path", "code"),
    [
        ({"branch_review": ["amount"]}, "process.nodes[2].fields.amount", "editable_field_routes"),
        ({"committee": ["purpose", "amoun"]}, "process.nodes[7].fields.amoun", "unknown_field"),
        ({"amount_check": ["purpose"]}, "process.nodes[1].editable", "editable_not_allowed"),
    ],
)
def test_publishing_refuses_editable_fields_that_would_change_the_route(
    desk: Desk, editable: dict[str, list[str]], path: str, code: str
) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        _publish(desk, _loan_with_editable(**editable))
    assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)]
