"""Running background jobs: claim a batch, run each handler, fence the final write.

Handlers are idempotent (they may run again after a crash); a handler's effects and
the job's completion commit in one transaction, fenced by owner and attempt, so a
worker whose lease expired cannot commit them.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from flowdesk.kernel.errors import FlowdeskError
from flowdesk.kernel.ids import new_id
from flowdesk.services import attachments, auth
from flowdesk.services.context import ServiceContext
from flowdesk.store import jobs as jobs_store

log = logging.getLogger(__name__)

Handler = Callable[[Connection, dict[str, Any], ServiceContext], None]
HANDLERS: dict[str, Handler] = {}
# Jobs that leave the system (webhooks, ADR 0024): `send` does the I/O before the
# handler's transaction opens (never holding a writer across the network) and returns
# the payload the handler records; `gave_up` writes, with the job's death, what a
# delivery that will not be tried again leaves behind.
Send = Callable[[dict[str, Any], ServiceContext], dict[str, Any]]
GaveUp = Callable[[Connection, dict[str, Any], str, ServiceContext], None]


@dataclass(frozen=True)
class Outbound:
    send: Send
    gave_up: GaveUp


OUTBOUND: dict[str, Outbound] = {}
LEASE = timedelta(seconds=60)


class LeaseLost(FlowdeskError):
    def __init__(self) -> None:
        super().__init__(
            "The job's lease was taken over; its work was rolled back", "lease_lost", [], 409
        )


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def outbound(kind: str, *, send: Send, gave_up: GaveUp) -> None:
    OUTBOUND[kind] = Outbound(send, gave_up)


def worker_name() -> str:
    return f"{socket.gethostname()}:{new_id()[-8:]}"


@dataclass
class RunStats:
    done: int = 0
    failed: int = 0
    lost: int = 0


def maintain(ctx: ServiceContext) -> None:
    """Periodic housekeeping between job batches: the SQLite WAL checkpoint, and every
    few minutes the expired login-throttle rows and browser sessions, and hourly the
    attachments nobody linked (ADR 0028)."""
    ctx.db.checkpoint()
    auth.purge_expired_when_due(ctx)
    attachments.purge_unlinked_when_due(ctx)


def run_due(ctx: ServiceContext, *, owner: str, batch: int = 20) -> RunStats:
    """Claims up to `batch` due jobs and runs each in its own transaction."""
    stats = RunStats()
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        claimed = jobs_store.claim(conn, owner=owner, now=now, lease=LEASE, limit=batch)
    for job in claimed:
        function = HANDLERS.get(job.kind)
        leaving = OUTBOUND.get(job.kind)
        try:
            payload = dict(job.payload)
            if leaving is not None:
                payload = leaving.send(payload, ctx)  # outside any transaction
            with ctx.db.write() as conn:
                if function is None:
                    raise RuntimeError(f"no handler for job kind {job.kind!r}")
                function(conn, payload, ctx)
                if not jobs_store.finish(
                    conn, job_id=job.id, owner=owner, attempt=job.attempts, now=ctx.clock.now()
                ):
                    raise LeaseLost()
            stats.done += 1
        except LeaseLost:
            stats.lost += 1
        except Exception as exc:  # a failing handler must not stop the worker
            log.warning(
                "job %s (%s) attempt %s failed: %s",
                job.id,
                job.kind,
                job.attempts,
                type(exc).__name__,
            )
            stats.failed += 1
            backoff = timedelta(seconds=min(3600, 2**job.attempts * 5))
            # a failure that says trying again cannot help spends no more attempts
            last = job.attempts if getattr(exc, "permanent", False) else job.max_attempts
            error = f"{type(exc).__name__}: {exc}"
            with ctx.db.write() as conn:
                failed = jobs_store.fail(
                    conn,
                    job_id=job.id,
                    owner=owner,
                    attempt=job.attempts,
                    max_attempts=last,
                    error=error,
                    now=ctx.clock.now(),
                    retry_at=ctx.clock.now() + backoff,
                )
                if failed and leaving is not None and job.attempts >= last:
                    leaving.gave_up(conn, dict(job.payload), error, ctx)
    return stats
