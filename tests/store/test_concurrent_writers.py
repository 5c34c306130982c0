"""Threads of one process writing at once all get through, one after the other.

On SQLite, which has a single writer, they queue on a lock in the process: even with
SQLite's own busy timeout at zero (no retrying on its lock at all), none of them sees
"database is locked". On PostgreSQL they wait on the row lock.
"""

from __future__ import annotations

import threading

from sqlalchemy import text

from flowdesk.services.bootstrap import migrate_database
from flowdesk.services.context import ServiceContext
from flowdesk.store.db import Database

THREADS, WRITES = 8, 40


def test_concurrent_write_transactions_all_commit(ctx: ServiceContext, db_url: str) -> None:
    migrate_database(ctx)
    db = Database(db_url, sqlite_busy_timeout_ms=0)
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer() -> None:
        start.wait()
        try:
            for _ in range(WRITES):
                with db.write() as conn:
                    conn.execute(text("UPDATE org_generation SET generation = generation + 1"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with db.read() as conn:
            generation = conn.execute(text("SELECT generation FROM org_generation")).scalar_one()
        assert generation == 1 + THREADS * WRITES
    finally:
        db.dispose()
