"""Call activities (ADR 0033): the link from a child ticket to the parent that called it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_links",
        sa.Column("child_ticket_id", sa.String(length=32), nullable=False),
        sa.Column("parent_ticket_id", sa.String(length=32), nullable=False),
        sa.Column("wait_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_ticket_id"], ["tickets.id"], name=op.f("fk_call_links_child_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["parent_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_call_links_parent_ticket_id_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["wait_id"], ["ticket_waits.id"], name=op.f("fk_call_links_wait_id_ticket_waits")
        ),
        sa.PrimaryKeyConstraint("child_ticket_id", name=op.f("pk_call_links")),
        sa.UniqueConstraint("wait_id", name=op.f("uq_call_links_wait_id")),
    )
    op.create_index(op.f("ix_call_links_parent_ticket_id"), "call_links", ["parent_ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_call_links_parent_ticket_id"), table_name="call_links")
    op.drop_table("call_links")
