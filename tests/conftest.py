"""Fixtures shared by store, service, API and web tests: one database per backend.

Every store/service test runs on SQLite and on PostgreSQL. PostgreSQL tests are
skipped, with the reason shown, only when no server answers at FLOWDESK_TEST_PG_URL
(default: the CI server on 127.0.0.1:5432, database `test`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import pg
from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import auth, demo
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.store import org as org_store
from flowdesk.store.blobs import LocalBlobStore


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Their server and Chromium live for the whole session (one
    Playwright per process), and threads alive in the test process make a fork unsafe:
    the crash test's forked children could inherit a lock held by one and hang."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


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
    reason = pg.unreachable_reason()
    if reason:
        pytest.skip(reason)
    ctx = build_context(pg.fresh_database("template"))
    migrate_database(ctx)
    ctx.db.dispose()
    yield pg.database_name("template")
    pg.drop_run_databases()


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
    url = pg.fresh_database("demo_template", template=pg_template)
    _load_demo(url)
    return pg.database_name("demo_template")


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
    return pg.fresh_database("case", template=template_db)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[ServiceContext]:
    context = build_context(db_url)
    context.hasher = fast_hasher()
    # Attachments (ADR 0028) go to the test's own directory, whichever the database.
    context.attachments = AttachmentStorage(LocalBlobStore(tmp_path / "attachments"))
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
