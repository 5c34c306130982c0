"""Through the API, values sent with a decision are refused with a precise 422 problem."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values


def test_an_approver_cannot_rewrite_the_amount_while_approving(api: Api) -> None:
    created = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000")})
    ticket = created.json()
    tasks = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).json()
    (task_id,) = [t["id"] for t in tasks["items"] if t["ticket_id"] == ticket["id"]]

    refused = api.post(
        "li.na",
        f"/tasks/{task_id}/approve",
        json={"comment": "ok", "values": {"amount": "99999999.00", "term_months": 1}},
        headers={"Accept-Language": "zh-CN"},
    )

    body = assert_problem(refused, 422, "values_not_editable")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [
        ("amount", "field_not_editable"),
        ("term_months", "field_not_editable"),
    ]
    assert body["errors"][0]["message"] == "此环节不能修改该字段"
    assert "99999999" not in refused.text
    after = api.get("zhang.wei", f"/tickets/{ticket['id']}").json()
    assert after["values"]["amount"] == "1000.00"
    assert after["status"] == "running"
    # The same task still decides, on the values as filed.
    approved = api.post("li.na", f"/tasks/{task_id}/approve", json={"comment": "ok"})
    assert approved.status_code == 200, approved.text
