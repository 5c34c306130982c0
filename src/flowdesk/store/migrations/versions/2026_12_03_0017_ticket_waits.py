"""Timers and message waits (ADR 0023): rows with UTC due times that the worker fires, and
the messages received by their sender's id.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_waits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("activation_id", sa.String(length=32), nullable=False),
        sa.Column("fire", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_waits_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_waits")),
    )
    op.create_index(op.f("ix_ticket_waits_ticket_id"), "ticket_waits", ["ticket_id"])
    op.create_index("ix_ticket_waits_state_due", "ticket_waits", ["state", "due_at"])
    op.create_index("ix_ticket_waits_name_key", "ticket_waits", ["name", "key"])
    op.create_table(
        "message_receipts",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_message_receipts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_receipts")),
    )
    op.create_index(op.f("ix_message_receipts_ticket_id"), "message_receipts", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_message_receipts_ticket_id"), table_name="message_receipts")
    op.drop_table("message_receipts")
    op.drop_index("ix_ticket_waits_name_key", table_name="ticket_waits")
    op.drop_index("ix_ticket_waits_state_due", table_name="ticket_waits")
    op.drop_index(op.f("ix_ticket_waits_ticket_id"), table_name="ticket_waits")
    op.drop_table("ticket_waits")
