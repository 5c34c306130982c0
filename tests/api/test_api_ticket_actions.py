"""催办 and comments through the REST API: answers, problems, OpenAPI (ADR 0017)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from api_client import API, Api, assert_problem, loan_values
from fastapi.testclient import TestClient
from pydantic import ValidationError

from flowdesk.main import context_from
from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings


def _submit(api: Api, amount: str = "120000.00") -> str:
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values(amount)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_the_requester_urges_and_the_holders_see_the_serial(
    api: Api, demo_ctx: ServiceContext
) -> None:
    ticket_id = _submit(api)
    answer = api.post("zhang.wei", f"/tickets/{ticket_id}/urge")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert all(p["name"] and p["name"] != p["id"] for p in body["urged"])  # names, not ids
    assert len(body["urged"]) == 3
    assert body["next_urge_at"] > body["at"]
    jobs.run_due(demo_ctx, owner="test")
    notices = api.get("ma.li", "/notifications").json()["items"]
    urged = [n for n in notices if n["kind"] == "ticket_urged"]
    assert len(urged) == 1
    serial = api.get("zhang.wei", f"/tickets/{ticket_id}").json()["serial"]
    assert urged[0]["serial"] == serial and urged[0]["ticket_id"] == ticket_id
    timeline = api.get("zhang.wei", f"/tickets/{ticket_id}").json()["timeline"]
    assert timeline[-1]["kind"] == "ticket_urged" and timeline[-1]["by_person"] is True


def test_a_second_urge_is_429_with_retry_after_and_when(api: Api) -> None:
    ticket_id = _submit(api)
    assert api.post("zhang.wei", f"/tickets/{ticket_id}/urge").status_code == 200
    again = api.post("zhang.wei", f"/tickets/{ticket_id}/urge", headers={"Accept-Language": "zh"})
    body = assert_problem(again, 429, "urged_too_soon")
    assert 14_390 <= int(again.headers["Retry-After"]) <= 14_400
    assert "可再次催办" in body["title"] and "UTC" in body["title"]


def test_urge_refusals_are_problems(api: Api) -> None:
    ticket_id = _submit(api, "30000.00")
    assert_problem(api.post("li.na", f"/tickets/{ticket_id}/urge"), 403, "urge_not_allowed")
    assert_problem(api.post("wu.min", f"/tickets/{ticket_id}/urge"), 404, "ticket_not_found")
    assert_problem(api.post("admin", f"/tickets/{'f' * 32}/urge"), 404, "ticket_not_found")
    task_id = api.get("li.na", "/tasks").json()["items"][0]["id"]
    api.post("li.na", f"/tasks/{task_id}/reject", json={"comment": "no"})
    assert_problem(api.post("zhang.wei", f"/tickets/{ticket_id}/urge"), 409, "ticket_not_running")
    unauthenticated = api.client.post(f"{API}/tickets/{ticket_id}/urge")
    assert unauthenticated.status_code == 401


def test_a_reader_comments_and_the_timeline_shows_it(api: Api, demo_ctx: ServiceContext) -> None:
    ticket_id = _submit(api)
    answer = api.post("ma.li", f"/tickets/{ticket_id}/comments", json={"comment": " 请补充流水 "})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["comment"] == "请补充流水"
    assert body["author"]["id"] and body["author"]["name"]
    timeline = api.get("zhang.wei", f"/tickets/{ticket_id}").json()["timeline"]
    assert (timeline[-1]["kind"], timeline[-1]["comment"]) == ("comment_added", "请补充流水")
    assert timeline[-1]["actor"]["id"] == body["author"]["id"]
    jobs.run_due(demo_ctx, owner="test")
    kinds = [n["kind"] for n in api.get("zhang.wei", "/notifications").json()["items"]]
    assert "ticket_commented" in kinds
    assert "ticket_commented" not in [
        n["kind"] for n in api.get("ma.li", "/notifications").json()["items"]
    ]


def test_comment_refusals_are_problems(api: Api) -> None:
    ticket_id = _submit(api)
    path = f"/tickets/{ticket_id}/comments"
    blank = assert_problem(
        api.post("ma.li", path, json={"comment": "\u200b "}), 422, "validation_failed"
    )
    assert [(e["path"], e["code"]) for e in blank["errors"]] == [("comment", "required")]
    long = assert_problem(
        api.post("ma.li", path, json={"comment": "x" * 2001}), 422, "validation_failed"
    )
    assert [e["code"] for e in long["errors"]] == ["too_long"]
    nul = api.post("ma.li", path, json={"comment": "a\u0000b"})
    assert nul.status_code == 400
    unknown = api.post("ma.li", path, json={"comment": "hi", "actor_id": "x"})
    assert unknown.status_code == 422
    assert_problem(api.post("wu.min", path, json={"comment": "hi"}), 404, "ticket_not_found")
    wrong_type = api.post(
        "ma.li", path, content=b"comment=hi", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415


def test_openapi_declares_every_answer_as_problem_json(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    urge = spec["paths"]["/tickets/{ticket_id}/urge"]["post"]
    comment = spec["paths"]["/tickets/{ticket_id}/comments"]["post"]
    assert urge["operationId"] == "urgeTicket"
    assert comment["operationId"] == "commentOnTicket"
    for operation, statuses in (
        (urge, {401, 403, 404, 409, 429}),
        (comment, {403, 404, 413, 415, 422}),
    ):
        for status in statuses:
            content = operation["responses"][str(status)]["content"]
            assert list(content) == ["application/problem+json"], status
    assert "201" in comment["responses"]


def test_the_urge_interval_is_read_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDESK_TICKETS__URGE_INTERVAL_MINUTES", "30")
    ctx = context_from(Settings(database_url=f"sqlite:///{tmp_path / 'f.db'}"))
    try:
        assert ctx.urge_interval == timedelta(minutes=30)
    finally:
        ctx.db.dispose()
    assert Settings().tickets.urge_interval_minutes == 30
    monkeypatch.delenv("FLOWDESK_TICKETS__URGE_INTERVAL_MINUTES")
    assert Settings().tickets.urge_interval_minutes == 240  # objectstack's 4 hours
    monkeypatch.setenv("FLOWDESK_TICKETS__URGE_INTERVAL_MINUTES", "0")
    with pytest.raises(ValidationError):
        Settings()
