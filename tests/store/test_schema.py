"""The schema: migrations reach the tables' metadata exactly, and every foreign key is indexed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import pg
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext
from flowdesk.store import migrate
from flowdesk.store.tables import metadata


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with no tables at all."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    request.getfixturevalue("pg_template")  # skips when PostgreSQL is not there
    return pg.fresh_database("case")


@pytest.fixture
def empty_ctx(empty_url: str) -> Iterator[ServiceContext]:
    ctx = build_context(empty_url)
    yield ctx
    ctx.db.dispose()


def _schema_differences(ctx: ServiceContext) -> list[object]:
    with ctx.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_there_is_one_migration_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate._config()).get_heads()
    assert heads == [migrate.head_revision()]


def test_an_empty_database_migrates_to_head(empty_ctx: ServiceContext) -> None:
    assert migrate.current_revision(empty_ctx.db) is None
    migrate.upgrade(empty_ctx.db)
    assert migrate.current_revision(empty_ctx.db) == migrate.head_revision()
    tables = set(inspect(empty_ctx.db.engine).get_table_names())
    assert set(metadata.tables) <= tables
    # Running it again is a no-op (every `flowdesk serve` start does this).
    migrate.upgrade(empty_ctx.db)
    assert migrate.current_revision(empty_ctx.db) == migrate.head_revision()


def test_the_migrated_schema_matches_the_tables(ctx: ServiceContext) -> None:
    assert migrate.current_revision(ctx.db) == migrate.head_revision()
    assert _schema_differences(ctx) == []


def test_downgrade_to_nothing_and_back_up(empty_ctx: ServiceContext) -> None:
    migrate.upgrade(empty_ctx.db)
    with empty_ctx.db.engine.begin() as conn:
        from alembic import command

        config = migrate._config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    leftover = set(inspect(empty_ctx.db.engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()
    migrate.upgrade(empty_ctx.db)
    assert _schema_differences(empty_ctx) == []


def _serves_lookups(index: Any) -> bool:
    """A partial index serves look-ups by its column only when it leaves out just NULLs
    (`col = ?` implies `col IS NOT NULL`)."""
    options = index.get("dialect_options", {})
    where = options.get("sqlite_where", options.get("postgresql_where"))
    if where is None:
        return True
    expected = f"{index['column_names'][0]} is not null"
    return str(where).strip("() ").lower() == expected


def test_every_foreign_key_is_indexed(ctx: ServiceContext) -> None:
    """RELIABILITY.md promise 6: a foreign key without an index makes deletes and joins scan."""
    inspector = inspect(ctx.db.engine)
    unindexed = []
    checked = 0
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        leading = [
            tuple(index["column_names"])
            for index in inspector.get_indexes(table)
            if _serves_lookups(index)
        ]
        leading += [
            tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)
        ]
        leading.append(tuple(inspector.get_pk_constraint(table)["constrained_columns"]))
        for fk in inspector.get_foreign_keys(table):
            columns = tuple(fk["constrained_columns"])
            checked += 1
            if not any(index[: len(columns)] == columns for index in leading):
                unindexed.append(f"{table}({', '.join(columns)}) -> {fk['referred_table']}")
    assert unindexed == []
    assert checked >= 20  # the check really saw the schema's foreign keys


def test_foreign_keys_are_enforced(ctx: ServiceContext) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), ctx.db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO user_roles (user_id, role_id) VALUES ('no-such-user', 'no-such-role')"
            )
        )
