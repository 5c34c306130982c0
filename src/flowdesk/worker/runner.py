"""The job loop: `flowdesk worker` runs it in the foreground, `serve` in a thread."""

from __future__ import annotations

import logging
import threading

from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext

log = logging.getLogger(__name__)


def run_forever(
    ctx: ServiceContext, stop: threading.Event, *, poll_seconds: float = 0.5, batch: int = 20
) -> None:
    owner = jobs.worker_name()
    log.info("worker %s started", owner)
    while not stop.is_set():
        try:
            stats = jobs.run_due(ctx, owner=owner, batch=batch)
            jobs.maintain(ctx)
        except Exception:  # the database may be briefly away; keep the loop alive
            log.exception("worker loop error")
            stop.wait(poll_seconds * 4)
            continue
        if stats.done + stats.failed + stats.lost < batch:
            stop.wait(poll_seconds)
    log.info("worker %s stopped", owner)


class BackgroundWorker:
    """An in-process worker thread for single-machine deployments on SQLite."""

    def __init__(self, ctx: ServiceContext, poll_seconds: float = 0.5) -> None:
        self._ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_forever,
            args=(ctx, self._stop),
            kwargs={"poll_seconds": poll_seconds},
            name="flowdesk-worker",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
