"""Threads of one process writing at once all get through, one after the other.

On SQLite, which has a single writer, they queue on a lock in the process: even with
SQLite's own busy timeout at zero (no retrying on its lock at all), none of them sees
"database is locked". On PostgreSQL they wait on the row lock.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

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


def _write_in_a_process(url: str, writes: int, go: Any, errors: Any) -> None:
    db = Database(url, sqlite_busy_timeout_ms=0)
    go.wait()  # all processes start writing together
    try:
        for _ in range(writes):
            with db.write() as conn:
                conn.execute(text("UPDATE org_generation SET generation = generation + 1"))
    except BaseException as exc:
        errors.put(repr(exc))
    finally:
        db.dispose()


def test_processes_writing_at_once_queue_on_the_database_files_lock(
    ctx: ServiceContext, db_url: str
) -> None:
    """Server processes (`serve --workers N`) and `flowdesk worker` write the same SQLite
    file: with busy_timeout at zero, any writer reaching SQLite's lock while another
    holds it would fail at once, so none failing shows they queued before it."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no single-writer lock to queue for")
    migrate_database(ctx)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as each server is
    go, errors = spawn.Barrier(3), spawn.Queue()
    processes = [
        spawn.Process(target=_write_in_a_process, args=(db_url, 5 * WRITES, go, errors))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    with ctx.db.read() as conn:
        generation = conn.execute(text("SELECT generation FROM org_generation")).scalar_one()
    assert generation == 1 + 3 * 5 * WRITES
