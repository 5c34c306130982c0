"""Business calendar: administrators' days and covered years, and their generation.

`calendar_days` holds the dates an administrator marked working or not (with their
own hours, optionally); `calendar_years` the years whose holidays they entered in
full. Processes keep the built calendar while `calendar_generation` stays the same;
triggers bump it on every change, as for the org chart (ADR 0007), so a change by
any process, or by hand in SQL, is seen by all.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

WATCHED = ("calendar_days", "calendar_years")
BUMP = "UPDATE calendar_generation SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column(
            "hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "calendar_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_generation")),
    )
    op.execute("INSERT INTO calendar_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION flowdesk_bump_calendar_generation() RETURNS trigger AS $$"
            f" BEGIN {BUMP}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_bump_calendar_generation"
                f" AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION flowdesk_bump_calendar_generation()"
            )
        return
    for table in WATCHED:
        for event in ("INSERT", "DELETE", "UPDATE"):
            name = f"{table}_bump_calendar_generation_{event.lower()}"
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_calendar_generation ON {table}")
        op.execute("DROP FUNCTION IF EXISTS flowdesk_bump_calendar_generation()")
    else:
        for table in WATCHED:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_calendar_generation_{event}")
    op.drop_table("calendar_generation")
    op.drop_table("calendar_years")
    op.drop_table("calendar_days")
