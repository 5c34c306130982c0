"""Composition root: wires settings, services, the REST API, the web UI and the worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from flowdesk import __version__
from flowdesk.api import problems
from flowdesk.api.admin import router as admin_router
from flowdesk.api.limits import BodyLimit
from flowdesk.api.routes import router as api_router
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import AuthPolicy, ServiceContext
from flowdesk.settings import Settings
from flowdesk.web.app import mount_web
from flowdesk.worker.runner import BackgroundWorker

API_PREFIX = "/api/v1"
SWAGGER_UI = "5.35.0"


def context_from(settings: Settings) -> ServiceContext:
    return build_context(
        settings.effective_database_url,
        sqlite_synchronous=settings.db.sqlite_synchronous,
        pool_size=settings.db.pool_size,
        echo=settings.db.echo,
        auth=AuthPolicy(
            session_hours=settings.auth.session_hours,
            login_max_failures=settings.auth.login_max_failures,
            login_lock_seconds=settings.auth.login_lock_seconds,
        ),
        audit_algorithm=settings.audit.hash_algorithm,
    )


def create_app(
    settings: Settings, ctx: ServiceContext | None = None, *, migrate: bool = True
) -> FastAPI:
    ctx = ctx or context_from(settings)
    if migrate:
        migrate_database(ctx)
    worker = BackgroundWorker(ctx) if settings.run_worker else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
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

    @api.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        # Served from our own vendored files: banks run flowdesk without internet access.
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="flowdesk API",
            swagger_js_url=f"/static/vendor/swagger-ui-bundle-{SWAGGER_UI}.js",
            swagger_css_url=f"/static/vendor/swagger-ui-{SWAGGER_UI}.css",
        )

    api.state.ctx = ctx
    problems.install(api)
    api.include_router(api_router)
    api.include_router(admin_router)

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
    app.mount(API_PREFIX, api)
    mount_web(app, ctx, settings)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
