"""The org chart as a bank keeps it: bilingual names, job level (职级), mobile, updated_at.

`display_name` stays: it is what every page, list and notification shows, and it is
now derived from the bilingual names by the org service (Chinese name if given, else
English, else the username; ADR 0013). Existing users keep their display name as
their Chinese name. None of the new columns decides who gets a task, so the org
generation triggers (0002) stay as they are: they already watch `is_active`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flowdesk.store.tables import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

NEW_COLUMNS = ("name_zh", "name_en", "job_level", "mobile", "updated_at")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): on SQLite a table copy would drop the triggers.
    op.add_column("users", sa.Column("name_zh", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("name_en", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("job_level", sa.String(length=32), nullable=True))
    op.add_column("users", sa.Column("mobile", sa.String(length=20), nullable=True))
    op.add_column("users", sa.Column("updated_at", UtcDateTime(), nullable=True))
    op.execute("UPDATE users SET name_zh = display_name WHERE name_zh IS NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in NEW_COLUMNS:
            op.drop_column("users", column)
        return
    # SQLite ≥ 3.35 drops a column in place, keeping the triggers on the table.
    for column in NEW_COLUMNS:
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
