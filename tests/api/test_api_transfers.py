"""转交 and hand-over through the REST API: the step answer, the problems with their codes
(and the field they name), and an administrator's hand-over report."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values
from pydantic import TypeAdapter

from flowdesk.api import schemas, transfers


def _branch_task(api: Api) -> tuple[str, str]:
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("5000.00")})
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]
    inbox = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).json()
    task_id = next(t["id"] for t in inbox["items"] if t["ticket_id"] == ticket_id)
    return ticket_id, task_id


def _same_as_the_model(response, model: object) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    adapter: TypeAdapter[object] = TypeAdapter(model)
    assert response.content == adapter.dump_json(adapter.validate_json(response.content))


def test_a_transfer_answers_the_step_and_the_new_holder_has_the_task(api: Api) -> None:
    ticket_id, task_id = _branch_task(api)
    moved = api.post("li.na", f"/tasks/{task_id}/transfer", json={"to": "huang.lei"})
    _same_as_the_model(moved, schemas.StepOut)
    [new_task] = moved.json()["opened_task_ids"]
    theirs = api.get("huang.lei", f"/tasks/{new_task}")
    assert theirs.status_code == 200 and theirs.json()["ticket_id"] == ticket_id
    again = api.post("li.na", f"/tasks/{task_id}/transfer", json={"to": "yu.hong"})
    assert_problem(again, 409, "task_not_open")
    done = api.get("li.na", "/tasks", params={"assignee": "me", "state": "done"}).json()
    assert [t["state"] for t in done["items"] if t["ticket_id"] == ticket_id] == ["transferred"]


def test_refused_transfers_are_problems_naming_the_field(api: Api) -> None:
    _, task_id = _branch_task(api)
    unknown = api.post("li.na", f"/tasks/{task_id}/transfer", json={"to": "nobody.here"})
    body = assert_problem(unknown, 422, "unknown_user")
    assert [e["path"] for e in body["errors"]] == ["to"]
    assert_problem(
        api.post("li.na", f"/tasks/{task_id}/transfer", json={"to": "li.na"}),
        422,
        "transfer_to_self",
    )
    assert_problem(
        api.post("admin", f"/tasks/{task_id}/transfer", json={"to": "huang.lei"}),
        403,
        "not_assignee",
    )
    assert_problem(
        api.post("xie.ting", f"/tasks/{task_id}/transfer", json={"to": "huang.lei"}),
        404,
        "task_not_found",
    )
    extra = api.post("li.na", f"/tasks/{task_id}/transfer", json={"to": "huang.lei", "x": 1})
    assert extra.status_code == 422, extra.text
    missing = api.post("li.na", f"/tasks/{task_id}/transfer", json={})
    assert missing.status_code == 422, missing.text


def test_an_administrator_hands_over_a_persons_tasks(api: Api) -> None:
    _branch_task(api)
    _branch_task(api)
    refused = api.post("li.na", "/admin/users/li.na/hand-over", json={})
    assert_problem(refused, 403, "not_admin")
    report = api.post("admin", "/admin/users/li.na/hand-over", json={"comment": "调岗交接"})
    _same_as_the_model(report, transfers.HandOverOut)
    body = report.json()
    assert body["username"] == "li.na" and body["to"] == "zhou.hang"
    assert len(body["moved"]) == 2 and body["left"] == []
    assert api.get("li.na", "/tasks", params={"assignee": "me"}).json()["items"] == []
    nobody = api.post("admin", "/admin/users/zhou.hang/hand-over", json={})
    assert_problem(nobody, 422, "no_handover_target")
    assert_problem(
        api.post("admin", "/admin/users/no.one/hand-over", json={}), 404, "user_not_found"
    )
