"""The loan flow through the REST API, as a program integrating with flowdesk would drive it."""

from __future__ import annotations

from typing import Any

from api_client import Api, assert_problem, loan_values

from flowdesk.services import tickets
from flowdesk.services.context import ServiceContext


def _open_tasks(api: Api, username: str) -> list[dict[str, Any]]:
    response = api.get(username, "/tasks", params={"assignee": "me", "state": "open"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _approve(api: Api, username: str, ticket_id: str, node_id: str, comment: str) -> dict[str, Any]:
    (task,) = [t for t in _open_tasks(api, username) if t["ticket_id"] == ticket_id]
    assert task["node_id"] == node_id
    response = api.post(username, f"/tasks/{task['id']}/approve", json={"comment": comment})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["ticket_id"] == ticket_id
    return body


def test_a_large_loan_end_to_end(api: Api) -> None:
    me = api.get("zhang.wei", "/me")
    assert me.status_code == 200
    assert me.json()["username"] == "zhang.wei"
    assert me.json()["display_name"] == "张伟"
    assert me.json()["open_tasks"] == 0

    listed = api.get("zhang.wei", "/apps").json()
    assert [(a["key"], a["version"], a["name"]["zh"]) for a in listed] == [
        ("complaint", 1, "客户投诉处理"),
        ("loan", 1, "贷款审批"),
    ]
    detail = api.get("zhang.wei", "/apps/loan").json()
    assert [f["key"] for f in detail["fields"]] == [
        "applicant_name",
        "amount",
        "term_months",
        "credit_rating",
        "region",
        "purpose",
    ]
    assert {"legal_review", "finance_review", "committee", "disburse"} <= {
        n["id"] for n in detail["nodes"]
    }

    created = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()})
    assert created.status_code == 201, created.text
    ticket = created.json()
    ticket_id = ticket["id"]
    assert ticket["status"] == "running"
    assert ticket["values"]["amount"] == "120000.00"
    assert ticket["app"] == "loan"
    assert ticket["app_version"] == 1
    assert sorted(t["node_id"] for t in ticket["open_tasks"]) == ["finance_review", "legal_review"]

    assert api.get("wang.fang", "/me").json()["open_tasks"] == 1
    _approve(api, "wang.fang", ticket_id, "legal_review", "合规")
    step = _approve(api, "liu.yang", ticket_id, "finance_review", "财务通过")
    assert step["status"] == "running"
    assert len(step["opened_task_ids"]) == 1
    assert [t["ticket_id"] for t in _open_tasks(api, "ma.li")] == []  # the other reviewer's copy
    _approve(api, "luo.xin", ticket_id, "committee", "同意放款")
    done = _approve(api, "zhao.lei", ticket_id, "disburse", "已放款")
    assert done["status"] == "approved"

    final = api.get("zhang.wei", f"/tickets/{ticket_id}")
    assert final.status_code == 200
    body = final.json()
    assert body["status"] == "approved"
    assert body["finished_at"] is not None
    assert body["open_tasks"] == []
    assert body["values"] == loan_values()
    assert body["requester"]["name"] == "张伟"
    timeline = [(e["kind"], e["node_id"], (e["actor"] or {}).get("name")) for e in body["timeline"]]
    assert timeline[0] == ("ticket_submitted", None, "张伟")
    approvals = [(node, actor) for kind, node, actor in timeline if kind == "task_approved"]
    assert approvals == [
        ("legal_review", "王芳"),
        ("finance_review", "刘洋"),
        ("committee", "罗欣"),
        ("disburse", "赵磊"),
    ]
    assert timeline[-1] == ("ticket_approved", None, None)
    comments = {t["node_id"]: t["comment"] for t in body["tasks"]}
    assert comments["committee"] == "同意放款"
    assert next(e for e in body["timeline"] if e["node_id"] == "legal_review" and e["actor"])[
        "node_name"
    ] == {"en": "Legal review", "zh": "法务审查"}
    # Each task's entries name the task; ticket-level entries name none.
    task_ids = {t["node_id"]: t["id"] for t in body["tasks"]}
    for entry in body["timeline"]:
        if entry["kind"] in ("task_opened", "task_approved"):
            assert entry["task_id"] == task_ids[entry["node_id"]], entry
        else:
            assert entry["task_id"] is None, entry

    mine = api.get(
        "zhang.wei", "/tickets", params={"app": "loan", "status": "approved", "mine": "true"}
    )
    assert [t["id"] for t in mine.json()["items"]] == [ticket_id]


def test_titles_follow_accept_language_and_the_subject_is_given_too(api: Api) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    assert (ticket["title"], ticket["subject"]) == ("Loan approval · 张三", "张三")  # default: en
    for language, title in (
        ("zh-CN,zh;q=0.9", "贷款审批 · 张三"),
        ("en-GB", "Loan approval · 张三"),
    ):
        headers = {"Accept-Language": language}
        one = api.get("zhang.wei", f"/tickets/{ticket['id']}", headers=headers).json()
        assert (one["title"], one["subject"]) == (title, "张三")
        (listed,) = api.get(
            "zhang.wei", "/tickets", params={"mine": "true"}, headers=headers
        ).json()["items"]
        assert (listed["title"], listed["subject"]) == (title, "张三")
        (task,) = api.get("wang.fang", "/tasks", headers=headers).json()["items"]
        assert (task["ticket_title"], task["ticket_subject"]) == (title, "张三")


def test_a_small_loan_and_a_rejection(api: Api) -> None:
    small = api.post("wu.min", "/apps/loan/tickets", json={"values": loan_values("8000")}).json()
    assert small["values"]["amount"] == "8000.00"
    _approve(api, "li.na", small["id"], "branch_review", "")
    assert _approve(api, "qian.yu", small["id"], "disburse", "")["status"] == "approved"

    large = api.post("wu.min", "/apps/loan/tickets", json={"values": loan_values()}).json()
    (legal,) = [t for t in _open_tasks(api, "wang.fang") if t["ticket_id"] == large["id"]]
    rejected = api.post("wang.fang", f"/tasks/{legal['id']}/reject", json={"comment": "材料不全"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    view = api.get("wu.min", f"/tickets/{large['id']}").json()
    assert view["status"] == "rejected"
    assert {t["node_id"]: t["state"] for t in view["tasks"]} == {
        "legal_review": "rejected",
        "finance_review": "cancelled",
    }


def test_ticket_lists_page_with_a_cursor(
    api: Api, demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    """More tickets than one page: walking the cursor yields each exactly once, newest first."""
    mine = []
    for index in range(7):
        outcome = tickets.submit(
            demo_ctx, actor=actors["zhang.wei"], app_key="loan", values=loan_values("1000")
        )
        if index != 3:  # one stays running
            (task,) = outcome.opened_task_ids
            branch = tickets.approve(demo_ctx, actor=actors["li.na"], task_id=task)
            tickets.approve(demo_ctx, actor=actors["zhao.lei"], task_id=branch.opened_task_ids[0])
            mine.append(outcome.ticket_id)
    # Someone else's approved ticket must not show up under mine=true.
    other = tickets.submit(
        demo_ctx, actor=actors["wu.min"], app_key="loan", values=loan_values("1000")
    )
    branch = tickets.approve(demo_ctx, actor=actors["li.na"], task_id=other.opened_task_ids[0])
    tickets.approve(demo_ctx, actor=actors["zhao.lei"], task_id=branch.opened_task_ids[0])

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"app": "loan", "status": "approved", "mine": "true", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = api.get("zhang.wei", "/tickets", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        assert {t["status"] for t in page["items"]} <= {"approved"}
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(mine, reverse=True)

    # The approver sees the tickets they worked on; the inbox pages the same way.
    involved = api.get("li.na", "/tickets", params={"limit": 100}).json()["items"]
    assert len(involved) == 8
    assert api.get("li.na", "/tickets", params={"mine": "true"}).json()["items"] == []


def test_the_inbox_pages_with_a_cursor(api: Api) -> None:
    ids = set()
    for _ in range(5):
        created = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("500")})
        ids.add(created.json()["open_tasks"][0]["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("li.na", "/tasks", params=params).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(ids)


def test_query_parameters_are_validated(api: Api) -> None:
    # The list vocabulary's own check (services/list_query.py) names the parameter.
    for params in ({"status": "won"}, {"limit": 0}, {"limit": 101}, {"cursor": "' OR 1=1 --"}):
        body = assert_problem(api.get("zhang.wei", "/tickets", params=params), 422, "invalid_query")
        assert [e["path"] for e in body["errors"]] == list(params)
    body = assert_problem(
        api.get("zhang.wei", "/tasks", params={"assignee": "the boss"}), 422, "invalid_query"
    )
    assert [e["path"] for e in body["errors"]] == ["assignee"]
