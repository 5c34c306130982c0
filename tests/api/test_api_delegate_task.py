"""委派 through the REST API (ADR 0034): delegate and resolve answer the step, the task
answers say who delegated to whom, and the refusals are problems with their codes."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values


def _branch_task(api: Api) -> tuple[str, str]:
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("5000.00")})
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]
    inbox = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).json()
    task_id = next(t["id"] for t in inbox["items"] if t["ticket_id"] == ticket_id)
    return ticket_id, task_id


def test_delegate_resolve_then_the_owner_decides(api: Api) -> None:
    ticket_id, task_id = _branch_task(api)
    sent = api.post(
        "li.na", f"/tasks/{task_id}/delegate", json={"to": "huang.lei", "comment": "请核实"}
    )
    assert sent.status_code == 200, sent.text
    [theirs] = sent.json()["opened_task_ids"]
    inbox = api.get("huang.lei", "/tasks", params={"assignee": "me", "state": "open"}).json()
    [row] = [t for t in inbox["items"] if t["ticket_id"] == ticket_id]
    assert row["id"] == theirs and row["delegated_by"]["name"]
    owner = api.get("li.na", f"/tasks/{task_id}").json()
    assert owner["waiting"] is True and owner["delegated_to"]["id"] == row["assignees"][0]["id"]
    assert_problem(api.post("li.na", f"/tasks/{task_id}/approve", json={}), 409, "task_delegated")
    assert_problem(
        api.post("huang.lei", f"/tasks/{theirs}/approve", json={}), 409, "delegated_task_resolve"
    )
    assert_problem(
        api.post("huang.lei", f"/tasks/{theirs}/resolve", json={"opinion": "maybe"}),
        422,
        "validation_failed",
    )
    done = api.post(
        "huang.lei", f"/tasks/{theirs}/resolve", json={"comment": "属实", "opinion": "approve"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["opened_task_ids"] == []
    assert_problem(api.post("huang.lei", f"/tasks/{theirs}/resolve", json={}), 409, "task_not_open")
    ticket = api.get("li.na", f"/tickets/{ticket_id}").json()
    kinds = [e["kind"] for e in ticket["timeline"]]
    assert "task_delegated" in kinds and "task_resolved" in kinds
    approved = api.post("li.na", f"/tasks/{task_id}/approve", json={})
    assert approved.status_code == 200, approved.text


def test_refused_delegations_are_problems(api: Api) -> None:
    _, task_id = _branch_task(api)
    unknown = api.post("li.na", f"/tasks/{task_id}/delegate", json={"to": "nobody.here"})
    body = assert_problem(unknown, 422, "unknown_user")
    assert [e["path"] for e in body["errors"]] == ["to"]
    assert_problem(
        api.post("li.na", f"/tasks/{task_id}/delegate", json={"to": "li.na"}),
        422,
        "delegate_to_self",
    )
    assert_problem(
        api.post("li.na", f"/tasks/{task_id}/delegate", json={"to": "zhang.wei"}),
        403,
        "self_approval",
    )
    assert_problem(
        api.post("admin", f"/tasks/{task_id}/delegate", json={"to": "huang.lei"}),
        403,
        "not_assignee",
    )
    assert_problem(
        api.post("li.na", f"/tasks/{task_id}/resolve", json={}), 409, "task_not_delegated"
    )
    assert_problem(
        api.post("li.na", f"/tasks/{task_id}/delegate", json={"to": "huang.lei", "x": 1}),
        422,
        "validation_failed",
    )
