"""API tests start from a copy of a database that already holds the demo bank.

The demo-template fixtures are the same as in tests/services/conftest.py (pytest
cannot share a non-root conftest); see there for why. The PostgreSQL template has
its own name so the two directories never rebuild each other's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_client import Api
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from flowdesk.engines.access import Actor
from flowdesk.main import create_app
from flowdesk.services import auth, demo
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.settings import Settings
from flowdesk.store import org as org_store

PG_URL = os.environ.get("FLOWDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DEMO_TEMPLATE = "flowdesk_demo_template_api"


def _load_demo(url: str) -> None:
    ctx = build_context(url)
    ctx.hasher = fast_hasher()
    demo.load(ctx)
    ctx.db.dispose()  # closing the last SQLite connection checkpoints the WAL into the file


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-template") / "flowdesk.db"
    shutil.copyfile(sqlite_template, path)
    _load_demo(f"sqlite:///{path}")
    return path


def _pg_admin_run(*statements: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_demo_template(pg_template: str) -> str:
    _pg_admin_run(
        f"DROP DATABASE IF EXISTS {PG_DEMO_TEMPLATE} WITH (FORCE)",
        f"CREATE DATABASE {PG_DEMO_TEMPLATE} TEMPLATE {pg_template}",
    )
    _load_demo(PG_URL.rsplit("/", 1)[0] + "/" + PG_DEMO_TEMPLATE)
    return PG_DEMO_TEMPLATE


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of the parametrised backend; with the demo bank when the test uses it."""
    wants_demo = bool({"demo_ctx", "actors"} & set(request.fixturenames))
    if backend == "sqlite":
        name = "sqlite_demo_template" if wants_demo else "sqlite_template"
        template: Path = request.getfixturevalue(name)
        path = tmp_path / "flowdesk.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    template_db = request.getfixturevalue("pg_demo_template" if wants_demo else "pg_template")
    _pg_admin_run(
        "DROP DATABASE IF EXISTS flowdesk_case WITH (FORCE)",
        f"CREATE DATABASE flowdesk_case TEMPLATE {template_db}",
    )
    return PG_URL.rsplit("/", 1)[0] + "/flowdesk_case"


@pytest.fixture
def demo_ctx(ctx: ServiceContext) -> ServiceContext:
    """The service context on a fresh copy of the demo bank (see `db_url`)."""
    assert demo.load(ctx) is False, "db_url should have copied the demo template"
    return ctx


@pytest.fixture
def actors(demo_ctx: ServiceContext) -> dict[str, Actor]:
    """Every demo person as `auth.authenticate` would return them, read in one transaction."""
    with demo_ctx.db.read() as conn:
        return {
            person.username: auth.actor_from_row(
                conn, org_store.user_by_username(conn, person.username)
            )
            for person in demo.PEOPLE
        }


@pytest.fixture
def client(demo_ctx: ServiceContext) -> Iterator[TestClient]:
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
