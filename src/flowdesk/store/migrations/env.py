"""Alembic environment: runs on the connection flowdesk hands it (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context

from flowdesk.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `flowdesk migrate`, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
