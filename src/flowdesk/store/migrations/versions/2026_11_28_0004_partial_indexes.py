"""Partial indexes where most rows have NULL in the indexed column.

* `ix_tasks_completed_by` holds completed tasks only: closing a task then inserts one
  index entry instead of moving it out of the open tasks' NULL run and into the user's.
  It still serves the foreign key: a lookup by user implies `completed_by IS NOT NULL`.
* `uq_jobs_idempotency_key` becomes a unique index over keyed jobs only: the jobs a
  ticket step queues need no key (the ticket's version makes the step exactly-once).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _where(column: str) -> dict[str, Any]:
    clause = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": clause, "postgresql_where": clause}


def upgrade() -> None:
    op.drop_index("ix_tasks_completed_by", table_name="tasks")
    op.create_index("ix_tasks_completed_by", "tasks", ["completed_by"], **_where("completed_by"))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_jobs_idempotency_key", type_="unique")
    op.create_index(
        "uq_jobs_idempotency_key",
        "jobs",
        ["idempotency_key"],
        unique=True,
        **_where("idempotency_key"),
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_idempotency_key", table_name="jobs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_jobs_idempotency_key", ["idempotency_key"])
    op.drop_index("ix_tasks_completed_by", table_name="tasks")
    op.create_index("ix_tasks_completed_by", "tasks", ["completed_by"])
