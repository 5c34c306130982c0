"""Fixtures shared by store, service, API and web tests: one database per backend.

Every store/service test runs on SQLite and on PostgreSQL. PostgreSQL tests are
skipped, with the reason shown, only when no server answers at FLOWDESK_TEST_PG_URL
(default: the CI server on 127.0.0.1:5432, database `test`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import auth, demo
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.store import org as org_store

PG_URL = os.environ.get("FLOWDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, object] = {}


def _pg_reason() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per run)."""
    if "reason" not in _pg_state:
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["reason"] = None
        except Exception as exc:
            _pg_state["reason"] = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
    reason = _pg_state["reason"]
    return reason if isinstance(reason, str) else None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "flowdesk.db"
    ctx = build_context(f"sqlite:///{path}")
    migrate_database(ctx)
    ctx.db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """Migrates PostgreSQL once and snapshots the empty schema as a template database."""
    reason = _pg_reason()
    if reason:
        pytest.skip(reason)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS flowdesk_template WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE flowdesk_template"))
    admin.dispose()
    url = PG_URL.rsplit("/", 1)[0] + "/flowdesk_template"
    ctx = build_context(url)
    migrate_database(ctx)
    ctx.db.dispose()
    yield "flowdesk_template"


def _pg_admin_run(*statements: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


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


@pytest.fixture(scope="session")
def pg_demo_template(pg_template: str) -> str:
    _pg_admin_run(
        "DROP DATABASE IF EXISTS flowdesk_demo_template WITH (FORCE)",
        f"CREATE DATABASE flowdesk_demo_template TEMPLATE {pg_template}",
    )
    _load_demo(PG_URL.rsplit("/", 1)[0] + "/flowdesk_demo_template")
    return "flowdesk_demo_template"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of the parametrised backend, holding the demo bank when the test
    uses `demo_ctx` or `actors`. The demo is loaded once per session into a template
    (forty audited users cost a second per test otherwise); loading it is itself tested
    on an empty database in tests/services/test_demo.py."""
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
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def ctx(db_url: str) -> Iterator[ServiceContext]:
    context = build_context(db_url)
    context.hasher = fast_hasher()
    yield context
    context.db.dispose()


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
