"""Background jobs run at least once; their effects happen exactly once (promise 3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import Connection, func, select

from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import jobs, notifications
from flowdesk.services.context import ServiceContext
from flowdesk.store import jobs as jobs_store
from flowdesk.store.tables import Job, Notification

notices = Notification.__table__


@pytest.fixture
def clock(demo_ctx: ServiceContext) -> FrozenClock:
    frozen = FrozenClock()
    demo_ctx.clock = frozen
    return frozen


def _notification_rows(ctx: ServiceContext) -> list[tuple[str, str, str | None]]:
    with ctx.db.read() as conn:
        rows = conn.execute(select(notices.c.user_id, notices.c.kind, notices.c.ticket_id)).all()
    return sorted((r.user_id, r.kind, r.ticket_id) for r in rows)


def _job_states(ctx: ServiceContext) -> dict[str, int]:
    jobs_t = Job.__table__
    with ctx.db.read() as conn:
        rows = conn.execute(select(jobs_t.c.state, func.count()).group_by(jobs_t.c.state)).all()
    return dict(rows)  # type: ignore[arg-type]


def test_assignees_are_notified_after_a_submit(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("120000.00")
    assert _notification_rows(desk.ctx) == []  # nothing before the worker runs
    stats = jobs.run_due(desk.ctx, owner="worker-1")
    assert (stats.done, stats.failed, stats.lost) == (1, 0, 0)
    assert _job_states(desk.ctx) == {"done": 1}

    ids = {name: desk.actors[name].user_id for name in ("wang.fang", "liu.yang", "ma.li")}
    assert _notification_rows(desk.ctx) == sorted(
        (user_id, "task_assigned", ticket_id) for user_id in ids.values()
    )
    for name in ids:
        (notice,) = notifications.unread(desk.ctx, desk.actors[name])
        assert notice.ticket_id == ticket_id
        assert notice.kind == "task_assigned"
        assert notice.title == desk.view(ticket_id).title == "Loan approval · 张三"
        assert notice.task_id in {t.id for t in desk.view(ticket_id).open_tasks}
        assert notifications.count_unread(desk.ctx, desk.actors[name]) == 1
    assert notifications.unread(desk.ctx, desk.actors["zhang.wei"]) == []

    # Marking read empties the inbox count for that person only.
    assert notifications.mark_read(desk.ctx, desk.actors["ma.li"]) == 1
    assert notifications.count_unread(desk.ctx, desk.actors["ma.li"]) == 0
    assert notifications.count_unread(desk.ctx, desk.actors["liu.yang"]) == 1

    # A second run finds nothing due.
    assert jobs.run_due(desk.ctx, owner="worker-1").done == 0


def test_notification_titles_follow_the_viewers_language(desk: Desk, clock: FrozenClock) -> None:
    desk.submit("120000.00")
    jobs.run_due(desk.ctx, owner="worker-1")
    (zh,) = notifications.unread(desk.ctx, desk.actors["liu.yang"], locale="zh")
    assert zh.title == "贷款审批 · 张三"
    (en,) = notifications.unread(desk.ctx, desk.actors["liu.yang"], locale="en")
    assert en.title == "Loan approval · 张三"


def test_unread_notifications_page_by_cursor_newest_first(desk: Desk, clock: FrozenClock) -> None:
    """Five notices, three of them delivered at the same instant: paging by two sees each once."""
    filed = [desk.submit("1000.00", applicant_name=f"客户{index}") for index in range(3)]
    assert jobs.run_due(desk.ctx, owner="w").done == 3
    for index in (3, 4):
        clock.advance(timedelta(minutes=1))
        filed.append(desk.submit("1000.00", applicant_name=f"客户{index}"))
        assert jobs.run_due(desk.ctx, owner="w").done == 1
    manager = desk.actors["li.na"]  # small loans wait for the branch manager
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = notifications.notifications_page(desk.ctx, manager, cursor=cursor, limit=2)
        seen.extend(n.ticket_id or "" for n in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen[:2] == [filed[4], filed[3]]  # newest first
    assert sorted(seen[2:]) == sorted(filed[:3])  # same instant: each exactly once
    # A cursor that is not one of this person's notifications finds nothing.
    assert notifications.notifications_page(desk.ctx, manager, cursor="f" * 32).items == []
    # Marking what was shown read leaves the rest unread.
    first = notifications.notifications_page(desk.ctx, manager, limit=2)
    assert notifications.mark_shown_read(desk.ctx, manager, [n.id for n in first.items]) == 2
    assert notifications.count_unread(desk.ctx, manager) == 3


def test_the_requester_hears_the_outcome(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("20000.00")
    desk.approve("li.na", ticket_id, "branch_review")
    desk.approve("zhao.lei", ticket_id, "disburse")
    assert jobs.run_due(desk.ctx, owner="w").done == 3
    kinds = [n.kind for n in notifications.unread(desk.ctx, desk.actors["zhang.wei"])]
    assert kinds == ["ticket_approved"]


def test_a_job_whose_worker_lost_its_lease_runs_again_without_duplicates(
    desk: Desk, clock: FrozenClock
) -> None:
    desk.submit("120000.00")
    with desk.ctx.db.write() as conn:
        (stuck,) = jobs_store.claim(
            conn, owner="crashed-worker", now=clock.now(), lease=jobs.LEASE, limit=10
        )
    # Still leased: another worker leaves it alone.
    assert jobs.run_due(desk.ctx, owner="worker-2").done == 0

    clock.advance(jobs.LEASE + timedelta(seconds=1))
    assert jobs.run_due(desk.ctx, owner="worker-2").done == 1
    delivered = _notification_rows(desk.ctx)
    assert len(delivered) == 3

    # The first worker wakes up and runs its copy of the job: its final write is fenced.
    handler = jobs.HANDLERS[stuck.kind]
    with pytest.raises(jobs.LeaseLost), desk.ctx.db.write() as conn:
        handler(conn, dict(stuck.payload), desk.ctx)
        if not jobs_store.finish(
            conn, job_id=stuck.id, owner="crashed-worker", attempt=stuck.attempts, now=clock.now()
        ):
            raise jobs.LeaseLost()
    assert _notification_rows(desk.ctx) == delivered
    assert _job_states(desk.ctx) == {"done": 1}


def test_delivering_the_same_notices_twice_adds_nothing(desk: Desk, clock: FrozenClock) -> None:
    """At-least-once: a handler that commits twice (e.g. re-run by an operator) is idempotent."""
    desk.submit("120000.00")
    with desk.ctx.db.read() as conn:
        (job,) = conn.execute(select(Job.__table__)).all()
    handler = jobs.HANDLERS["notify"]
    for _ in range(2):
        with desk.ctx.db.write() as conn:
            handler(conn, dict(job.payload), desk.ctx)
        clock.advance(timedelta(minutes=5))
    assert len(_notification_rows(desk.ctx)) == 3
    jobs.run_due(desk.ctx, owner="w")
    assert len(_notification_rows(desk.ctx)) == 3


def test_a_failing_job_backs_off_then_becomes_a_visible_dead_job(
    desk: Desk, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[dict[str, Any]] = []

    def flaky(conn: Connection, payload: dict[str, Any], ctx: ServiceContext) -> None:
        runs.append(payload)
        raise ConnectionError("smtp down")

    monkeypatch.setitem(jobs.HANDLERS, "test.flaky", flaky)
    with desk.ctx.db.write() as conn:
        jobs_store.enqueue(
            conn,
            kind="test.flaky",
            payload={"n": 1},
            due_at=clock.now(),
            now=clock.now(),
            max_attempts=3,
        )
    for attempt in (1, 2, 3):
        stats = jobs.run_due(desk.ctx, owner="w")
        assert (stats.done, stats.failed) == (0, 1)
        assert len(runs) == attempt
        # Not retried before its back-off has passed.
        assert jobs.run_due(desk.ctx, owner="w").failed == 0
        clock.advance(timedelta(hours=1, seconds=1))
    assert jobs.run_due(desk.ctx, owner="w").failed == 0
    with desk.ctx.db.read() as conn:
        (dead,) = jobs_store.by_state(conn, "dead")
    assert dead.attempts == 3
    assert dead.last_error == "ConnectionError: smtp down"

    # An operator retries it once the cause is fixed.
    monkeypatch.setitem(jobs.HANDLERS, "test.flaky", lambda conn, payload, ctx: None)
    with desk.ctx.db.write() as conn:
        assert jobs_store.retry_dead(conn, dead.id, clock.now())
    assert jobs.run_due(desk.ctx, owner="w").done == 1
    assert _job_states(desk.ctx) == {"done": 1}


def test_a_job_kind_without_a_handler_fails_visibly(desk: Desk, clock: FrozenClock) -> None:
    with desk.ctx.db.write() as conn:
        jobs_store.enqueue(
            conn,
            kind="test.unknown",
            payload={},
            due_at=clock.now(),
            now=clock.now(),
            max_attempts=1,
        )
    assert jobs.run_due(desk.ctx, owner="w").failed == 1
    with desk.ctx.db.read() as conn:
        (dead,) = jobs_store.by_state(conn, "dead")
    assert "no handler" in (dead.last_error or "")
