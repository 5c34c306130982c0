"""加签 and 减签 through the REST API: adding a signer before the holder, the waiting task
in the ticket's JSON, an after add-sign completing with the signer's approval, removal,
and each refusal as problem+json with its stable code."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values


def _at_disburse(api: Api) -> tuple[str, str]:
    """A small loan the branch manager approved: (ticket id, the disbursement task id)."""
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("30000.00")})
    assert filed.status_code == 201, filed.text
    review = next(t for t in filed.json()["tasks"] if t["state"] == "open")
    approved = api.post("li.na", f"/tasks/{review['id']}/approve", json={"comment": "同意"})
    assert approved.status_code == 200, approved.text
    return filed.json()["id"], approved.json()["opened_task_ids"][0]


def test_before_the_holder_waits_until_the_signer_decided(api: Api) -> None:
    ticket_id, task_id = _at_disburse(api)
    added = api.post(
        "zhao.lei",
        f"/tasks/{task_id}/add-signers",
        json={"users": ["he.jia"], "position": "before", "comment": "请复核金额"},
    )
    assert added.status_code == 200, added.text
    [signer_task] = added.json()["opened_task_ids"]
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    waiting = {t["id"]: t["waiting"] for t in ticket["open_tasks"]}
    assert waiting == {task_id: True, signer_task: False}
    event = next(e for e in ticket["timeline"] if e["kind"] == "task_add_sign")
    assert (event["comment"], event["data"]["position"]) == ("请复核金额", "before")
    assert api.get("zhao.lei", f"/tasks/{task_id}").json()["waiting"] is True
    refused = api.post("zhao.lei", f"/tasks/{task_id}/approve", json={})
    assert_problem(refused, 409, "waiting_for_added_signers")
    assert api.post("he.jia", f"/tasks/{signer_task}/approve", json={}).status_code == 200
    assert api.post("zhao.lei", f"/tasks/{task_id}/approve", json={}).status_code == 200
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["status"] == "approved"


def test_after_the_signers_approval_completes_the_ticket(api: Api) -> None:
    ticket_id, task_id = _at_disburse(api)
    added = api.post(
        "zhao.lei",
        f"/tasks/{task_id}/add-signers",
        json={"users": ["he.jia"], "position": "after", "comment": "同意放款"},
    )
    [signer_task] = added.json()["opened_task_ids"]
    done = api.post("he.jia", f"/tasks/{signer_task}/approve", json={})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"
    tasks = api.get("zhang.wei", f"/tickets/{ticket_id}").json()["tasks"]
    mine = next(t for t in tasks if t["id"] == task_id)
    assert (mine["state"], mine["comment"]) == ("approved", "同意放款")


def test_remove_signer_frees_the_task(api: Api) -> None:
    ticket_id, task_id = _at_disburse(api)
    api.post(
        "zhao.lei",
        f"/tasks/{task_id}/add-signers",
        json={"users": ["he.jia", "wang.fang"], "position": "before", "mode": "any"},
    )
    removed = api.post(
        "zhao.lei", f"/tasks/{task_id}/remove-signer", json={"users": ["he.jia", "wang.fang"]}
    )
    assert removed.status_code == 200, removed.text
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert [(t["id"], t["waiting"]) for t in ticket["open_tasks"]] == [(task_id, False)]


def test_refusals_are_problems_with_stable_codes(api: Api) -> None:
    _, task_id = _at_disburse(api)
    path = f"/tasks/{task_id}/add-signers"
    unknown = api.post("zhao.lei", path, json={"users": ["no.one"], "position": "before"})
    problem = assert_problem(unknown, 422, "unknown_user")
    assert [e["path"] for e in problem["errors"]] == ["users"]
    assert_problem(
        api.post("zhao.lei", path, json={"users": ["zhao.lei"], "position": "before"}),
        422,
        "add_sign_self",
    )
    assert_problem(
        api.post("zhao.lei", path, json={"users": ["he.jia"], "position": "sideways"}),
        422,
        "validation_failed",
    )
    assert_problem(
        api.post("zhao.lei", path, json={"users": [], "position": "before"}),
        422,
        "validation_failed",
    )
    assert_problem(
        api.post("zhao.lei", f"/tasks/{task_id}/remove-signer", json={"users": ["he.jia"]}),
        409,
        "no_added_signers",
    )
    added = api.post("zhao.lei", path, json={"users": ["he.jia"], "position": "before"})
    [signer_task] = added.json()["opened_task_ids"]
    assert_problem(
        api.post(
            "he.jia",
            f"/tasks/{signer_task}/add-signers",
            json={"users": ["wang.fang"], "position": "before"},
        ),
        409,
        "add_sign_too_deep",
    )
    assert_problem(
        api.post("he.jia", f"/tasks/{task_id}/remove-signer", json={"users": ["he.jia"]}),
        403,
        "not_assignee",
    )
