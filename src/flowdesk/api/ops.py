"""Operability: request ids, one log line per request, Prometheus metrics and the probes.

`RequestObserver` wraps the whole application (inside Starlette's outermost error
middleware). It gives every request an id (a well-formed incoming X-Request-ID, or a
new one), returns it as a header, logs exactly one line when the request ends (with
the traceback when it failed: Starlette re-raises after answering 500 and uvicorn
would log it again, so the exception ends here) and counts it for /metrics.

Metrics with several server processes (`serve --workers N`): prometheus_client keeps
per-process values in files when PROMETHEUS_MULTIPROC_DIR names an empty directory
(set before the processes start; ADR 0012); /metrics then adds up every process's.
Without it each process reports only its own requests. The database figures (jobs,
steps, audit head) are read at scrape time and are the same from every process.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowdesk import logs
from flowdesk.api.problems import problem
from flowdesk.services import health
from flowdesk.services.context import ServiceContext

log = logging.getLogger("flowdesk.request")
REQUEST_ID_HEADER = "X-Request-ID"
# Ids a proxy or a client may choose; anything else is replaced (it is logged and echoed).
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
UNMATCHED = "(unmatched)"
DISCONNECTED = 499  # nginx's code for "the client closed the connection"

REQUESTS = Counter(
    "flowdesk_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "flowdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

ErrorRenderer = Callable[[Scope], Awaitable[Response]]


def request_id_of(request: Request) -> str | None:
    """The id `RequestObserver` gave this request (None outside of it)."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def route_template(scope: Scope, root_path: str) -> str:
    """The matched route's template (`/api/v1/tasks/{task_id}/approve`), never the raw
    path: raw paths are unbounded (a metrics label each) and may hold personal keys."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    mounted_at = str(scope.get("root_path", ""))[len(root_path) :]
    return (mounted_at + path) or "/"


class RequestObserver:
    def __init__(self, app: ASGIApp, render_error: ErrorRenderer) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        # 128 random bits as 32 hex digits, as uuid4().hex gave, without building a UUID.
        request_id = incoming if _WELL_FORMED_ID.fullmatch(incoming) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        token = logs.request_id.set(request_id)
        root_path = str(scope.get("root_path", ""))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def observed_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        failure: BaseException | None = None
        try:
            await self.app(scope, receive, observed_send)
        except ClientDisconnect:
            status = DISCONNECTED
        except Exception as exc:
            failure = exc
            status = 500
            if not response_started:
                response = await self.render_error(scope)
                await response(scope, receive, observed_send)
                status = 500
        finally:
            self._finish(scope, root_path, status, started, failure)
            logs.request_id.reset(token)

    @staticmethod
    def _finish(
        scope: Scope, root_path: str, status: int, started: float, failure: BaseException | None
    ) -> None:
        elapsed = time.perf_counter() - started
        method = str(scope.get("method", ""))
        route = route_template(scope, root_path)
        REQUESTS.labels(method, route, str(status)).inc()
        LATENCY.labels(method, route).observe(elapsed)
        fields: dict[str, Any] = {
            "request_id": logs.request_id.get(),
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
        }
        if failure is not None:
            log.error("unhandled error", exc_info=failure, extra=fields)
        elif status == DISCONNECTED:
            log.info("client disconnected before the request was read", extra=fields)
        else:
            log.info("request", extra=fields)


class NoStore:
    """`Cache-Control: no-store` on every answer that does not set its own: API answers
    carry personal data, which no shared or browser cache may keep."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_header if scope["type"] == "http" else send)


class _DatabaseFigures(Collector):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def collect(self) -> Any:
        figures = health.figures(self.ctx)
        jobs = GaugeMetricFamily("flowdesk_jobs", "Background jobs by state", labels=["state"])
        for state, count in sorted(figures.jobs_by_state.items()):
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily(
            "flowdesk_ticket_steps", "Steps recorded on all tickets", value=figures.ticket_steps
        )
        yield GaugeMetricFamily(
            "flowdesk_audit_head_seq",
            "Sequence number of the newest audit log entry",
            value=figures.audit_head_seq,
        )


def metrics_text(ctx: ServiceContext) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests: CollectorRegistry = CollectorRegistry()
        MultiProcessCollector(requests)  # type: ignore[no-untyped-call]
    else:
        requests = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(_DatabaseFigures(ctx))
    return generate_latest(requests) + generate_latest(database)


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def probes(metrics_token: str | None) -> APIRouter:
    """/healthz, /readyz and /metrics; /metrics asks for `Bearer <metrics_token>` when
    one is configured (the figures hold no personal data: route templates and counts)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        """The process answers (no database access: a load balancer's liveness check)."""
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @router.get("/readyz")
    def readyz(request: Request) -> Response:
        """The database answers and its schema is the one this version needs."""
        reason = health.not_ready(_ctx(request))
        if reason is not None:
            return problem(503, "not_ready", reason, request_id=request_id_of(request))
        return JSONResponse({"status": "ready"}, headers={"Cache-Control": "no-store"})

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        if metrics_token:
            presented = request.headers.get("authorization", "")
            if not hmac.compare_digest(presented.encode(), f"Bearer {metrics_token}".encode()):
                return problem(
                    401,
                    "unauthenticated",
                    "Send 'Authorization: Bearer <metrics token>'",
                    headers={"WWW-Authenticate": "Bearer"},
                    request_id=request_id_of(request),
                )
        body = await run_in_threadpool(metrics_text, _ctx(request))
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return router
