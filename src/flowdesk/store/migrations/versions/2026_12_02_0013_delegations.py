"""Delegations (代理): out-of-office rules that send a principal's new tasks to a delegate.

Assignee look-ups are cached per org generation (migration 0002); a delegation changes
who gets a task, so the same triggers bump the generation when one is added, changed or
revoked.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

WATCHED = ("delegate_id", "app_key", "starts_at", "ends_at", "revoked_at")
BUMP = "UPDATE org_generation SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("principal_id", sa.String(length=32), nullable=False),
        sa.Column("delegate_id", sa.String(length=32), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_delegations_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"], ["users.id"], name=op.f("fk_delegations_delegate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["users.id"], name=op.f("fk_delegations_principal_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
    )
    op.create_index(op.f("ix_delegations_created_by"), "delegations", ["created_by"])
    op.create_index(op.f("ix_delegations_delegate_id"), "delegations", ["delegate_id"])
    op.create_index(op.f("ix_delegations_principal_id"), "delegations", ["principal_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER delegations_bump_org_generation AFTER INSERT OR DELETE OR TRUNCATE"
            f" OR UPDATE OF {', '.join(WATCHED)} ON delegations"
            " FOR EACH STATEMENT EXECUTE FUNCTION flowdesk_bump_org_generation()"
        )
        return
    for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(WATCHED)}"):
        name = f"delegations_bump_org_generation_{event.split()[0].lower()}"
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON delegations BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS delegations_bump_org_generation ON delegations")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS delegations_bump_org_generation_{event}")
    op.drop_index(op.f("ix_delegations_principal_id"), table_name="delegations")
    op.drop_index(op.f("ix_delegations_delegate_id"), table_name="delegations")
    op.drop_index(op.f("ix_delegations_created_by"), table_name="delegations")
    op.drop_table("delegations")
