"""Each decided task keeps the form values it was decided on (issue 8), shown per task in
the ticket answer: what the approver saw, their own edit included, with personal numbers
masked (RELIABILITY.md promise 8); open tasks have none."""

from __future__ import annotations

import pytest
from api_client import Api, loan_values

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext
from identity_app import MOBILE, account_opening_app, good_values

NEW_MOBILE = "13998765432"


@pytest.fixture
def opening(api: Api, demo_ctx: ServiceContext) -> Api:
    apps.publish_yaml(demo_ctx, account_opening_app(editable=("company", "legal_rep_mobile")))
    return api


def test_a_decision_keeps_the_values_it_saw_masked(opening: Api) -> None:
    filed = opening.post(
        "zhang.wei", "/apps/account_opening/tickets", json={"values": good_values()}
    )
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]
    [task] = filed.json()["open_tasks"]
    before = opening.get("li.na", f"/tickets/{ticket_id}").json()
    assert [t["decided_values"] for t in before["tasks"]] == [None]  # open: nothing yet
    edited = {"company": "北京示例科技股份有限公司", "legal_rep_mobile": NEW_MOBILE}
    approved = opening.post(
        "li.na", f"/tasks/{task['id']}/approve", json={"comment": "核实", "values": edited}
    )
    assert approved.status_code == 200, approved.text
    after = opening.get("sun.li", f"/tickets/{ticket_id}")  # the auditor reads it
    assert after.status_code == 200, after.text
    [decided] = after.json()["tasks"]
    seen = decided["decided_values"]
    assert seen["company"] == "北京示例科技股份有限公司"  # the approver's edit is in it
    assert seen["legal_rep_mobile"] == "139****5432"
    assert seen["legal_rep_id"] == "110***********002X"
    assert NEW_MOBILE not in after.text and MOBILE not in after.text


def test_each_decision_keeps_its_own_moment(api: Api) -> None:
    """A small loan: the branch manager's approval kept the values as filed (nobody
    edited them), and disbursement, still open, has none."""
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("5000.00")})
    ticket_id = filed.json()["id"]
    [task] = filed.json()["open_tasks"]
    api.post("li.na", f"/tasks/{task['id']}/approve", json={})
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    states = {t["state"]: t["decided_values"] for t in ticket["tasks"]}
    assert states["approved"] == ticket["values"]
    assert states["open"] is None
