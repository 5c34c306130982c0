"""Property-based fuzzing of the REST API from its own OpenAPI document (schemathesis).

RELIABILITY.md: no generated request, however malformed, may produce a server error.
Runs against a real server on each backend; DELETE /auth/token is left out because it
would revoke the token the run authenticates with.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from api_client import API, Api, assert_problem
from fastapi.testclient import TestClient

from flowdesk.main import create_app
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from live_server import serving

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.parametrize("username", ["zhang.wei", "admin"])
def test_no_generated_request_causes_a_server_error_or_an_undeclared_answer(
    demo_ctx: ServiceContext, username: str
) -> None:
    """Also: every answer's status, media type and body are the ones the document declares
    (the problem answers included), as an admin (admin routes) and as a requester."""
    if not SCHEMATHESIS.exists() and shutil.which("schemathesis") is None:
        pytest.skip("schemathesis is not installed (it is in the dev extras)")
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)
    with TestClient(app) as client:
        token = Api(client).token(username)
    with serving(app) as url:
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{url}{API}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance",
                "--exclude-method",
                "DELETE",
                "--max-examples",
                "25",
                "--seed",
                "20261122",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "passed" in run.stdout


# ---- The whole class of unreadable bodies, on every kind of endpoint -------------------
# Each answer is a 400 (415 for a wrong type) problem with a precise code, never a 500,
# and stores nothing; the unauthenticated token endpoint included (ADR 0012).

RESIDENT_ID = "11010519491231002X"
DEEP = b'{"values": ' + b"[" * 1000 + b"]" * 1000 + b"}"
UNREADABLE = [
    (DEEP, "too_deep"),
    (b"[" * 100_000, "too_deep"),
    (b'{"values": {"amount": ' + b"9" * 5000 + b"}}", "number_too_long"),
    (b'{"values": {"amount": 1' + b"0" * 400 + b".5}}", "number_too_long"),
    (b'{"values": {"amount": 1e999}}', "number_out_of_range"),
    (b'{"values": {"purpose": "' + b"x" * 200_000 + b'"}}', "string_too_long"),
    (b'{"values": {"' + b"k" * 1000 + b'": 1}}', "key_too_long"),
    (b'{"values": {"purpose": "a\\u0000b"}}', "invalid_characters"),
    (b'{"values": {"a\\u0000": 1}}', "invalid_characters"),
    (b'{"values": {"purpose": "a\x00b"}}', "invalid_characters"),
    (b'{"values": {"purpose": "\xc3\x28"}}', "invalid_utf8"),
    (b'{"values": {"a": 1, "a": 2}}', "duplicate_key"),
    (b'{"values": {"purpose": "x"}', "malformed_json"),
]
UNREADABLE_IDS = [
    "deep-1000",
    "open-brackets",
    "int-5000-digits",
    "float-400-digits",
    "float-overflow",
    "string-200k",
    "key-1000",
    "escaped-nul",
    "escaped-nul-in-key",
    "raw-nul",
    "bad-utf8",
    "duplicate-key",
    "truncated",
]


def _token_body(content: bytes) -> bytes:
    """The same defect inside a token request (username and password come first)."""
    return content.replace(b'{"values": ', b'{"username": "admin", "password": "x", "v": ', 1)


@pytest.mark.parametrize("content, code", UNREADABLE, ids=UNREADABLE_IDS)
def test_every_unreadable_body_is_a_precise_400(
    api: Api, client: TestClient, demo_ctx: ServiceContext, content: bytes, code: str
) -> None:
    before = _ticket_count(demo_ctx, api)
    json_type = {"Content-Type": "application/json"}
    answers = [
        api.post("zhang.wei", "/apps/loan/tickets", content=content, headers=json_type),
        api.post("li.na", f"/tasks/{'0' * 32}/approve", content=content, headers=json_type),
        client.post(f"{API}/auth/token", content=_token_body(content), headers=json_type),
    ]
    for response in answers:
        body = assert_problem(response, 400, code)
        assert len(response.content) < 1000  # nothing of the body is echoed
        assert "Traceback" not in response.text
        assert body["request_id"]
    assert _ticket_count(demo_ctx, api) == before


def _ticket_count(ctx: ServiceContext, api: Api) -> int:
    response = api.get("admin", "/tickets", params={"limit": 100})
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


@pytest.mark.parametrize(
    "path",
    [
        "/apps/%00/new",
        "/tickets/%00",
        "/tasks?state=%00",
        "/apps/loan/new?x=a%00b",
        f"{API}/apps/%00",
        f"{API}/tickets/%00",
        f"{API}/tickets?q=%00",
        f"{API}/tasks?assignee=me&state=%00",
        f"{API}/auth/token?x=%00",
    ],
)
def test_a_nul_anywhere_in_a_url_is_400_invalid_characters(
    api: Api, client: TestClient, path: str
) -> None:
    headers = api.headers("zhang.wei")
    response = client.get(path, headers=headers)
    assert response.status_code == 400, response.text
    if path.startswith(API):
        assert_problem(response, 400, "invalid_characters")
    else:
        assert response.headers["content-type"].startswith("text/html")
    response = client.post(path, headers=headers, json={})
    assert response.status_code == 400, response.text


def test_unknown_keys_are_never_echoed_and_the_answer_stays_small(api: Api) -> None:
    values = {f"{RESIDENT_ID}{i:06d}": "x" for i in range(28_000)}  # ~1 MB of unknown keys
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": values})
    body = assert_problem(response, 422, "validation_failed")
    assert RESIDENT_ID not in response.text
    assert len(response.content) < 20_000
    assert body["errors"][-1]["code"] == "more_errors"
    top = {"values": {}, **{f"{RESIDENT_ID}{i}": 1 for i in range(500)}}
    response = api.post("zhang.wei", "/apps/loan/tickets", json=top)
    body = assert_problem(response, 422, "validation_failed")
    assert RESIDENT_ID not in response.text
    assert {e["path"] for e in body["errors"] if e["code"] != "more_errors"} == {"(unknown)"}
    assert len(response.content) < 20_000


def test_a_long_path_is_not_echoed_in_full(api: Api) -> None:
    key = "k" * 10_000
    for path in (f"/apps/{key}", f"/apps/{key}/tickets", f"/tickets/{key}"):
        response = api.get("zhang.wei", path)
        assert 400 <= response.status_code < 500, response.text
        assert len(response.content) < 1000


@pytest.mark.parametrize(
    "content",
    [b"[" * 5000, b"a: " + b"9" * 5000, b"- &a [*a, *a]", b'key: "\\0"'],
    ids=["deep", "int-5000-digits", "alias-loop", "escaped-nul"],
)
def test_an_unreadable_app_file_is_refused_not_a_server_error(api: Api, content: bytes) -> None:
    response = api.post(
        "admin", "/admin/apps", content=content, headers={"Content-Type": "application/yaml"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
