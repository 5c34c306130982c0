"""Threads of one process writing at once all get through, one after the other.

On SQLite, which has a single writer, they queue on a lock in the process: even with
SQLite's own busy timeout at zero (no retrying on its lock at all), none of them sees
"database is locked". On PostgreSQL they wait on the row lock.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from flowdesk.services.bootstrap import migrate_database
from flowdesk.services.context import ServiceContext
from flowdesk.store.db import Database, WriterQueue

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


class _InterruptedTurn(threading.Event):
    def wait(self, timeout: float | None = None) -> bool:
        super().wait(0.05)  # long enough for the holder to hand the turn on, or not
        raise KeyboardInterrupt


@pytest.mark.parametrize("handed_the_turn", [False, True])
def test_a_writer_interrupted_in_the_queue_does_not_block_the_others(
    handed_the_turn: bool,
) -> None:
    """A thread interrupted while queuing leaves the line, or passes the turn on if it
    had just been handed to it, so the writers after it still get in."""
    queue = WriterQueue()
    queue.__enter__()
    queue._new_turn = _InterruptedTurn  # type: ignore[method-assign]
    outcome: list[BaseException] = []

    def interrupted() -> None:
        try:
            queue.__enter__()
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=interrupted)
    waiter.start()
    if handed_the_turn:
        deadline = time.monotonic() + 5
        while not queue._waiters and time.monotonic() < deadline:
            time.sleep(0.001)
        queue.__exit__(None, None, None)
        waiter.join()
    else:
        waiter.join()
        queue.__exit__(None, None, None)
    assert [type(exc) for exc in outcome] == [KeyboardInterrupt]

    queue._new_turn = threading.Event  # type: ignore[method-assign]
    got_in = threading.Event()

    def later() -> None:
        with queue:
            got_in.set()

    thread = threading.Thread(target=later)
    thread.start()
    assert got_in.wait(5), "the queue is stuck"
    thread.join()
