"""Bad input gets a clear 4xx problem+json, stores nothing and never echoes personal data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from api_client import API, Api, assert_problem, loan_values, without_request_id
from fastapi.testclient import TestClient

from flowdesk.main import create_app
from flowdesk.services import demo, views
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings

PHONE = "13812345678"
RESIDENT_ID = "11010519491231002X"


def _raw_submit(api: Api, content: bytes, content_type: str = "application/json") -> Any:
    return api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        content=content,
        headers={"Content-Type": content_type},
    )


def _ticket_count(ctx: ServiceContext, actors: dict[str, Any]) -> int:
    return len(views.tickets(ctx, actors["admin"], limit=100).items)


@pytest.fixture
def nothing_stored(demo_ctx: ServiceContext, actors: dict[str, Any]) -> Any:
    yield
    assert _ticket_count(demo_ctx, actors) == 0


@pytest.mark.parametrize(
    "content, code",
    [
        (b'{"values": {"applicant_name": "' + PHONE.encode() + b'"', "malformed_json"),
        (b"", "malformed_json"),
        (b"null", "validation_failed"),
        (b"[1, 2]", "validation_failed"),
        (b'{"values": {"amount": "1"}, "values": {"amount": "2"}}', "duplicate_key"),
        (b'{"values": {"amount": "1", "amount": "120000.00"}}', "duplicate_key"),
        (b'{"values": {"applicant_name": "\xff\xfe"}}', "invalid_utf8"),
        (b'{"values": {"applicant_name": "a\x00b"}}', "invalid_characters"),
        (b'{"values": {"applicant_name": "a\\u0000b"}}', "invalid_characters"),
        (b'{"values": NaN}', "malformed_json"),
        (b'{"values": {"amount": Infinity}}', "malformed_json"),
    ],
    ids=[
        "truncated",
        "empty",
        "null",
        "array",
        "duplicate-top",
        "duplicate-nested",
        "bad-utf8",
        "raw-nul",
        "escaped-nul",
        "nan",
        "infinity",
    ],
)
def test_unreadable_bodies_are_refused(
    api: Api, nothing_stored: None, content: bytes, code: str
) -> None:
    response = _raw_submit(api, content)
    status = 422 if code == "validation_failed" else 400
    assert_problem(response, status, code)
    assert PHONE not in response.text


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "",
        "application/xml",
    ],
)
def test_wrong_content_types_are_refused(api: Api, nothing_stored: None, content_type: str) -> None:
    body = json.dumps({"values": loan_values()}).encode()
    assert_problem(_raw_submit(api, body, content_type), 415, "unsupported_media_type")


def test_json_with_a_charset_parameter_is_fine(api: Api) -> None:
    body = json.dumps({"values": loan_values()}).encode()
    response = _raw_submit(api, body, "application/json; charset=utf-8")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "payload, path",
    [
        ({"values": loan_values(), "status": "approved"}, "status"),
        ({"values": loan_values(), "assignee": "zhang.wei"}, "assignee"),
        ({"values": loan_values(), "version": 7}, "version"),
        ({"values": loan_values(), "created_by": "admin"}, "created_by"),
        ({"values": loan_values(status="approved")}, "status"),
        ({"values": loan_values(requester_id="x")}, "requester_id"),
        ({"values": {**loan_values(), PHONE: "x"}}, "(unknown)"),
    ],
    ids=["status", "assignee", "version", "created_by", "values.status", "values.requester", "odd"],
)
def test_unknown_fields_are_refused(
    api: Api, nothing_stored: None, payload: dict[str, Any], path: str
) -> None:
    response = api.post("zhang.wei", "/apps/loan/tickets", json=payload)
    body = assert_problem(response, 422, "validation_failed")
    assert path in [error["path"] for error in body["errors"]]
    assert PHONE not in response.text


@pytest.mark.parametrize(
    "values, path, code",
    [
        (loan_values(amount=120000.5), "amount", "float_not_allowed"),
        (loan_values(amount=120000.0), "amount", "float_not_allowed"),
        (loan_values(amount="120000.001"), "amount", "too_many_decimals"),
        (loan_values(amount="1e5"), "amount", "invalid_number"),
        (loan_values(amount="0.50"), "amount", "too_small"),
        (loan_values(amount="100000000.01"), "amount", "too_large"),
        (loan_values(amount=True), "amount", "invalid_type"),
        (loan_values(term_months="12"), "term_months", "invalid_type"),
        (loan_values(term_months=12.0), "term_months", "float_not_allowed"),
        (loan_values(term_months=0), "term_months", "too_small"),
        (loan_values(credit_rating="AAA"), "credit_rating", "invalid_choice"),
        (loan_values(applicant_name=None), "applicant_name", "required"),
        (loan_values(purpose="x" * 1001), "purpose", "too_long"),
        (loan_values(applicant_name="\u202eevil"), "applicant_name", "invalid_characters"),
    ],
)
def test_wrong_values_are_refused_without_coercion(
    api: Api, nothing_stored: None, values: dict[str, Any], path: str, code: str
) -> None:
    values = {k: v for k, v in values.items() if v is not None}
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": values})
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [(path, code)]
    assert all(e["message"] for e in body["errors"])


def test_refusals_never_echo_personal_values(api: Api, nothing_stored: None) -> None:
    values = loan_values(
        applicant_name=f"{RESIDENT_ID} {PHONE}" * 20,  # too long
        amount=f"{PHONE}.123",
        purpose={"phone": PHONE},
        region=PHONE,
    )
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": values, "note": PHONE})
    assert response.status_code == 422
    assert PHONE not in response.text
    assert RESIDENT_ID not in response.text
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": PHONE})
    assert_problem(response, 422, "validation_failed")
    assert PHONE not in response.text


@pytest.fixture
def dated_app(demo_ctx: ServiceContext) -> str:
    from flowdesk.services import apps

    apps.publish_yaml(
        demo_ctx,
        """
key: leave
name: {en: Leave request, zh: 请假}
form:
  fields:
    - {key: reason, type: text, label: {en: Reason, zh: 事由}, required: true}
    - {key: first_day, type: date, label: {en: First day, zh: 开始日期}, required: true}
process:
  nodes:
    - {id: start, type: start}
    - id: manager
      type: user_task
      name: {en: Manager, zh: 经理}
      assignee: {kind: applicant_manager}
    - {id: end, type: end}
  flows:
    - {from: start, to: manager}
    - {from: manager, to: end}
""",
    )
    return "leave"


@pytest.mark.parametrize(
    "day, status",
    [
        ("2026-02-28", 201),
        ("2028-02-29", 201),
        ("2026-02-30", 422),
        ("2026-02-29", 422),
        ("2026-13-01", 422),
        ("2026-3-1", 422),
        ("2026-03-01T09:00:00", 422),
        ("01/03/2026", 422),
    ],
)
def test_impossible_dates_are_refused(api: Api, dated_app: str, day: str, status: int) -> None:
    response = api.post(
        "zhang.wei",
        f"/apps/{dated_app}/tickets",
        json={"values": {"reason": "family", "first_day": day}},
    )
    if status == 201:
        assert response.status_code == 201, response.text
        assert response.json()["values"]["first_day"] == day
    else:
        body = assert_problem(response, 422, "validation_failed")
        assert [(e["path"], e["code"]) for e in body["errors"]] == [("first_day", "invalid_date")]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic emhhbmcud2VpOkRlbW9AMjAyNg=="},
        {"Authorization": "Bearer fdk_not-a-token"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Token fdk_abc"},
    ],
)
def test_missing_or_bad_credentials_are_401(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/me"), ("GET", "/tickets"), ("POST", "/apps/loan/tickets")):
        response = client.request(
            method, f"{API}{path}", headers=headers, json={"values": loan_values()}
        )
        assert_problem(response, 401, response.json()["code"])
        assert response.json()["code"] in ("unauthenticated", "invalid_token")


def test_other_peoples_tickets_are_not_found(api: Api) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    hidden = api.get("wu.min", f"/tickets/{ticket['id']}")
    missing = api.get("wu.min", f"/tickets/{'0' * 32}")
    assert_problem(hidden, 404, "ticket_not_found")
    assert_problem(missing, 404, "ticket_not_found")
    assert without_request_id(hidden.json()) == without_request_id(missing.json())  # alike
    # Acting on a task of a ticket one cannot see looks like a missing task too.
    legal = next(t for t in ticket["open_tasks"] if t["node_id"] == "legal_review")
    assert_problem(
        api.post("wu.min", f"/tasks/{legal['id']}/approve", json={}), 404, "task_not_found"
    )
    assert_problem(api.post("wu.min", f"/tasks/{'0' * 32}/approve", json={}), 404, "task_not_found")


def test_acting_without_being_the_assignee_is_forbidden(api: Api) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    legal = next(t for t in ticket["open_tasks"] if t["node_id"] == "legal_review")
    for who in ("zhang.wei", "liu.yang", "admin"):  # they can all see the ticket
        response = api.post(who, f"/tasks/{legal['id']}/approve", json={"comment": "me too"})
        assert_problem(response, 403, "not_assignee")
    assert api.get("zhang.wei", f"/tickets/{ticket['id']}").json()["timeline"][-1]["kind"] == (
        "task_opened"
    )


def test_acting_twice_is_a_conflict(api: Api) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    finance = next(t for t in ticket["open_tasks"] if t["node_id"] == "finance_review")
    first = api.post("liu.yang", f"/tasks/{finance['id']}/approve", json={})
    assert first.status_code == 200
    for who, action in (("liu.yang", "approve"), ("ma.li", "approve"), ("ma.li", "reject")):
        again = api.post(who, f"/tasks/{finance['id']}/{action}", json={})
        body = assert_problem(again, 409, "task_not_open")
        assert body["title"] == "The task is no longer open"


def test_comment_errors_follow_accept_language(api: Api) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    finance = next(t for t in ticket["open_tasks"] if t["node_id"] == "finance_review")
    for language, title, message in (
        ("zh-CN,zh;q=0.9", "审批意见填写有误", "审批意见包含不允许的控制字符"),
        (
            "en-US",
            "The comment is not valid",
            "The comment contains control characters that are not allowed",
        ),
    ):
        response = api.post(
            "liu.yang",
            f"/tasks/{finance['id']}/approve",
            json={"comment": "ok\u0007"},
            headers={"Accept-Language": language},
        )
        body = assert_problem(response, 422, "validation_failed")
        assert body["title"] == title
        assert body["errors"] == [
            {"path": "comment", "code": "invalid_characters", "message": message}
        ]
    assert [t["id"] for t in api.get("liu.yang", "/tasks").json()["items"]] == [finance["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/tickets?app=lo%00an"),
        ("GET", "/tickets?mine=false&x%00=1"),
        ("GET", f"/tickets/{'a' * 31}%00"),
        ("GET", "/apps/lo%00an"),
        ("POST", "/apps/lo%00an/tickets"),
    ],
)
def test_a_nul_in_the_url_is_refused(api: Api, method: str, path: str) -> None:
    """PostgreSQL cannot even compare text with a NUL in it: refused before any query."""
    response = api.client.request(
        method, f"{API}{path}", headers=api.headers("zhang.wei"), json={"values": {}}
    )
    assert_problem(response, 400, "invalid_characters")


def test_task_actions_refuse_unknown_fields(api: Api) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    finance = next(t for t in ticket["open_tasks"] if t["node_id"] == "finance_review")
    for extra in ({"assignee": "ma.li"}, {"outcome": "approve"}, {"comment": 5}):
        response = api.post("liu.yang", f"/tasks/{finance['id']}/approve", json=extra)
        assert_problem(response, 422, "validation_failed")
    response = api.post(
        "liu.yang", f"/tasks/{finance['id']}/approve", json={"values": {"amount": 1.5}}
    )
    # No field is editable at a loan review, whatever its value (test_api_approver_edits.py).
    body = assert_problem(response, 422, "values_not_editable")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("amount", "field_not_editable")]
    open_now = api.get("liu.yang", "/tasks").json()["items"]
    assert [t["id"] for t in open_now] == [finance["id"]]


def test_unknown_apps_are_not_found(api: Api) -> None:
    assert_problem(api.get("zhang.wei", "/apps/nope"), 404, "app_not_found")
    response = api.post("zhang.wei", "/apps/nope/tickets", json={"values": {}})
    assert_problem(response, 404, "app_not_found")
    assert_problem(api.get("zhang.wei", "/no/such/route"), 404, "not_found")
    assert_problem(api.client.delete(f"{API}/apps"), 405, "method_not_allowed")


def test_too_many_logins_get_429_with_retry_after(client: TestClient) -> None:
    bad = {"username": "ma.li", "password": "guess"}
    for _ in range(5):
        assert_problem(client.post(f"{API}/auth/token", json=bad), 401, "bad_credentials")
    good = {"username": "ma.li", "password": demo.DEMO_PASSWORD}
    response = client.post(f"{API}/auth/token", json=good)
    assert_problem(response, 429, "too_many_attempts")
    assert 1 <= int(response.headers["Retry-After"]) <= 301
    assert demo.DEMO_PASSWORD not in response.text


def test_token_requests_are_strict(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/token",
        json={"username": "ma.li", "password": demo.DEMO_PASSWORD, "admin": True},
    )
    assert_problem(response, 422, "validation_failed")
    response = client.post(f"{API}/auth/token", json={"username": "ma.li", "password": 12345678})
    assert_problem(response, 422, "validation_failed")
    assert "12345678" not in response.text


LIMIT = 64 * 1024


@pytest.fixture
def small_limit_app(demo_ctx: ServiceContext) -> Any:
    return create_app(
        Settings(dev=True, run_worker=False, max_body_bytes=LIMIT), demo_ctx, migrate=False
    )


def test_oversized_bodies_are_413(small_limit_app: Any, api: Api) -> None:
    headers = api.headers("zhang.wei")
    with TestClient(small_limit_app) as client:
        big = json.dumps({"values": loan_values(purpose="x" * (LIMIT + 1))}).encode()
        response = client.post(
            f"{API}/apps/loan/tickets",
            content=big,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 413, "body_too_large")

        def stream() -> Any:
            for _ in range(4):
                yield b"x" * LIMIT

        response = client.post(
            f"{API}/apps/loan/tickets",
            content=stream(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 413, "body_too_large")


def _asgi_post(app: Any, headers: list[tuple[bytes, bytes]], chunks: int, size: int) -> Any:
    """Drives the ASGI app directly, counting how much of the body it pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < chunks:
            pulled += 1
            return {"type": "http.request", "body": b"x" * size, "more_body": pulled < chunks}
        await asyncio.sleep(3600)  # the client would wait; the app should have answered
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{API}/apps/loan/tickets",
        "raw_path": f"{API}/apps/loan/tickets".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


@pytest.mark.parametrize(
    "declared",
    [None, b"100", b"0"],
    ids=["no-content-length", "lying-content-length", "zero-content-length"],
)
def test_a_streamed_oversized_body_is_cut_off_before_it_is_read_in_full(
    small_limit_app: Any, api: Api, declared: bytes | None
) -> None:
    token = api.token("zhang.wei").encode()
    headers = [(b"authorization", b"Bearer " + token)]
    if declared is not None:
        headers.append((b"content-length", declared))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    status, body, pulled = _asgi_post(small_limit_app, headers, chunks=100, size=16 * 1024)
    assert status == 413
    assert body["code"] == "body_too_large"
    assert pulled <= LIMIT // (16 * 1024) + 1  # stopped right after the limit, not at 1.6 MB


def test_a_declared_oversized_body_is_refused_without_reading_it(
    small_limit_app: Any, api: Api
) -> None:
    token = api.token("zhang.wei").encode()
    headers = [(b"authorization", b"Bearer " + token), (b"content-length", b"999999999")]
    status, body, pulled = _asgi_post(small_limit_app, headers, chunks=100, size=16 * 1024)
    assert (status, body["code"], pulled) == (413, "body_too_large", 0)
    for bogus in (b"-1", b"12abc", b"1e9"):
        headers = [(b"authorization", b"Bearer " + token), (b"content-length", bogus)]
        status, _, pulled = _asgi_post(small_limit_app, headers, chunks=1, size=10)
        assert status in (400, 413)
        assert pulled == 0
