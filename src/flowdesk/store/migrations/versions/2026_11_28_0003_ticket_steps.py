"""Timeline as one row per step: `ticket_steps` replaces `events` (ADR 0008).

A step wrote one `events` row per event (three on average), each with four B-trees to
update (the row and three indexes); it now writes one `ticket_steps` row keyed by the
ticket and the version the step produced, with the step's events as a JSON array: one
B-tree (WITHOUT ROWID on SQLite), whose key also indexes the ticket foreign key.

Existing events are carried over: a step's events share the ticket and the instant
(`at`), and steps are numbered in order, as the version each one produced.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:30:00
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from flowdesk.store.tables import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")
EVENT_KEYS = ("kind", "node_id", "task_id", "actor_id", "comment", "data")


def upgrade() -> None:
    steps = op.create_table(
        "ticket_steps",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("events", JsonDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_steps_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", "version", name=op.f("pk_ticket_steps")),
        sqlite_with_rowid=False,
    )
    _carry_over_events(steps)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_events_task_id"))
        batch_op.drop_index(batch_op.f("ix_events_actor_id"))
    op.drop_table("events")


def _carry_over_events(steps: sa.Table) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT ticket_id, at, kind, node_id, task_id, actor_id, comment, data FROM events"
            " ORDER BY ticket_id, id"
        )
    ).all()
    new_rows: list[dict[str, Any]] = []
    for ticket_id, ticket_events in groupby(rows, key=lambda r: r.ticket_id):
        for version, (at, step_events) in enumerate(groupby(ticket_events, key=lambda r: r.at), 1):
            new_rows.append(
                {
                    "ticket_id": ticket_id,
                    "version": version,
                    "at": _aware(at),
                    "events": [_event(row) for row in step_events],
                }
            )
    if new_rows:
        op.bulk_insert(steps, new_rows)


def _event(row: Any) -> dict[str, Any]:
    event = {key: getattr(row, key) for key in EVENT_KEYS}
    if isinstance(event["data"], str):  # SQLite gives JSON as text
        event["data"] = json.loads(event["data"])
    return {key: value for key, value in event.items() if value is not None}


def _aware(value: datetime | str) -> datetime:
    """An event's instant as UtcDateTime wants it (SQLite gives naive UTC text)."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def downgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("data", JsonDoc, nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_events_actor_id_users")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_events_task_id_tasks")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    for column in ("actor_id", "task_id", "ticket_id"):
        op.create_index(op.f(f"ix_events_{column}"), "events", [column])
    bind = op.get_bind()
    events = sa.table(
        "events",
        sa.column("at", UtcDateTime()),
        sa.column("data", JsonDoc),
        *(sa.column(key) for key in ("ticket_id", *EVENT_KEYS) if key != "data"),
    )
    steps = bind.execute(
        sa.text("SELECT ticket_id, at, events FROM ticket_steps ORDER BY ticket_id, version")
    ).all()
    rows = [
        {"ticket_id": ticket_id, "at": _aware(at), **{k: e.get(k) for k in EVENT_KEYS}}
        for ticket_id, at, step_events in steps
        for e in (json.loads(step_events) if isinstance(step_events, str) else step_events)
    ]
    if rows:
        bind.execute(sa.insert(events), rows)
    op.drop_table("ticket_steps")
