"""Webhook deliveries in the timeline: a service task's delivery, sent or given up, is a
ticket note written by the worker (ADR 0024). Nobody acts in it, so a note's actor may be
empty.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_notes", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    # the worker's notes have no actor: they go with the column's new meaning
    op.execute("DELETE FROM ticket_notes WHERE actor_id IS NULL")
    with op.batch_alter_table("ticket_notes", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.String(length=32), nullable=False)
