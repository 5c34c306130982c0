"""Per-node field permissions (ADR 0037) through the API: the start form's hidden field is
refused, a step's hidden field is left out of the ticket, the 待办 rows and the export for
that step's approver and refused from them, with the field named."""

from __future__ import annotations

import csv
import io

from api_client import Api, assert_problem, loan_values, publish_yaml

from field_permission_app import NOTE, field_permission_yaml


def _publish(api: Api) -> None:
    publish_yaml(api, field_permission_yaml())


def _file(api: Api) -> tuple[str, str]:
    created = api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        json={"values": loan_values("1000", private_note=NOTE)},
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    tasks = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).json()
    (task,) = [t for t in tasks["items"] if t["ticket_id"] == ticket_id]
    return ticket_id, task["id"]


def test_the_start_form_refuses_a_field_it_hides(api: Api) -> None:
    _publish(api)
    refused = api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        json={"values": loan_values("1000", approved_amount="9000000")},
        headers={"Accept-Language": "zh-CN"},
    )
    body = assert_problem(refused, 422, "values_not_editable")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("approved_amount", "field_hidden")]
    assert body["errors"][0]["message"] == "此环节无权填写该字段"


def test_a_hidden_field_is_not_in_the_approvers_answers(api: Api) -> None:
    _publish(api)
    ticket_id, task_id = _file(api)
    seen = api.get("li.na", f"/tickets/{ticket_id}")
    assert seen.status_code == 200
    assert "private_note" not in seen.json()["values"]
    assert NOTE not in seen.text
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["values"]["private_note"] == NOTE
    rows = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).text
    assert NOTE not in rows
    exported = api.get("li.na", "/tickets/export", params={"app": "loan", "format": "csv"})
    assert exported.status_code == 200
    assert NOTE not in exported.content.decode("utf-8-sig")
    mine = api.get(
        "zhang.wei", "/tickets/export", params={"scope": "mine", "app": "loan", "format": "csv"}
    )
    assert NOTE in mine.content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig"))))) >= 2
    assert task_id


def test_hidden_and_read_only_fields_are_refused_editable_ones_kept_old_and_new(
    api: Api,
) -> None:
    _publish(api)
    ticket_id, task_id = _file(api)
    refused = api.post(
        "li.na",
        f"/tasks/{task_id}/approve",
        json={"values": {"private_note": "changed", "amount": "5"}},
    )
    body = assert_problem(refused, 422, "values_not_editable")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [
        ("amount", "field_not_editable"),
        ("private_note", "field_hidden"),
    ]
    approved = api.post(
        "li.na", f"/tasks/{task_id}/approve", json={"values": {"approved_amount": "800"}}
    )
    assert approved.status_code == 200, approved.text
    ticket = api.get("admin", f"/tickets/{ticket_id}").json()
    assert ticket["values"]["approved_amount"] == "800.00"
    assert ticket["values"]["private_note"] == NOTE
