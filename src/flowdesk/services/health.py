"""What the operator's probes and the metrics scrape ask of the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from flowdesk.services.bootstrap import schema_behind
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit
from flowdesk.store.tables import Job, TicketStep, table_of

JOB_STATES = ("queued", "running", "done", "dead")


@dataclass(frozen=True)
class Figures:
    jobs_by_state: dict[str, int]
    audit_head_seq: int
    ticket_steps: int


def not_ready(ctx: ServiceContext) -> str | None:
    """Why this process cannot serve requests now (database unreachable or its schema
    not the one this version needs), or None when it can."""
    try:
        return schema_behind(ctx)
    except Exception as exc:  # any driver error means the same thing to a load balancer
        return f"the database is not reachable ({type(exc).__name__})"


def figures(ctx: ServiceContext) -> Figures:
    """Counts shared by every server process (they live in the database), for /metrics."""
    jobs, steps = table_of(Job), table_of(TicketStep)
    with ctx.db.read() as conn:
        rows = conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)).all()
        by_state = dict.fromkeys(JOB_STATES, 0) | {str(s): int(n) for s, n in rows}
        step_count = int(conn.execute(select(func.count()).select_from(steps)).scalar_one())
        head = audit.head(conn)
    return Figures(jobs_by_state=by_state, audit_head_seq=head.seq, ticket_steps=step_count)
