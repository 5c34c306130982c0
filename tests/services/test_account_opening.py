"""The bundled account opening app (对公客户开户申请) through the services, on SQLite and
PostgreSQL: a counter clerk files a company with two signatories, a linked customer and
an uploaded licence; the ticket shows the customer's manager and segment, the computed
fields and its application number; the account manager, then compliance and operations
(会签), then any branch head (或签) approve it; approvers cannot change identity data."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from loan_desk import Desk

from account_opening_values import LEGAL_REP_ID, opening_values
from file_samples import PDF
from flowdesk.kernel.errors import ValidationFailed
from flowdesk.services import attachments, audit, links, tickets


def _licence(desk: Desk, who: str) -> str:
    return attachments.upload(
        desk.ctx, actor=desk.actors[who], filename="营业执照.pdf", source=io.BytesIO(PDF)
    ).id


def _customer(desk: Desk, who: str, q: str) -> str:
    (found,) = links.options(desk.ctx, desk.actors[who], "account_opening", "customer", q)
    return found.id


def _file(desk: Desk, clerk: str = "feng.xue") -> str:  # a Beijing counter clerk (对公柜员)
    values = opening_values(_customer(desk, clerk, "华信"), [_licence(desk, clerk)])
    return tickets.submit(
        desk.ctx, actor=desk.actors[clerk], app_key="account_opening", values=values
    ).ticket_id


def _holders(desk: Desk, ticket_id: str) -> dict[str, set[str]]:
    usernames = {actor.user_id: name for name, actor in desk.actors.items()}
    held: dict[str, set[str]] = {}
    for task in desk.view(ticket_id).open_tasks:
        held.setdefault(task.node_id, set()).update(usernames[p.id] for p in task.assignees)
    return held


def _approve(desk: Desk, ticket_id: str, node: str, who: str, **values: object) -> str:
    actor = desk.actors[who]
    (task,) = [t for t in desk.view(ticket_id).actionable_by(actor) if t.node_id == node]
    return tickets.approve(desk.ctx, actor=actor, task_id=task.id, values=values or None).status


def _age_today(desk: Desk, born: date) -> int:
    today = desk.ctx.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def test_an_account_opening_is_filed_looked_up_numbered_and_approved(desk: Desk) -> None:
    ticket_id = _file(desk)
    view = desk.view(ticket_id)
    values = view.values
    # the application number is the ticket's serial (ADR 0038)
    assert values["application_no"] == view.serial
    assert view.serial.startswith("KH-") and view.serial.endswith("-000001")
    # the customer's manager and segment, looked up live
    (customer,) = view.links["customer"]
    assert customer.title == "北京华信科技有限公司"
    assert [(v.key, v.text) for v in customer.lookup] == [
        ("manager", "zhang.wei"),
        ("segment", "Large corporate"),
    ]
    # the resident ID fills in the birth date and sex; the formulas are computed
    assert (values["legal_rep_birth_date"], values["legal_rep_sex"]) == ("1949-12-31", "female")
    assert values["legal_rep_age"] == str(_age_today(desk, date(1949, 12, 31)))
    assert values["signatory_count"] == "2"
    assert values["account_title"] == "北京华信科技有限公司（对公结算账户）"
    assert [row["name"] for row in values["signatories"]] == ["王磊", "赵敏"]
    assert len(values["licence"]) == 1

    # 客户经理审核: the account manager named on the form
    assert _holders(desk, ticket_id) == {"manager_review": {"zhang.wei"}}
    assert _approve(desk, ticket_id, "manager_review", "zhang.wei") == "running"
    # 会签: compliance (AML) and operations, both
    assert _holders(desk, ticket_id) == {
        "aml_review": {"he.jia"},
        "operations_review": {"wu.min", "han.bing", "du.kang"},
    }
    assert _approve(desk, ticket_id, "aml_review", "he.jia") == "running"
    assert _holders(desk, ticket_id) == {"operations_review": {"wu.min", "han.bing", "du.kang"}}
    note = "已核实预留印鉴"
    assert _approve(desk, ticket_id, "operations_review", "wu.min", opening_note=note) == "running"
    # 或签: any one branch head decides
    assert _holders(desk, ticket_id) == {"branch_approval": {"li.na", "huang.lei", "yu.hong"}}
    assert _approve(desk, ticket_id, "branch_approval", "li.na") == "approved"
    finished = desk.view(ticket_id)
    assert finished.status == "approved" and finished.open_tasks == ()
    assert finished.values["opening_note"] == note
    assert audit.verify(desk.ctx).ok


@pytest.mark.parametrize(
    ("node", "who", "field", "value"),
    [
        ("manager_review", "zhang.wei", "legal_rep_id", LEGAL_REP_ID),
        ("manager_review", "zhang.wei", "company_name", "别的公司"),
        ("manager_review", "zhang.wei", "opening_note", "备注"),
    ],
)
def test_an_approver_cannot_change_the_applicants_identity_data(
    desk: Desk, node: str, who: str, field: str, value: object
) -> None:
    ticket_id = _file(desk)
    with pytest.raises(ValidationFailed) as refused:
        _approve(desk, ticket_id, node, who, **{field: value})
    assert [(e.path, e.code) for e in refused.value.errors] == [(field, "field_not_editable")]
    assert _holders(desk, ticket_id) == {"manager_review": {"zhang.wei"}}


def test_the_account_manager_corrects_the_account_type_only(desk: Desk) -> None:
    ticket_id = _file(desk)
    _approve(desk, ticket_id, "manager_review", "zhang.wei", account_type="general")
    assert desk.view(ticket_id).values["account_type"] == "general"
    (changed,) = [e for e in desk.view(ticket_id).timeline if e.kind == "values_changed"]
    assert changed.data is not None and "account_type" in str(changed.data)


def test_an_account_manager_filing_for_their_customer_skips_their_own_review(desk: Desk) -> None:
    ticket_id = _file(desk, "zhang.wei")  # the customer's own manager files
    assert set(_holders(desk, ticket_id)) == {"aml_review", "operations_review"}
    (skipped,) = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert skipped.node_id == "manager_review"
