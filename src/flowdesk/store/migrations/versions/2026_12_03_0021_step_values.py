"""The form values each step left, kept with the step that changed them (issue 8: "the
decision, its reason and the form values at that moment are kept with each task").

`ticket_steps.values` holds the ticket's values after a step that set them (a submit, a
resubmit, an approver's edit) and is null for the others, so a decision's values are the
nearest snapshot at or before its step. Existing tickets get their current values on
their latest step (what they are after it); decisions before that were not recorded.

`tasks.delegated_by` marks a delegate's task (委派, ADR 0034) with whose task it works on,
so 待办 says "delegated by …" from the row it reads anyway.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket_steps",
        sa.Column(
            "values",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column("tasks", sa.Column("delegated_by", sa.String(length=32), nullable=True))
    op.execute(
        'UPDATE ticket_steps SET "values" = (SELECT t."values" FROM tickets t'
        " WHERE t.id = ticket_steps.ticket_id AND t.version = ticket_steps.version)"
        " WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.id = ticket_steps.ticket_id"
        " AND t.version = ticket_steps.version)"
    )


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+): no table rebuild, so WITHOUT ROWID stays
    op.execute('ALTER TABLE ticket_steps DROP COLUMN "values"')
    op.execute("ALTER TABLE tasks DROP COLUMN delegated_by")
