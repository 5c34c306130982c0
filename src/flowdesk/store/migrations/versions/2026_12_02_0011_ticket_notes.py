"""Ticket notes (urges and comments) beside the steps, and the urge window (ADR 0017).

`ticket_notes` holds what people add to a ticket without moving it: an urge (催办) or a
comment without a decision. A note never touches the ticket row or its version, so no
approval can lose a race to it. `ticket_urge_marks` keeps, per ticket, when it was last
urged; one conditional upsert claims the next window.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

JsonDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("data", JsonDoc, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_ticket_notes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_notes_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notes")),
    )
    op.create_index("ix_ticket_notes_ticket_at", "ticket_notes", ["ticket_id", "at"])
    op.create_index(op.f("ix_ticket_notes_actor_id"), "ticket_notes", ["actor_id"])
    op.create_table(
        "ticket_urge_marks",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("urged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_urge_marks_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_urge_marks")),
    )


def downgrade() -> None:
    op.drop_table("ticket_urge_marks")
    op.drop_index(op.f("ix_ticket_notes_actor_id"), table_name="ticket_notes")
    op.drop_index("ix_ticket_notes_ticket_at", table_name="ticket_notes")
    op.drop_table("ticket_notes")
