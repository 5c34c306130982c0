"""抄送 through the REST API: the ad-hoc copy, its problems, 抄送我 and its paging."""

from __future__ import annotations

import pytest
from api_client import Api, assert_problem, loan_values

from cc_apps import publish_cc_app
from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext


@pytest.fixture
def memo(api: Api, demo_ctx: ServiceContext) -> Api:
    publish_cc_app(demo_ctx)
    return api


def _submit(api: Api) -> str:
    response = api.post("zhang.wei", "/apps/memo/tickets", json={"values": loan_values()})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_holder_copies_people_and_they_read_it(memo: Api, demo_ctx: ServiceContext) -> None:
    api = memo
    ticket_id = _submit(api)
    answer = api.post(
        "wang.fang", f"/tickets/{ticket_id}/copies", json={"users": ["he.jia"], "note": "请知悉"}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert [p["name"] for p in body["copied"]] == ["何佳"]
    assert body["by"]["name"] == "王芳" and body["note"] == "请知悉"
    ticket = api.get("he.jia", f"/tickets/{ticket_id}")
    assert ticket.status_code == 200
    kinds = [e["kind"] for e in ticket.json()["timeline"]]
    assert "copies_sent" in kinds and kinds[-1] == "ticket_copied"
    jobs.run_due(demo_ctx, owner="test")
    notices = api.get("he.jia", "/notifications").json()["items"]
    assert [n["kind"] for n in notices] == ["ticket_copied"]
    # a copied person has no action: approving the open task is refused
    task_id = ticket.json()["open_tasks"][0]["id"]
    assert api.post("he.jia", f"/tasks/{task_id}/approve", json={}).status_code == 403


def test_copy_refusals_are_problems(memo: Api) -> None:
    api = memo
    ticket_id = _submit(api)
    path = f"/tickets/{ticket_id}/copies"
    assert_problem(api.post("luo.xin", path, json={"users": ["he.jia"]}), 403, "copy_not_allowed")
    assert_problem(api.post("xu.ming", path, json={"users": ["he.jia"]}), 404, "ticket_not_found")
    assert_problem(
        api.post("wang.fang", f"/tickets/{'f' * 32}/copies", json={"users": ["he.jia"]}),
        404,
        "ticket_not_found",
    )
    assert_problem(api.post("wang.fang", path, json={"users": []}), 422, "copy_users_required")
    assert_problem(api.post("wang.fang", path, json={"users": ["ghost"]}), 422, "unknown_user")
    assert_problem(api.post("wang.fang", path, json={"users": ["wang.fang"]}), 422, "copy_self")
    assert_problem(
        api.post("wang.fang", path, json={"users": ["he.jia", "he.jia"]}), 422, "duplicate"
    )
    many = [f"u{i}" for i in range(21)]
    assert_problem(api.post("wang.fang", path, json={"users": many}), 422, "too_many_copies")
    assert_problem(api.post("wang.fang", path, json={"users": ["luo.xin"]}), 409, "already_copied")
    refused = api.post("wang.fang", path, json={"users": ["he.jia"], "cc": 1})
    assert refused.status_code == 422  # unknown fields are refused


def test_the_copied_list_pages(memo: Api) -> None:
    api = memo
    ids = [_submit(api) for _ in range(3)]
    first = api.get("luo.xin", "/copies?limit=2")
    assert first.status_code == 200, first.text
    body = first.json()
    assert [c["ticket_id"] for c in body["items"]] == ids[:0:-1]
    assert body["unread"] == 3
    item = body["items"][0]
    assert item["copied_by"] is None and item["node_id"] == "copy_start"
    assert item["serial"].startswith("BW-") and item["status"] == "running"
    assert item["read"] is False
    rest = api.get("luo.xin", f"/copies?limit=2&cursor={body['next_cursor']}").json()
    assert [c["ticket_id"] for c in rest["items"]] == ids[:1] and rest["next_cursor"] is None
    assert api.get("luo.xin", "/copies?state=unread").json()["unread"] == 3
    marked = api.post("luo.xin", f"/copies/{ids[0]}/read")
    assert marked.status_code == 200 and marked.json() == {"ticket_id": ids[0], "marked": True}
    assert api.post("luo.xin", f"/copies/{ids[0]}/read").json()["marked"] is False  # once
    unread = api.get("luo.xin", "/copies?state=unread").json()
    assert unread["unread"] == 2 and ids[0] not in [c["ticket_id"] for c in unread["items"]]
    bad = assert_problem(api.get("luo.xin", "/copies?cursor=abc"), 422, "invalid_query")
    assert bad["errors"][0]["code"] == "invalid_cursor"
    assert api.get("xu.ming", "/copies").json() == {"items": [], "next_cursor": None, "unread": 0}
