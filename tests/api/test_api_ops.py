"""Operability: request ids, one log line per event, probes, metrics, no-store, the docs page."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from api_client import API, Api, assert_problem, loan_values
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.routing import Mount

from flowdesk.logs import JsonFormatter
from flowdesk.main import create_app
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from live_server import serving
from pg import PG_URL

# ---- request ids ----------------------------------------------------------------------


def test_every_answer_carries_a_request_id_and_problems_repeat_it(api: Api) -> None:
    ok = api.get("zhang.wei", "/me")
    assert re.fullmatch(r"[0-9a-f]{32}", ok.headers["x-request-id"])
    missing = api.get("zhang.wei", f"/tickets/{'0' * 32}")
    body = assert_problem(missing, 404, "ticket_not_found")
    assert body["request_id"] == missing.headers["x-request-id"] != ok.headers["x-request-id"]
    web = api.client.get("/no-such-page")
    assert web.headers["x-request-id"]


def test_a_well_formed_incoming_request_id_is_kept_and_others_replaced(api: Api) -> None:
    kept = api.get("zhang.wei", "/me", headers={"X-Request-ID": "lb-7f3a9c2e-0001"})
    assert kept.headers["x-request-id"] == "lb-7f3a9c2e-0001"
    for bad in ("short", "x" * 65, "<script>alert(1)</script>", "a b c d e f g h"):
        replaced = api.get("zhang.wei", "/nope", headers={"X-Request-ID": bad})
        assert replaced.headers["x-request-id"] != bad
        assert assert_problem(replaced, 404, "not_found")["request_id"] != bad


def test_web_json_problems_carry_the_request_id(client: TestClient) -> None:
    response = client.get("/api/v2/anything")  # an unknown API version: the outer app
    body = assert_problem(response, 404, "not_found")
    assert body["request_id"] == response.headers["x-request-id"]


# ---- logs -----------------------------------------------------------------------------


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_each_request_is_one_json_log_line_with_its_route_template(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    token = api.token("zhang.wei")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="flowdesk.request"):
        response = api.client.get(
            f"{API}/tickets/{'0' * 32}", headers={"Authorization": f"Bearer {token}"}
        )
    lines = [line for line in _lines(caplog) if line["logger"] == "flowdesk.request"]
    assert len(lines) == 1, lines
    line = lines[0]
    assert {"ts", "level", "logger", "msg", "request_id", "method", "route", "status"} <= set(line)
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["route"] == "/api/v1/tickets/{ticket_id}"  # the template, not the raw path
    assert line["status"] == 404
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], float)
    assert "0" * 32 not in json.dumps(line)


def _failing_app(demo_ctx: ServiceContext) -> FastAPI:
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    api = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == API)
    assert isinstance(api, FastAPI)
    api.add_api_route("/boom", boom)
    return app


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def every_log_record() -> Iterator[_Capture]:
    """Records of every logger, uvicorn's own included (they do not reach the root)."""
    capture = _Capture()
    loggers = [
        logging.getLogger(),
        logging.getLogger("uvicorn"),
        logging.getLogger("uvicorn.error"),
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.INFO)
    yield capture
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(capture)
        logger.setLevel(level)


def _tracebacks(capture: _Capture) -> list[logging.LogRecord]:
    return [r for r in capture.records if r.exc_info]


def test_a_server_error_is_logged_once_with_its_traceback(
    demo_ctx: ServiceContext, every_log_record: _Capture
) -> None:
    with serving(_failing_app(demo_ctx)) as url:
        api_answer = httpx.get(f"{url}{API}/boom")
        web_answer = httpx.get(f"{url}/boom")
        time.sleep(0.2)  # the server logs after answering
    assert api_answer.status_code == 500
    body = api_answer.json()
    assert body["code"] == "internal_error"
    assert body["request_id"] == api_answer.headers["x-request-id"]
    assert "a bug" not in api_answer.text
    assert web_answer.status_code == 500
    assert web_answer.headers["content-type"].startswith("text/html")
    failures = _tracebacks(every_log_record)
    assert len(failures) == 2, [r.getMessage() for r in failures]  # one per request
    assert {getattr(r, "route", None) for r in failures} == {f"{API}/boom", "/boom"}
    ids = {api_answer.headers["x-request-id"], web_answer.headers["x-request-id"]}
    assert {getattr(r, "request_id", None) for r in failures} == ids
    assert all(r.name == "flowdesk.request" for r in failures)


def test_a_client_gone_mid_body_is_one_line_without_traceback(
    demo_ctx: ServiceContext, every_log_record: _Capture
) -> None:
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)
    with serving(app) as url:
        address = urlsplit(url)
        with socket.create_connection((address.hostname, address.port)) as sock:
            sock.sendall(
                b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                b'{"username": "adm'
            )
            time.sleep(0.2)
        time.sleep(0.5)
    assert _tracebacks(every_log_record) == []
    gone = [r for r in every_log_record.records if getattr(r, "status", None) == 499]
    assert len(gone) == 1, [r.getMessage() for r in every_log_record.records]
    assert getattr(gone[0], "route", None) == f"{API}/auth/token"


def test_database_errors_never_carry_bound_parameters(ctx: ServiceContext) -> None:
    secret = "token-hash-5f1e0c9a7b"
    with pytest.raises(Exception) as raised, ctx.db.write() as conn:
        conn.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": secret})
    assert secret not in str(raised.value)
    assert "hidden" in str(raised.value)


# ---- probes and metrics ---------------------------------------------------------------


def test_healthz_and_readyz_answer_on_a_current_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_readyz_is_503_when_the_schema_is_missing_or_the_database_is_gone(
    tmp_path: Path,
) -> None:
    for url in (f"sqlite:///{tmp_path}/empty.db", PG_URL.rsplit("/", 1)[0] + "/fd_no_such_db"):
        ctx = build_context(url)
        app = create_app(Settings(dev=True, run_worker=False), ctx, migrate=False)
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200  # alive all the same
            response = client.get("/readyz")
        body = assert_problem(response, 503, "not_ready")
        assert "postgres" not in body["title"]  # no URL, no user name
        ctx.db.dispose()


def test_metrics_count_requests_by_route_and_status_and_read_the_database(
    api: Api, client: TestClient
) -> None:
    ticket = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values()}).json()
    api.get("zhang.wei", f"/tickets/{ticket['id']}")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    metrics = response.text
    assert re.search(
        r'flowdesk_http_requests_total\{method="GET",route="/api/v1/tickets/\{ticket_id\}",'
        r'status="200"\} [1-9]',
        metrics,
    )
    assert 'flowdesk_http_request_duration_seconds_bucket{le="0.05",method="POST"' in metrics
    assert re.search(r'flowdesk_jobs\{state="queued"\} \d', metrics)
    assert re.search(r"flowdesk_ticket_steps [1-9]", metrics)
    assert re.search(r"flowdesk_audit_head_seq [1-9]", metrics)
    assert ticket["id"] not in metrics  # route templates only, nothing of the data
    assert "zhang.wei" not in metrics


def test_metrics_can_require_a_token(demo_ctx: ServiceContext) -> None:
    settings = Settings(dev=True, run_worker=False, metrics_token="scrape-secret-0123456789")
    with TestClient(create_app(settings, demo_ctx, migrate=False)) as client:
        assert_problem(client.get("/metrics"), 401, "unauthenticated")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
        assert right.status_code == 200


MULTIPROCESS_CHILD = """
import sys
from flowdesk.api import ops
ops.REQUESTS.labels("GET", "/api/v1/me", "200").inc()
ops.LATENCY.labels("GET", "/api/v1/me").observe(0.01)
"""


def test_metrics_add_up_every_server_process(tmp_path: Path) -> None:
    """`serve --workers N` sets PROMETHEUS_MULTIPROC_DIR: each process writes its own
    counts, and /metrics in any one of them reports the sum."""
    metrics_dir = tmp_path / "metrics"  # its *.db files are the counts: nothing else there
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PATH": "/usr/bin:/bin"}
    for _ in range(3):
        subprocess.run([sys.executable, "-c", MULTIPROCESS_CHILD], env=env, check=True)
    url = f"sqlite:///{tmp_path}/flowdesk.db"
    report = (
        "from flowdesk.api import ops\n"
        "from flowdesk.services.bootstrap import build_context, migrate_database\n"
        f"ctx = build_context({url!r}); migrate_database(ctx)\n"
        "print(ops.metrics_text(ctx).decode())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", report], env=env, check=True, capture_output=True, text=True
    )
    assert (
        'flowdesk_http_requests_total{method="GET",route="/api/v1/me",status="200"} 3.0'
        in run.stdout
    )
    assert "flowdesk_audit_head_seq 0.0" in run.stdout


# ---- caching and the docs page --------------------------------------------------------


def test_api_answers_are_never_cached(api: Api) -> None:
    for response in (
        api.get("zhang.wei", "/me"),
        api.get("zhang.wei", "/tickets"),
        api.get("zhang.wei", f"/tickets/{'0' * 32}"),
        api.client.get(f"{API}/openapi.json"),
    ):
        assert response.headers["cache-control"] == "no-store"


def test_the_docs_page_requests_nothing_from_another_host(client: TestClient) -> None:
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    urls = re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", response.text)
    assert urls == [], urls
    assert "/static/favicon.svg" in response.text
    assert "validatorUrl" in response.text  # Swagger UI's badge from validator.swagger.io: off
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    for path in re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", response.text):
        assert client.get(path).status_code == 200, path
