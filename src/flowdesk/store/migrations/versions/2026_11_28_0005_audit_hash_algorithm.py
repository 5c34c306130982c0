"""The audit chain's hash algorithm: SHA-256 or SM3, fixed when the chain starts.

`audit_head.algorithm` says which one the chain uses (existing chains: sha256). On
PostgreSQL `flowdesk_digest(text, algorithm)` hashes in SQL: SHA-256 with the built-in
`sha256()`, SM3 with pgcrypto's `digest()`, which PL/pgSQL resolves only when it runs,
so a SHA-256 deployment needs no extension. On SQLite the same function is registered
on every connection (store/audit.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

PG_DIGEST = """
CREATE FUNCTION flowdesk_digest(data text, algorithm text) RETURNS text AS $$
BEGIN
    IF algorithm = 'sha256' THEN
        RETURN encode(sha256(convert_to(data, 'UTF8')), 'hex');
    ELSIF algorithm = 'sm3' THEN
        RETURN encode(digest(convert_to(data, 'UTF8'), 'sm3'), 'hex');
    END IF;
    RAISE EXCEPTION 'unknown audit hash algorithm %', algorithm;
END;
$$ LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("algorithm", sa.String(length=16), server_default="sha256", nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DIGEST)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION flowdesk_digest(text, text)")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("algorithm")
