"""The job loop: `flowdesk worker` runs it until signalled, `serve` in a thread.

It logs through `logging` like everything else, so its lines are the JSON lines of
flowdesk.logs wherever it runs (ADR 0012): `serve` configures them through uvicorn,
`flowdesk worker` with `logs.configure()`.
"""

from __future__ import annotations

import logging
import signal
import threading

from flowdesk.services import calls, jobs, timers
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
            fired = timers.fire_due(ctx, batch=batch)  # due timers, each a step (ADR 0023)
            called = calls.run_due(ctx, batch=batch)  # call activities' children (ADR 0033)
            jobs.maintain(ctx)
        except Exception:  # the database may be briefly away; keep the loop alive
            log.exception("worker loop error")
            stop.wait(poll_seconds * 4)
            continue
        worked = stats.done + stats.failed + stats.lost
        if fired.fired or fired.stale or fired.failed:
            log.info(
                "worker %s fired %d timers (%d stale, %d failed)",
                owner,
                fired.fired,
                fired.stale,
                fired.failed,
            )
        worked += fired.fired + fired.stale + fired.failed + called.worked
        if worked:
            log.info(
                "worker %s ran %d jobs: %d done, %d failed, %d lost to another worker",
                owner,
                worked,
                stats.done,
                stats.failed,
                stats.lost,
            )
        if worked < batch:
            stop.wait(poll_seconds)
    log.info("worker %s stopped", owner)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_until_signalled(ctx: ServiceContext, *, poll_seconds: float = 0.5) -> None:
    """`flowdesk worker`: the job loop runs in a thread until SIGINT (Ctrl-C) or SIGTERM
    (systemd, Kubernetes); the batch under way finishes, so its jobs are not left
    claimed until their lease runs out. The signals are taken with sigwait, never in a
    handler that could interrupt the loop in the middle of a transaction."""
    stop = threading.Event()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # the thread inherits it
    try:
        loop = threading.Thread(
            target=run_forever,
            args=(ctx, stop),
            kwargs={"poll_seconds": poll_seconds},
            name="flowdesk-worker",
        )
        loop.start()
        received = None
        while received is None and loop.is_alive():
            received = signal.sigtimedwait(STOP_SIGNALS, 1.0)
        if received is not None:
            log.info("worker stopping on %s", signal.Signals(received.si_signo).name)
        stop.set()
        loop.join()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
