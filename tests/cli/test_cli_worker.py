"""`flowdesk worker` as an operator runs it: a real process that works off the queued
jobs, logs one JSON line per event on stderr (as `serve` does, ADR 0012) and stops
cleanly on SIGTERM, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flowdesk.engines.access import Actor
from flowdesk.services import tickets
from flowdesk.services.context import ServiceContext
from flowdesk.store import jobs as jobs_store

FLOWDESK = Path(sys.executable).with_name("flowdesk")
LOAN = {
    "applicant_name": "张三",
    "amount": "8000.00",
    "term_months": 12,
    "credit_rating": "A",
    "region": "north",
    "purpose": "Working capital",
}


def _jobs(ctx: ServiceContext, state: str) -> list[Any]:
    with ctx.db.read() as conn:
        return jobs_store.by_state(conn, state)


def _lines(log: Path) -> list[dict[str, Any]]:
    """Every line the process wrote, each of which must be one JSON object."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_the_worker_logs_json_lines_and_stops_on_sigterm(
    demo_ctx: ServiceContext, actors: dict[str, Actor], db_url: str, tmp_path: Path
) -> None:
    tickets.submit(
        demo_ctx, actor=actors["wu.min"], app_key="loan", values=LOAN, source="json", locale="en"
    )
    now = demo_ctx.clock.now()
    with demo_ctx.db.write() as conn:  # a job nobody can run: one failure, then dead
        jobs_store.enqueue(
            conn, kind="no.such.kind", payload={}, due_at=now, now=now, max_attempts=1
        )
    queued = len(_jobs(demo_ctx, "queued"))
    assert queued >= 2  # the ticket's notifications and the bad job

    log = tmp_path / "worker.log"
    env = {**os.environ, "FLOWDESK_DATABASE_URL": db_url, "FLOWDESK_DEV": "1"}
    with log.open("wb") as err:
        worker = subprocess.Popen(
            [str(FLOWDESK), "worker"], stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=tmp_path
        )
    try:
        deadline = time.monotonic() + 60
        while _jobs(demo_ctx, "queued") or not _jobs(demo_ctx, "dead"):
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    lines = _lines(log)
    for line in lines:
        assert {"ts", "level", "logger", "msg", "request_id"} <= set(line), line
        assert line["request_id"] is None  # no request: a job is not one
    messages = [line["msg"] for line in lines]
    assert messages[0].startswith("worker ") and messages[0].endswith(" started"), messages
    (failed,) = [line for line in lines if "no.such.kind" in line["msg"]]
    assert failed["level"] == "warning" and "RuntimeError" in failed["msg"]
    assert "exc" not in failed  # a failing job is one line, not a traceback
    ran = [line for line in lines if " ran " in line["msg"]]
    assert ran and all(line["logger"] == "flowdesk.worker.runner" for line in ran)
    assert sum(int(line["msg"].split(" ran ")[1].split()[0]) for line in ran) == queued
    # The signal may arrive while the batch's line is being written: "stopping" is logged
    # by the main thread, and the loop's "stopped" comes last, after its batch.
    assert "worker stopping on SIGTERM" in messages
    assert messages[-1] == messages[0].replace(" started", " stopped")
    assert len(_jobs(demo_ctx, "dead")) == 1
