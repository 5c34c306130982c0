"""The API's lists: /tasks (open and done), /tickets (visible, mine, all), GET /tasks/{id},
the /api/v1 index, serials, summaries and precise 422s for a bad list parameter."""

from __future__ import annotations

import re
from typing import Any

from api_client import API, Api, assert_problem, loan_values
from fastapi.testclient import TestClient

SERIAL = re.compile(r"LN-\d{4}-\d{6}")


def _file(api: Api, **values: object) -> dict[str, Any]:
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values(**values)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_index_answers_with_links(client: TestClient) -> None:
    for path in (API, f"{API}/"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        links = response.json()["links"]
        assert links["tickets"]["href"] == "/api/v1/tickets"
        assert client.get(links["openapi"]["href"]).status_code == 200


def test_tickets_and_tasks_carry_the_serial_and_summary(api: Api) -> None:
    ticket = _file(api, purpose="采购生产设备一批")
    assert SERIAL.fullmatch(ticket["serial"])
    (row,) = [
        t
        for t in api.get("zhang.wei", "/tickets", params={"scope": "mine"}).json()["items"]
        if t["id"] == ticket["id"]
    ]
    assert row["serial"] == ticket["serial"]
    assert {s["key"]: s["value"] for s in row["summary"]} == {
        "amount": "120000.00",
        "term_months": 36,
    }
    assert {c["node_id"] for c in row["current"]} == {"legal_review", "finance_review"}
    assert row["waiting_since"] is not None
    tasks = api.get("wang.fang", "/tasks", params={"assignee": "me", "state": "open"}).json()
    (task,) = [t for t in tasks["items"] if t["ticket_id"] == ticket["id"]]
    assert task["serial"] == ticket["serial"]
    one = api.get("wang.fang", f"/tasks/{task['id']}")
    assert one.status_code == 200 and one.json()["serial"] == ticket["serial"]
    # Someone who can neither see the ticket nor works on it gets a 404, as for a typo.
    assert_problem(api.get("wu.min", f"/tasks/{task['id']}"), 404, "task_not_found")
    # The search finds it by a two-character Chinese word and by its serial.
    for q in ("设备", ticket["serial"]):
        found = api.get("admin", "/tickets", params={"q": q, "scope": "all"}).json()["items"]
        assert ticket["id"] in [t["id"] for t in found], q


def test_done_tasks_list_my_decisions(api: Api) -> None:
    ticket = _file(api)
    tasks = api.get("wang.fang", "/tasks", params={"assignee": "me", "state": "open"}).json()
    (task,) = [t for t in tasks["items"] if t["ticket_id"] == ticket["id"]]
    approved = api.post("wang.fang", f"/tasks/{task['id']}/approve", json={"comment": "同意"})
    assert approved.status_code == 200, approved.text
    done = api.get("wang.fang", "/tasks", params={"assignee": "me", "state": "done"}).json()
    (decided,) = [t for t in done["items"] if t["ticket_id"] == ticket["id"]]
    assert (decided["state"], decided["comment"]) == ("approved", "同意")
    assert decided["completed_at"] is not None
    timeline = api.get("zhang.wei", f"/tickets/{ticket['id']}").json()["timeline"]
    by_person = {e["kind"]: e["by_person"] for e in timeline}
    assert by_person["ticket_submitted"] and by_person["task_approved"]
    assert by_person["task_opened"] is False


def test_all_tickets_are_for_auditors_and_admins(api: Api) -> None:
    _file(api)
    assert_problem(api.get("zhang.wei", "/tickets", params={"scope": "all"}), 403, "forbidden")
    assert api.get("admin", "/tickets", params={"scope": "all"}).json()["items"]


def test_bad_list_parameters_are_named(api: Api) -> None:
    body = assert_problem(
        api.get("admin", "/tickets", params={"sort": "size", "created_from": "yesterday"}),
        422,
        "invalid_query",
    )
    assert sorted(e["path"] for e in body["errors"]) == ["created_from", "sort"]
    body = assert_problem(
        api.get("admin", "/tickets?status=running&status=approved"), 422, "invalid_query"
    )
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("status", "repeated_parameter")]
    body = assert_problem(
        api.get("admin", "/tickets", params={"colour": "red"}), 422, "invalid_query"
    )
    assert body["errors"][0]["code"] == "unknown_parameter"
    # A cursor of one sort is refused for another.
    for _ in range(3):
        _file(api)
    page = api.get("admin", "/tickets", params={"limit": 1, "sort": "updated"}).json()
    assert page["next_cursor"]
    body = assert_problem(
        api.get("admin", "/tickets", params={"limit": 1, "cursor": page["next_cursor"]}),
        422,
        "invalid_query",
    )
    assert body["errors"][0]["code"] == "cursor_sort_mismatch"
    following = api.get(
        "admin", "/tickets", params={"limit": 1, "sort": "updated", "cursor": page["next_cursor"]}
    ).json()
    assert following["items"][0]["id"] != page["items"][0]["id"]


def _ids(api: Api, username: str, **params: str) -> list[str]:
    response = api.get(username, "/tasks", params=params)
    assert response.status_code == 200, response.text
    return [t["ticket_id"] for t in response.json()["items"]]


def test_admins_and_auditors_list_another_persons_tasks(api: Api) -> None:
    """Covering for someone on leave: their open tasks (待办) and their decisions (已办)."""
    ticket = _file(api)
    wang_fang = api.get("wang.fang", "/me").json()
    for reader in ("admin", "sun.li"):  # an administrator and an auditor
        page = api.get(reader, "/tasks", params={"assignee": "wang.fang"}).json()
        (task,) = [t for t in page["items"] if t["ticket_id"] == ticket["id"]]
        assert task["state"] == "open"
        assert task["assignees"] == [{"id": wang_fang["id"], "name": wang_fang["display_name"]}]
        assert ticket["id"] not in _ids(api, reader, assignee="me")  # theirs, not the reader's
    # requester=me still means the one asking: the administrator filed nothing.
    assert ticket["id"] not in _ids(api, "admin", assignee="wang.fang", requester="me")
    assert ticket["id"] in _ids(api, "admin", assignee="wang.fang", requester="zhang.wei")

    approved = api.post("wang.fang", f"/tasks/{task['id']}/approve", json={"comment": "同意"})
    assert approved.status_code == 200, approved.text
    assert ticket["id"] not in _ids(api, "admin", assignee="wang.fang")
    done = api.get("sun.li", "/tasks", params={"assignee": "wang.fang", "state": "done"}).json()
    (decided,) = [t for t in done["items"] if t["ticket_id"] == ticket["id"]]
    assert (decided["state"], decided["comment"]) == ("approved", "同意")
    assert decided["completed_by"] == {"id": wang_fang["id"], "name": wang_fang["display_name"]}
    # Naming oneself is the same as me, for anyone.
    assert _ids(api, "wang.fang", assignee="wang.fang", state="done") == _ids(
        api, "wang.fang", assignee="me", state="done"
    )


def test_only_admins_and_auditors_list_another_persons_tasks(api: Api) -> None:
    _file(api)
    for username in ("wang.fang", "nobody.here"):  # existing or not: the same 403
        for state in ("open", "done"):
            response = api.get("zhang.wei", "/tasks", params={"assignee": username, "state": state})
            assert_problem(response, 403, "forbidden")
    # An unknown person is a 422 naming the parameter, as for every unknown list filter.
    body = assert_problem(
        api.get("admin", "/tasks", params={"assignee": "nobody.here"}), 422, "invalid_query"
    )
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("assignee", "unknown_user")]
    body = assert_problem(
        api.get("admin", "/tasks", params={"assignee": "not a name"}), 422, "invalid_query"
    )
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("assignee", "invalid_assignee")]
