"""PostgreSQL databases for tests, named per test run so that two runs on one server
(two developers' suites, or CI beside a session) never drop each other's databases."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

PG_URL = os.environ.get("FLOWDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_RUN_PREFIX = f"fdtest_{os.getpid()}_"
_state: dict[str, str | None] = {}


def unreachable_reason() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per run)."""
    if "reason" not in _state:
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _state["reason"] = None
        except Exception as exc:
            _state["reason"] = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
    return _state["reason"]


def admin_run(*statements: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


def database_name(role: str) -> str:
    return _RUN_PREFIX + role


def url_of(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def fresh_database(role: str, template: str | None = None) -> str:
    """(Re)creates this run's database for `role`, optionally from a template; returns its URL."""
    name = database_name(role)
    create = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
    admin_run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", create)
    return url_of(name)


def drop_run_databases() -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        names = conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
            {"prefix": _RUN_PREFIX.replace("_", r"\_") + "%"},
        ).scalars()
        for name in list(names):
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
