"""Ticket copies (抄送): who was copied on a ticket, by a CC node or ad hoc.

One row per person and ticket. A CC node's copies are written with the step that passed
the node (`node_id`, no `by_id`); an ad-hoc copy by a holder or the applicant is a note
beside the steps (`by_id`, `note_id`) and never touches the ticket's version. `read_at`
is set when the copied person opens the ticket; 抄送我 reads a user's copies newest first.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_copies",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("by_id", sa.String(length=32), nullable=True),
        sa.Column("node_id", sa.String(length=100), nullable=True),
        sa.Column("note_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_ticket_copies_by_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_copies_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ticket_copies_user_id_users")
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_copies")),
    )
    op.create_index("ix_ticket_copies_user_at", "ticket_copies", ["user_id", "at"])
    op.create_index(op.f("ix_ticket_copies_by_id"), "ticket_copies", ["by_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_copies_by_id"), table_name="ticket_copies")
    op.drop_index("ix_ticket_copies_user_at", table_name="ticket_copies")
    op.drop_table("ticket_copies")
