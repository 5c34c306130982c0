"""Notifications through the REST API: what the next approvers see, and marking it read."""

from __future__ import annotations

from typing import Any

import pytest
from api_client import API, Api, assert_problem, loan_values
from fastapi.testclient import TestClient

from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext


def _file_loan(api: Api, ctx: ServiceContext, amount: str = "120000.00") -> dict[str, Any]:
    created = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values(amount)})
    assert created.status_code == 201, created.text
    jobs.run_due(ctx, owner="test")  # the notify job the worker would run
    ticket: dict[str, Any] = created.json()
    return ticket


def _unread(api: Api, username: str, language: str = "en", **params: Any) -> dict[str, Any]:
    response = api.get(
        username, "/notifications", params=params, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_the_next_approver_is_notified_and_marks_it_read(
    api: Api, demo_ctx: ServiceContext
) -> None:
    ticket = _file_loan(api, demo_ctx)
    legal_task = next(t for t in ticket["open_tasks"] if t["node_id"] == "legal_review")
    page = _unread(api, "wang.fang", "zh-CN")
    assert page["unread"] == 1 and page["next_cursor"] is None
    (notice,) = page["items"]
    assert notice["kind"] == "task_assigned"
    assert (notice["ticket_id"], notice["task_id"]) == (ticket["id"], legal_task["id"])
    assert notice["title"].startswith("贷款审批 · ") and notice["read"] is False
    assert notice["serial"] == ticket["serial"] and notice["serial"].startswith("LN-")
    english = _unread(api, "wang.fang", "en")["items"][0]
    assert english["title"].startswith("Loan approval · ")

    # Someone else's id is ignored, not revealed.
    assert api.post("liu.yang", "/notifications/read", json={"ids": [notice["id"]]}).json() == {
        "marked": 0
    }
    marked = api.post("wang.fang", "/notifications/read", json={"ids": [notice["id"]]})
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    again = api.post("wang.fang", "/notifications/read", json={"ids": [notice["id"]]})
    assert again.json() == {"marked": 0}
    assert _unread(api, "wang.fang") == {"items": [], "next_cursor": None, "unread": 0}
    assert _unread(api, "liu.yang")["unread"] == 1  # finance's own stays unread
    history = _unread(api, "wang.fang", state="all")
    assert [(n["id"], n["read"]) for n in history["items"]] == [(notice["id"], True)]


def test_notifications_page_by_cursor_and_all_can_be_marked_read(
    api: Api, demo_ctx: ServiceContext
) -> None:
    for _ in range(3):
        _file_loan(api, demo_ctx)
    first = _unread(api, "wang.fang", limit=2)
    assert first["unread"] == 3 and len(first["items"]) == 2 and first["next_cursor"]
    rest = _unread(api, "wang.fang", limit=2, cursor=first["next_cursor"])
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = {n["id"] for n in first["items"] + rest["items"]}
    assert len(seen) == 3
    assert api.post("wang.fang", "/notifications/read", json={"all": True}).json() == {"marked": 3}
    assert _unread(api, "wang.fang")["unread"] == 0


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"ids": []},
        {"ids": ["not-an-id"]},
        {"ids": ["ab" * 16], "all": True},
        {"all": False},
        {"all": "true"},
        {"all": True, "read_at": "2026-01-01"},
        {"ids": ["ab" * 16] * 101},
    ],
)
def test_bad_mark_read_bodies_are_422_and_change_nothing(
    api: Api, demo_ctx: ServiceContext, bad: dict[str, Any]
) -> None:
    _file_loan(api, demo_ctx)
    assert_problem(api.post("wang.fang", "/notifications/read", json=bad), 422, "validation_failed")
    assert _unread(api, "wang.fang")["unread"] == 1


def test_notifications_need_a_token_and_a_valid_cursor(client: TestClient, api: Api) -> None:
    assert client.get(f"{API}/notifications").status_code == 401
    assert client.post(f"{API}/notifications/read", json={"all": True}).status_code == 401
    response = api.get("wang.fang", "/notifications", params={"cursor": "x"})
    assert response.status_code == 422
