"""Driver-level statements for the step's hot path.

A ticket step runs about ten statements; through SQLAlchemy's statement machinery
each costs ~30 µs of Python before the database sees it, through the driver's own
cursor ~3 µs (bench/RESULTS.md). These statements run on the driver connection of the
caller's SQLAlchemy transaction, so they commit or roll back with everything else.
Values are converted here exactly as the SQLAlchemy column types in `tables.py` store
them, so rows written either way read back the same. On PostgreSQL a transaction's
last statements can be queued to leave with COMMIT (`queue_before_commit`), so a step
costs three round trips: BEGIN, the read, the writes with COMMIT.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One SQL text with `:name` parameters, runnable on SQLite and PostgreSQL drivers."""

    def __init__(self, text: str) -> None:
        self.sqlite = text
        self.postgresql = _PARAM.sub(r"%(\1)s", text.replace("%", "%%"))

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Executes once; returns the driver cursor (rowcount, fetchone, fetchall)."""
        driver = conn.connection.dbapi_connection
        assert driver is not None
        if not is_postgres(conn):
            return driver.execute(self.sqlite, params)  # sqlite3 makes the cursor in C
        # psycopg sends BEGIN before a transaction's first statement, a round trip of its
        # own: sending both in one pipeline measured more client CPU than it saved.
        cursor = driver.cursor()
        cursor.execute(self.postgresql, params)
        return cursor

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            driver = conn.connection.dbapi_connection
            assert driver is not None
            if is_postgres(conn):
                driver.cursor().executemany(self.postgresql, rows)
            else:
                driver.executemany(self.sqlite, rows)


_QUEUED = "flowdesk.queued_before_commit"


class Queued:
    """A statement that leaves with COMMIT; its result is readable once the transaction
    has ended (`result()` is the driver cursor)."""

    def __init__(self, statement: Sql, params: Mapping[str, Any]) -> None:
        self.statement = statement
        self.params = params
        self._cursor: Any = None

    def send(self, driver: Any) -> None:
        self._cursor = driver.cursor()
        self._cursor.execute(self.statement.postgresql, self.params)

    def result(self) -> Any:
        if self._cursor is None:
            raise RuntimeError("the transaction has not committed")
        return self._cursor


def queue_before_commit(conn: Connection, statement: Sql, params: Mapping[str, Any]) -> Queued:
    """PostgreSQL: holds the transaction's last statements back so that `commit_queued`
    sends them together with COMMIT, in one round trip: locks they take are held only
    for the server's own time, never across a client's scheduling delay."""
    queued = Queued(statement, params)
    conn.info.setdefault(_QUEUED, []).append(queued)
    return queued


def commit_queued(conn: Connection) -> None:
    """Sends the queued statements and COMMIT in one pipeline (no-op when none are
    queued); an error of a queued statement surfaces here and nothing is committed."""
    queue: list[Queued] = conn.info.pop(_QUEUED, [])
    if not queue:
        return
    driver = conn.connection.dbapi_connection
    assert driver is not None
    with driver.pipeline():
        for queued in queue:
            queued.send(driver)
        driver.commit()


def drop_queued(conn: Connection) -> None:
    """Forgets queued statements of a transaction that is rolling back."""
    conn.info.pop(_QUEUED, None)


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def when(conn: Connection, value: datetime | None) -> Any:
    """A timezone-aware instant as the UtcDateTime column stores it."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: use timezone-aware UTC")
    if is_postgres(conn):
        return value
    return _sqlite_text(value)


@lru_cache(maxsize=256)
def _sqlite_text(value: datetime) -> str:
    """Cached: one step stamps a dozen rows with the same instant."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def document(conn: Connection, value: Any) -> Any:
    """A JSON document parameter (JSONB on PostgreSQL, text on SQLite)."""
    if value is None:
        return None
    return Jsonb(value) if is_postgres(conn) else _compact_json(value)


# Compact and UTF-8 (not \u escapes): Chinese text takes 3 bytes a character, not 6.
_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def read_document(value: Any) -> Any:
    """A JSON column as the driver returns it: PostgreSQL decodes JSONB, SQLite gives text."""
    return json.loads(value) if isinstance(value, str | bytes) else value
