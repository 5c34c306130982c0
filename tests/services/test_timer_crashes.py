"""Timers across repeated kill -9 of the worker: none lost, none fired twice (issue 8,
RELIABILITY.md promise 4 and its figure "timers lost or double-fired across repeated
kill -9 of the worker: 0 of 2,000").

Tickets are filed on an app whose token first waits at a timer catch event (one second),
then opens a task with a non-interrupting reminder (one second after it opens): two
timers per ticket, the second set only by the first one's fire. A forked child runs the
worker loop (runner.run_forever: jobs, timers, maintenance) on its own connections; the
parent kills it with SIGKILL after a random few milliseconds, whatever it is doing, and
starts another, until no timer is pending. Then every timer fired exactly once: one
`timer_fired` event and one `timer.fire` audit entry per timer, every wait row fired,
none pending, the task opened once per ticket, and every ticket whole (version, timeline
rows and audit entries agree; tests/services/test_crash_atomicity.py).

The default size runs in well under a minute per database; `FLOWDESK_TIMERS=2000` runs
RELIABILITY.md's CI size (10000 its soak size). Run with `-s` to see the figures.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
import traceback
from collections import Counter

import pytest
from loan_desk import loan_values
from sqlalchemy import select, text
from test_crash_atomicity import _problems

from approval_apps import line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.services import apps, audit, tickets
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.store.tables import TicketStep
from flowdesk.worker.runner import run_forever

TIMERS = int(os.environ.get("FLOWDESK_TIMERS") or 60)
TICKETS = max(1, TIMERS // 2)  # two timers each
MAX_KILLS = 5000  # a worker that never gets anything done fails the test, not hangs it


def _app() -> str:
    definition = line_app("tick", (), name={"en": "Tick", "zh": "定时"}, serial_prefix="TICK")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "cool_off", "type": "timer_catch", "timer": {"after": "PT1S"}},
            {"id": "handle", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {
                "id": "remind",
                "type": "boundary_timer",
                "attached_to": "handle",
                "interrupting": False,
                "timer": {"after": "PT1S", "action": "remind"},
            },
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "cool_off"},
            {"from": "cool_off", "to": "handle"},
            {"from": "handle", "to": "end"},
        ],
    }
    return yaml_of(definition)


def _work_until_killed(url: str, seed: int, ready: int) -> None:
    """The child: its own context, the app compiled, a byte on `ready`, then the worker
    loop with a small batch, so that kills land between and inside timer steps."""
    ctx = build_context(url)
    ctx.hasher = fast_hasher()
    apps.current(ctx, "tick")
    os.write(ready, b"1")
    batch = random.Random(seed).choice((1, 2, 5, 20))
    run_forever(ctx, threading.Event(), poll_seconds=0.01, batch=batch)


def _pending(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM ticket_waits WHERE state = 'pending'")
            ).scalar_one()
        )


def _kill_until_done(ctx: ServiceContext, url: str, rng: random.Random) -> int:
    """Forks and kills workers until no timer is pending; the number of kills."""
    kills = 0
    while _pending(ctx):
        assert kills < MAX_KILLS, f"{_pending(ctx)} timers still pending after {kills} kills"
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child, which never returns
            try:
                _work_until_killed(url, kills, write_end)
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        os.close(write_end)
        started = os.read(read_end, 1)  # b"" if the child died before it was ready
        os.close(read_end)
        if started:  # any statement, any COMMIT, between two timers; now and then a
            # longer life, so that the run gets through its timers
            time.sleep(rng.uniform(0.002, 0.03) if rng.random() < 0.5 else rng.uniform(0.03, 0.3))
        os.kill(child, signal.SIGKILL)
        _, status = os.waitpid(child, 0)
        assert os.WIFSIGNALED(status), f"kill {kills}: the worker died on its own"
        kills += 1
        ctx.db.dispose()  # the parent's reads above: no pooled connection for the next fork
    return kills


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")
def test_no_timer_is_lost_or_fired_twice_across_repeated_kill_9_of_the_worker(
    demo_ctx: ServiceContext, actors: dict[str, Actor], db_url: str, backend: str
) -> None:
    apps.publish_yaml(demo_ctx, _app())
    ticket_ids = [
        tickets.submit(
            demo_ctx, actor=actors["zhang.wei"], app_key="tick", values=loan_values()
        ).ticket_id
        for _ in range(TICKETS)
    ]
    demo_ctx.db.dispose()  # no pooled connection is inherited by the children
    started = time.monotonic()
    kills = _kill_until_done(demo_ctx, db_url, random.Random(20261203))
    elapsed = time.monotonic() - started

    with demo_ctx.db.read() as conn:
        steps = TicketStep.__table__
        fired_events = Counter(
            (ticket_id, event["node_id"])
            for ticket_id, events in conn.execute(select(steps.c.ticket_id, steps.c.events))
            for event in events
            if event["kind"] == "timer_fired"
        )
        audited = Counter(
            conn.execute(
                text("SELECT target_id FROM audit_log WHERE action = 'timer.fire'")
            ).scalars()
        )
        waits = Counter(conn.execute(text("SELECT state FROM ticket_waits")).scalars())
        handle_tasks = Counter(
            conn.execute(text("SELECT ticket_id FROM tasks WHERE node_id = 'handle'")).scalars()
        )
        problems = _problems(conn)
    # each timer's fire is on its own node: the catch event's, the reminder's (ADR 0035)
    expected = Counter({(t, node): 1 for t in ticket_ids for node in ("cool_off", "remind")})
    lost = sum((expected - fired_events).values())
    doubled = sum((fired_events - expected).values())
    print(
        f"timers[{backend}]: {2 * TICKETS} timers on {TICKETS} tickets, {kills} kills,"
        f" {sum(fired_events.values())} fired, {lost} lost, {doubled} doubled,"
        f" wait rows {dict(waits)}, {elapsed:.1f}s"
    )
    assert (lost, doubled) == (0, 0)
    assert audited == Counter(dict.fromkeys(ticket_ids, 2))
    assert waits == Counter({"fired": 2 * TICKETS})  # none pending, none stale
    assert handle_tasks == Counter(dict.fromkeys(ticket_ids, 1))  # opened once each
    assert problems == []
    assert kills >= 3  # the worker really was killed mid-run, more than once
    assert audit.verify(demo_ctx).ok
