"""The job queue (RELIABILITY.md promise 3): leases, fenced completion, attempts, dead jobs,
and many workers on one database with no job run twice or lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext
from flowdesk.store import jobs as jobs_store
from flowdesk.store.tables import Job

T0 = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
LEASE = timedelta(seconds=30)
table = Job.__table__


def _enqueue(ctx: ServiceContext, **kwargs: Any) -> None:
    values: dict[str, Any] = {"kind": "test", "payload": {}, "due_at": T0, "now": T0}
    values.update(kwargs)
    with ctx.db.write() as conn:
        jobs_store.enqueue(conn, **values)


def _claim(ctx: ServiceContext, owner: str, now: datetime, limit: int = 10) -> list[Any]:
    with ctx.db.write() as conn:
        return jobs_store.claim(conn, owner=owner, now=now, lease=LEASE, limit=limit)


def _job(ctx: ServiceContext) -> Any:
    with ctx.db.read() as conn:
        (row,) = conn.execute(select(table)).all()
    return row


def test_only_due_jobs_are_claimed_oldest_first(ctx: ServiceContext) -> None:
    _enqueue(ctx, payload={"n": "later"}, due_at=T0 + timedelta(minutes=5))
    _enqueue(ctx, payload={"n": "second"}, due_at=T0 - timedelta(seconds=1))
    _enqueue(ctx, payload={"n": "first"}, due_at=T0 - timedelta(seconds=2))
    (claimed,) = _claim(ctx, "a", T0, limit=1)
    assert claimed.payload == {"n": "first"}
    assert (claimed.state, claimed.owner, claimed.attempts) == ("running", "a", 1)
    assert claimed.lease_until == T0 + LEASE
    assert [j.payload["n"] for j in _claim(ctx, "b", T0)] == ["second"]
    assert _claim(ctx, "c", T0) == []
    with ctx.db.write() as conn:
        assert jobs_store.finish(conn, job_id=claimed.id, owner="a", attempt=1, now=T0)
    # Five minutes on: the later job is due, and the unfinished one's lease has expired.
    due = _claim(ctx, "c", T0 + timedelta(minutes=5))
    assert sorted((j.payload["n"], j.attempts) for j in due) == [("later", 1), ("second", 2)]


def test_a_worker_that_lost_its_lease_cannot_finish(ctx: ServiceContext) -> None:
    _enqueue(ctx)
    (first,) = _claim(ctx, "worker-a", T0)
    assert _claim(ctx, "worker-b", T0 + LEASE - timedelta(seconds=1)) == []  # lease still held

    later = T0 + LEASE + timedelta(seconds=1)
    (second,) = _claim(ctx, "worker-b", later)  # expired: taken over as a new attempt
    assert second.id == first.id
    assert (second.owner, second.attempts) == ("worker-b", 2)

    with ctx.db.write() as conn:
        assert not jobs_store.finish(conn, job_id=first.id, owner="worker-a", attempt=1, now=later)
        assert not jobs_store.fail(
            conn,
            job_id=first.id,
            owner="worker-a",
            attempt=1,
            max_attempts=first.max_attempts,
            error="late",
            now=later,
            retry_at=later,
        )
    assert (_job(ctx).owner, _job(ctx).state) == ("worker-b", "running")
    with ctx.db.write() as conn:
        assert jobs_store.finish(conn, job_id=first.id, owner="worker-b", attempt=2, now=later)
        # A repeated finish (or a finish of the same attempt by anyone else) does nothing.
        assert not jobs_store.finish(conn, job_id=first.id, owner="worker-b", attempt=2, now=later)
    assert (_job(ctx).state, _job(ctx).lease_until) == ("done", None)


def test_the_same_owner_cannot_finish_an_older_attempt(ctx: ServiceContext) -> None:
    _enqueue(ctx)
    _claim(ctx, "w", T0)
    _claim(ctx, "w", T0 + LEASE + timedelta(seconds=1))  # the same worker name re-claims
    with ctx.db.write() as conn:
        assert not jobs_store.finish(conn, job_id=_job(ctx).id, owner="w", attempt=1, now=T0)


def test_an_idempotency_key_is_queued_once(ctx: ServiceContext) -> None:
    for _ in range(3):
        _enqueue(ctx, idempotency_key="notify:ticket-1:2", payload={"n": 1})
    _enqueue(ctx, idempotency_key="notify:ticket-1:3")
    _enqueue(ctx)  # no key: never deduplicated
    _enqueue(ctx)
    with ctx.db.read() as conn:
        keys = conn.execute(select(table.c.idempotency_key).order_by(table.c.id)).scalars()
        assert list(keys) == ["notify:ticket-1:2", "notify:ticket-1:3", None, None]


def test_a_job_out_of_attempts_is_dead_until_an_operator_retries_it(ctx: ServiceContext) -> None:
    _enqueue(ctx, max_attempts=2)
    now = T0
    for attempt in (1, 2):
        (job,) = _claim(ctx, "w", now)
        assert job.attempts == attempt
        retry_at = now + timedelta(seconds=10)
        with ctx.db.write() as conn:
            assert jobs_store.fail(
                conn,
                job_id=job.id,
                owner="w",
                attempt=attempt,
                max_attempts=2,
                error=f"failure {attempt}",
                now=now,
                retry_at=retry_at,
            )
        if attempt == 1:
            assert (_job(ctx).state, _job(ctx).due_at) == ("queued", retry_at)
            assert _claim(ctx, "w", retry_at - timedelta(seconds=1)) == []  # backing off
        now = retry_at
    dead = _job(ctx)
    assert (dead.state, dead.last_error, dead.owner) == ("dead", "failure 2", None)
    assert _claim(ctx, "w", now + timedelta(days=1)) == []
    with ctx.db.read() as conn:
        assert [j.id for j in jobs_store.by_state(conn, "dead")] == [dead.id]

    with ctx.db.write() as conn:
        assert jobs_store.retry_dead(conn, dead.id, now)
        assert not jobs_store.retry_dead(conn, dead.id, now)  # only dead jobs
    (again,) = _claim(ctx, "w", now)
    assert again.attempts == 1


def test_an_expired_lease_on_the_last_attempt_makes_the_job_dead(ctx: ServiceContext) -> None:
    _enqueue(ctx, max_attempts=1)
    (job,) = _claim(ctx, "crashed", T0)
    assert _claim(ctx, "w", T0 + LEASE + timedelta(seconds=1)) == []
    dead = _job(ctx)
    assert (dead.state, dead.attempts) == ("dead", 1)
    assert dead.last_error == "lease expired on the last attempt"
    with ctx.db.write() as conn:  # and the crashed worker cannot resurrect it
        assert not jobs_store.finish(conn, job_id=job.id, owner="crashed", attempt=1, now=T0)
    assert _job(ctx).state == "dead"


WORKERS = {"postgresql": (8, 2000), "sqlite": (4, 300)}


def test_many_workers_run_every_job_exactly_once(
    ctx: ServiceContext, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: 8 workers, 2,000 jobs, SKIP LOCKED. Committed effects: each exactly once."""
    workers, total = WORKERS[backend]
    with ctx.db.write() as conn:
        conn.execute(text("CREATE TABLE test_job_effects (n INTEGER NOT NULL, worker TEXT)"))
        for n in range(total):
            jobs_store.enqueue(
                conn,
                kind="test.effect",
                payload={"n": n},
                due_at=T0,
                now=T0,
                idempotency_key=f"effect:{n}",
            )
    executions: Counter[int] = Counter()
    lock = threading.Lock()

    def effect(conn: Connection, payload: dict[str, Any], _: ServiceContext) -> None:
        with lock:
            executions[payload["n"]] += 1
        conn.execute(
            text("INSERT INTO test_job_effects (n, worker) VALUES (:n, :w)"),
            {"n": payload["n"], "w": threading.current_thread().name},
        )

    monkeypatch.setitem(jobs.HANDLERS, "test.effect", effect)
    stats: list[jobs.RunStats] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(index: int) -> None:
        mine = jobs.RunStats()
        barrier.wait()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = jobs.run_due(ctx, owner=f"worker-{index}", batch=20)
                mine.done += done.done
                mine.failed += done.failed
                mine.lost += done.lost
                if done.done + done.failed + done.lost == 0:
                    with ctx.db.read() as conn:
                        left = conn.execute(
                            select(func.count()).where(table.c.state.in_(("queued", "running")))
                        ).scalar_one()
                    if left == 0:
                        break
        except BaseException as exc:
            errors.append(exc)
        stats.append(mine)

    threads = [threading.Thread(target=work, args=(i,), name=f"worker-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert errors == []

    with ctx.db.read() as conn:
        committed = Counter(
            dict(conn.execute(text("SELECT n, count(*) FROM test_job_effects GROUP BY n")).all())
        )
        states = dict(
            conn.execute(select(table.c.state, func.count()).group_by(table.c.state)).all()
        )
        per_worker = conn.execute(
            text("SELECT count(DISTINCT worker) FROM test_job_effects")
        ).scalar_one()
    assert committed == Counter(dict.fromkeys(range(total), 1))  # none twice, none lost
    assert executions == Counter(dict.fromkeys(range(total), 1))  # not even run twice
    assert states == {"done": total}
    assert sum(s.done for s in stats) == total
    assert sum(s.failed + s.lost for s in stats) == 0
    if backend == "postgresql":  # SQLite's busy handler is not fair: one thread may take all
        assert per_worker > 1, [s.done for s in stats]  # the work really was shared
