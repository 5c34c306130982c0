"""SQLite configured correctly (RELIABILITY.md promise 5): WAL, busy_timeout, foreign keys,
and write transactions that hold the write lock from their first statement."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import PendingRollbackError

from flowdesk.store.db import Database


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "flowdesk.db"
    path.write_bytes(sqlite_template.read_bytes())
    db = Database(f"sqlite:///{path}")
    yield db  # type: ignore[misc]
    db.dispose()


def _path(db: Database) -> str:
    return db.url.removeprefix("sqlite:///")


def test_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_db: Database) -> None:
    with sqlite_db.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_synchronous_full_is_offered(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    path.write_bytes(sqlite_template.read_bytes())
    db = Database(f"sqlite:///{path}", sqlite_synchronous="FULL")
    with db.read() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    db.dispose()


def _other_connection(db: Database, timeout: float) -> sqlite3.Connection:
    other = sqlite3.connect(_path(db), timeout=timeout, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    return other


def test_a_write_transaction_holds_the_write_lock_from_its_start(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE: even before its first write, a second writer cannot begin."""
    other = _other_connection(sqlite_db, timeout=0.1)
    try:
        with sqlite_db.write() as conn:
            conn.execute(text("SELECT count(*) FROM users")).scalar()  # only a read so far
            started = time.monotonic()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            assert time.monotonic() - started >= 0.09  # it waited for busy_timeout first
            # Readers are not blocked by the writer in WAL mode.
            assert other.execute("SELECT count(*) FROM users").fetchone() == (0,)
        other.execute("BEGIN IMMEDIATE")  # free again once the first commits
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_read_transaction_does_not_take_the_write_lock(sqlite_db: Database) -> None:
    other = _other_connection(sqlite_db, timeout=0.1)
    try:
        with sqlite_db.read() as conn:
            conn.execute(text("SELECT count(*) FROM users")).scalar()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_two_writers_queue_instead_of_failing(sqlite_db: Database) -> None:
    """The second writer waits on busy_timeout and then succeeds; no 'database is locked'."""
    holding = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        holding.wait()
        try:
            with sqlite_db.write() as conn:
                conn.execute(
                    text(
                        "INSERT INTO roles (id, key, name_en, name_zh) "
                        "VALUES ('r2', 'second', 'Second', '二')"
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=second_writer)
    worker.start()
    with sqlite_db.write() as conn:
        conn.execute(text("SELECT count(*) FROM roles")).scalar()
        holding.set()
        time.sleep(0.3)  # the second writer is now waiting for our lock
        conn.execute(
            text(
                "INSERT INTO roles (id, key, name_en, name_zh) "
                "VALUES ('r1', 'first', 'First', '一')"
            )
        )
    worker.join(timeout=15)
    assert errors == []
    with sqlite_db.read() as conn:
        assert conn.execute(text("SELECT key FROM roles ORDER BY key")).scalars().all() == [
            "first",
            "second",
        ]


def test_read_modify_write_transactions_do_not_deadlock(sqlite_db: Database) -> None:
    """With pysqlite's default deferred BEGIN, two read-then-write transactions fail with
    'database is locked' at once; with BEGIN IMMEDIATE they serialise and both commit."""
    with sqlite_db.write() as conn:
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, 'x')"))
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def increment() -> None:
        barrier.wait()
        try:
            for _ in range(10):
                with sqlite_db.write() as conn:
                    seq = conn.execute(text("SELECT seq FROM audit_head WHERE id = 2")).scalar()
                    conn.execute(
                        text("UPDATE audit_head SET seq = :s WHERE id = 2"), {"s": seq + 1}
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with sqlite_db.read() as conn:
        assert conn.execute(text("SELECT seq FROM audit_head WHERE id = 2")).scalar() == 80


def test_the_writer_keeps_its_connection_and_replaces_a_broken_one(sqlite_db: Database) -> None:
    """Write transactions reuse one connection, whose page cache stays warm; a connection
    that broke is replaced, and a failed transaction leaves it usable."""
    with sqlite_db.write() as conn:
        conn.execute(text("CREATE TEMP TABLE marker (n)"))
        conn.execute(text("INSERT INTO temp.marker VALUES (1)"))
    with sqlite_db.write() as conn:  # TEMP tables live in one connection only
        assert conn.execute(text("SELECT n FROM temp.marker")).scalar_one() == 1

    with pytest.raises(RuntimeError), sqlite_db.write() as conn:
        conn.execute(text("INSERT INTO temp.marker VALUES (2)"))
        raise RuntimeError("the step failed")
    # SQLAlchemy invalidates a connection whose driver reports it broken; that
    # transaction fails, and the next one runs on a new connection.
    with pytest.raises(PendingRollbackError), sqlite_db.write() as conn:
        assert conn.execute(text("SELECT count(*) FROM temp.marker")).scalar_one() == 1
        conn.invalidate()
    with sqlite_db.write() as conn:
        missing = conn.execute(
            text("SELECT count(*) FROM temp.sqlite_master WHERE name = 'marker'")
        ).scalar_one()
    assert missing == 0  # a new connection
