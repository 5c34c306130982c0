"""Org generation: a counter the database bumps on every org-chart change.

Processes cache who holds a role, heads a department or manages whom; a step reads the
counter in its first statement and drops its cache when the counter moved. Triggers
bump it, so a change made by any process, or by hand in SQL, is seen by all.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# The columns assignee resolution reads; other updates (a password, a locale) keep caches.
WATCHED = {
    "users": ("username", "department_id", "manager_id", "is_active"),
    "departments": ("code", "parent_id", "head_user_id"),
    "roles": ("key",),
    "user_roles": ("user_id", "role_id"),
}
BUMP = "UPDATE org_generation SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "org_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_generation")),
    )
    op.execute("INSERT INTO org_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION flowdesk_bump_org_generation() RETURNS trigger AS $$"
            f" BEGIN {BUMP}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table, columns in WATCHED.items():
            op.execute(
                f"CREATE TRIGGER {table}_bump_org_generation AFTER INSERT OR DELETE OR TRUNCATE"
                f" OR UPDATE OF {', '.join(columns)} ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION flowdesk_bump_org_generation()"
            )
        return
    for table, columns in WATCHED.items():
        for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(columns)}"):
            name = f"{table}_bump_org_generation_{event.split()[0].lower()}"
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_org_generation ON {table}")
        op.execute("DROP FUNCTION IF EXISTS flowdesk_bump_org_generation()")
    else:
        for table in WATCHED:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_org_generation_{event}")
    op.drop_table("org_generation")
