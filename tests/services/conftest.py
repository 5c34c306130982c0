"""Service tests start from a copy of a database that already holds the demo bank.

Loading the demo bank costs ~0.5 s on SQLite and ~1 s on PostgreSQL (forty users,
each an audited transaction), and logging forty people in another second; doing
that once per session instead of once per test keeps the suite fast. Each test
still gets its own fresh database of the parametrised backend: `db_url` copies the
demo template when the test asks for `demo_ctx` or `actors`, and the empty migrated
template otherwise, so `ctx` and `demo_ctx` are always the same database.
Loading the demo bank itself is tested on an empty database (test_demo.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from loan_desk import Desk
from sqlalchemy import create_engine, text

from flowdesk.engines.access import Actor
from flowdesk.services import auth, demo
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.store import org as org_store

PG_URL = os.environ.get("FLOWDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DEMO_TEMPLATE = "flowdesk_demo_template"


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
def desk(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> Desk:
    return Desk(demo_ctx, actors)
