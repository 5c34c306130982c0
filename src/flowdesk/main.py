"""Composition root: wires settings, services, the REST API, the web UI and the worker."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.types import Scope

from flowdesk import __version__
from flowdesk.api import openapi_errors, ops, problems
from flowdesk.api.add_signs import router as add_signs_router
from flowdesk.api.admin import router as admin_router
from flowdesk.api.admin_calendar import router as admin_calendar_router
from flowdesk.api.admin_jobs import router as admin_jobs_router
from flowdesk.api.admin_repairs import router as admin_repairs_router
from flowdesk.api.attachments import router as attachments_router
from flowdesk.api.delegate_task import router as delegate_task_router
from flowdesk.api.delegations import router as delegations_router
from flowdesk.api.limits import BodyLimit, NulGuard
from flowdesk.api.messages import router as messages_router
from flowdesk.api.personal_data import router as personal_data_router
from flowdesk.api.records import router as records_router
from flowdesk.api.routes import router as api_router
from flowdesk.api.task_returns import router as task_returns_router
from flowdesk.api.ticket_actions import router as ticket_actions_router
from flowdesk.api.ticket_copies import router as ticket_copies_router
from flowdesk.api.transfers import router as transfers_router
from flowdesk.api.withdrawals import router as withdrawals_router
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from flowdesk.web import errors as web_errors
from flowdesk.web.app import mount_web
from flowdesk.web.render import SECURITY_HEADERS
from flowdesk.worker.runner import BackgroundWorker

API_PREFIX = "/api/v1"
# Room for the multipart framing and the form's other fields beside the file.
UPLOAD_OVERHEAD = 256 * 1024
UPLOAD_PATHS = re.compile(
    r"^(/api/v1/attachments|/tasks/[^/]+/(approve|reject|return)|/tickets/[^/]+/comments)$"
)
SWAGGER_UI = "5.35.0"


def context_from(settings: Settings) -> ServiceContext:
    ctx = build_context(
        settings.effective_database_url,
        sqlite_synchronous=settings.db.sqlite_synchronous,
        pool_size=settings.db.pool_size,
        echo=settings.db.echo,
        auth=settings.auth.policy(),
        audit_algorithm=settings.audit.hash_algorithm,
        calendar=settings.calendar.spec(),
        urge_interval=timedelta(minutes=settings.tickets.urge_interval_minutes),
    )
    ctx.add_sign_depth = settings.tickets.add_sign_depth
    ctx.webhooks = settings.webhooks.policy()
    ctx.attachments = settings.attachment_storage()
    return ctx


def create_app(
    settings: Settings, ctx: ServiceContext | None = None, *, migrate: bool = True
) -> FastAPI:
    ctx = ctx or context_from(settings)
    if ctx.attachments is None:
        ctx.attachments = settings.attachment_storage()
    if migrate:
        migrate_database(ctx)
    worker = BackgroundWorker(ctx) if settings.run_worker else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Sync routes and dependencies run on anyio's shared limiter (40 threads by default).
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()

    api = FastAPI(
        title="flowdesk API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    docs_page = _api_docs_page()

    @api.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return docs_page

    api.state.ctx = ctx
    problems.install(api)
    openapi_errors.install(api)
    api.add_middleware(ops.NoStore)
    api.include_router(api_router)
    api.include_router(ticket_actions_router)
    api.include_router(messages_router)
    api.include_router(task_returns_router)
    api.include_router(add_signs_router)
    api.include_router(transfers_router)
    api.include_router(delegate_task_router)
    api.include_router(delegations_router)
    api.include_router(ticket_copies_router)
    api.include_router(withdrawals_router)
    api.include_router(records_router)
    api.include_router(personal_data_router)
    api.include_router(attachments_router)
    api.include_router(admin_router)
    api.include_router(admin_calendar_router)
    api.include_router(admin_repairs_router)
    api.include_router(admin_jobs_router)

    app = FastAPI(
        title="flowdesk",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.settings = settings
    problems.install(app)
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app.include_router(ops.probes(metrics_token))
    app.mount(API_PREFIX, api)
    mount_web(app, ctx, settings)
    # The last added runs first: the observer sees (and ids, logs, counts) every request.
    # Uploads (the API's and the ticket page's forms) may carry a whole attachment.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_bytes=max(
            settings.max_body_bytes, ctx.attachments.policy.max_bytes + UPLOAD_OVERHEAD
        ),
        upload_paths=UPLOAD_PATHS,
    )
    app.add_middleware(NulGuard, refuse=_error_answer)
    app.add_middleware(ops.RequestObserver, render_error=_internal_error)
    return app


async def _error_answer(scope: Scope, status: int, code: str) -> Response:
    """An error answered before routing: problem+json under /api/, else the error page."""
    request = Request(scope)
    if request.url.path.startswith("/api/"):
        title = code.replace("_", " ").capitalize()
        return problems.problem(status, code, title, request_id=problems.request_id_of(request))
    return web_errors.error_page(request, status, code)


async def _internal_error(scope: Scope) -> Response:
    return await _error_answer(scope, 500, "internal_error")


def _api_docs_page() -> HTMLResponse:
    """Swagger UI from our own vendored files (banks run flowdesk without internet
    access), with the pages' security headers; its one inline script is allowed by hash."""
    page = get_swagger_ui_html(
        openapi_url=f"{API_PREFIX}/openapi.json",
        title="flowdesk API",
        swagger_js_url=f"/static/vendor/swagger-ui-bundle-{SWAGGER_UI}.js",
        swagger_css_url=f"/static/vendor/swagger-ui-{SWAGGER_UI}.css",
        swagger_favicon_url="/static/favicon.svg",
        # Swagger UI would otherwise fetch a badge from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    )
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
        "script-src 'self'", f"script-src 'self' {hashes}", 1
    )
    return HTMLResponse(html, headers=headers)
