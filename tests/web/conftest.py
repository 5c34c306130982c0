"""Web UI tests: the whole application (create_app) driven through FastAPI's TestClient.

Every test gets a fresh copy of a database that already holds the demo bank, on
SQLite and on PostgreSQL (the demo is loaded once per session into a template, as
in tests/services, because loading it per test costs about a second).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from web_helpers import Browser

from flowdesk.main import create_app
from flowdesk.services import demo
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.settings import Settings

PG_URL = os.environ.get("FLOWDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_WEB_DEMO_TEMPLATE = "flowdesk_web_demo_template"


def _load_demo(url: str) -> None:
    ctx = build_context(url)
    ctx.hasher = fast_hasher()
    demo.load(ctx)
    ctx.db.dispose()


def _pg_admin_run(*statements: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def web_sqlite_demo_template(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("web-demo-template") / "flowdesk.db"
    shutil.copyfile(sqlite_template, path)
    _load_demo(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def web_pg_demo_template(pg_template: str) -> str:
    _pg_admin_run(
        f"DROP DATABASE IF EXISTS {PG_WEB_DEMO_TEMPLATE} WITH (FORCE)",
        f"CREATE DATABASE {PG_WEB_DEMO_TEMPLATE} TEMPLATE {pg_template}",
    )
    _load_demo(PG_URL.rsplit("/", 1)[0] + "/" + PG_WEB_DEMO_TEMPLATE)
    return PG_WEB_DEMO_TEMPLATE


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh copy of the demo bank on the parametrised backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("web_sqlite_demo_template")
        path = tmp_path / "flowdesk.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    template_db = request.getfixturevalue("web_pg_demo_template")
    _pg_admin_run(
        "DROP DATABASE IF EXISTS flowdesk_case WITH (FORCE)",
        f"CREATE DATABASE flowdesk_case TEMPLATE {template_db}",
    )
    return PG_URL.rsplit("/", 1)[0] + "/flowdesk_case"


@pytest.fixture
def demo_ctx(ctx: ServiceContext) -> ServiceContext:
    assert demo.load(ctx) is False, "db_url should have copied the demo template"
    return ctx


@pytest.fixture
def settings() -> Settings:
    return Settings(dev=True, run_worker=False)


@pytest.fixture
def app(demo_ctx: ServiceContext, settings: Settings) -> FastAPI:
    return create_app(settings, demo_ctx, migrate=False)


@pytest.fixture
def browser(app: FastAPI) -> Callable[..., Browser]:
    """browser("zhang.wei") → a logged-in Browser (Chinese unless locale="en")."""

    def make(username: str | None = None, locale: str = "zh") -> Browser:
        made = Browser(app, locale)
        if username is not None:
            response = made.login(username)
            assert response.status_code == 303, response.text
        return made

    return make


@pytest.fixture
def anon(app: FastAPI) -> Iterator[Browser]:
    yield Browser(app)
