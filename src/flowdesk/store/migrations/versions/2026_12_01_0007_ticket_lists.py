"""Ticket lists: serial numbers (LN-2026-000123) and the search index (ADR 0010).

`tickets.serial` is given to existing tickets here, per app and year in the bank's
zone, in the order they were filed, with the prefix the app's current definition
names (its key in capitals when it names none); `ticket_serials` then continues each
sequence. `ticket_terms` is filled from each ticket's serial, title and text fields.

On SQLite the column is added in place (ADD COLUMN, with a '' default it needs to be
NOT NULL): a batch copy of `tickets` would lose WITHOUT ROWID.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import default_prefix, format_serial, serial_year

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TEXT_TYPES = ("text", "long_text")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("ALTER TABLE tickets ADD COLUMN serial VARCHAR(32) NOT NULL DEFAULT ''")
    else:
        # Byte order whatever the database's collation: a serial's start is a range.
        serial = sa.String(length=32, collation="C")
        op.add_column("tickets", sa.Column("serial", serial, nullable=True))
    op.create_table(
        "ticket_serials",
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_ticket_serials_app_id_apps")
        ),
        sa.PrimaryKeyConstraint("app_id", "year", name=op.f("pk_ticket_serials")),
    )
    op.create_table(
        "ticket_terms",
        # Byte order on PostgreSQL whatever the database's collation: a prefix is a range.
        sa.Column(
            "term",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("term", "ticket_id", name=op.f("pk_ticket_terms")),
        sqlite_with_rowid=False,
    )
    _backfill(bind)
    if not sqlite:
        op.alter_column(
            "tickets", "serial", existing_type=sa.String(length=32, collation="C"), nullable=False
        )
    op.create_index("uq_tickets_serial", "tickets", ["serial"], unique=True)


def _backfill(bind: sa.Connection) -> None:
    apps = {
        app_id: (key, _definition(definition))
        for app_id, key, definition in bind.execute(
            sa.text(
                "SELECT a.id, a.key, v.definition FROM apps a"
                " LEFT JOIN app_versions v ON v.id = a.current_version_id"
            )
        )
    }
    text_fields: dict[str, list[str]] = {}
    for version_id, definition in bind.execute(sa.text("SELECT id, definition FROM app_versions")):
        fields = _definition(definition).get("form", {}).get("fields", [])
        text_fields[version_id] = [f["key"] for f in fields if f.get("type") in TEXT_TYPES]
    counters: dict[tuple[str, int], int] = defaultdict(int)
    serials: list[dict[str, Any]] = []
    terms: list[dict[str, str]] = []
    rows = bind.execute(
        sa.text(
            'SELECT id, app_id, app_version_id, title, "values", created_at FROM tickets'
            " ORDER BY created_at, id"
        )
    )
    for ticket_id, app_id, version_id, title, values, created_at in rows:
        key, definition = apps[app_id]
        prefix = definition.get("serial_prefix") or default_prefix(key)
        year = serial_year(_aware(created_at))
        counters[(app_id, year)] += 1
        serial = format_serial(prefix, year, counters[(app_id, year)])
        serials.append({"id": ticket_id, "serial": serial})
        values = _definition(values)
        texts = [serial, title or ""]
        texts += [v for k in text_fields.get(version_id, []) if isinstance(v := values.get(k), str)]
        terms += [{"term": t, "ticket_id": ticket_id} for t in document_terms(texts)]
    if serials:
        bind.execute(sa.text("UPDATE tickets SET serial = :serial WHERE id = :id"), serials)
    if counters:
        bind.execute(
            sa.text(
                "INSERT INTO ticket_serials (app_id, year, last) VALUES (:app_id, :year, :last)"
            ),
            [{"app_id": a, "year": y, "last": n} for (a, y), n in counters.items()],
        )
    if terms:
        bind.execute(
            sa.text("INSERT INTO ticket_terms (term, ticket_id) VALUES (:term, :ticket_id)"), terms
        )


def _definition(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _aware(raw: Any) -> datetime:
    value = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def downgrade() -> None:
    op.drop_index("uq_tickets_serial", table_name="tickets")
    op.drop_table("ticket_terms")
    op.drop_table("ticket_serials")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE tickets DROP COLUMN serial")
    else:
        op.drop_column("tickets", "serial")
