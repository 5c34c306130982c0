"""Round-robin picks (ADR 0025): a turn per app and role, moved on inside the step.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignee_turns",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("turn", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_assignee_turns")),
    )


def downgrade() -> None:
    op.drop_table("assignee_turns")
