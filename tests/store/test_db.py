"""Transactions, time zones and the append-only audit table, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import StatementError

from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import AuditLog, LoginThrottle

throttle = LoginThrottle.__table__
log = AuditLog.__table__
BEIJING = timezone(timedelta(hours=8))


def test_a_read_transaction_sees_one_snapshot(ctx: ServiceContext) -> None:
    """A page reads several tables; a commit in between must not show up halfway."""
    insert_role = text(
        "INSERT INTO roles (id, key, name_en, name_zh) VALUES ('r9', 'k9', 'K', 'K')"
    )
    count = text("SELECT count(*) FROM roles")
    with ctx.db.read() as conn:
        before = conn.execute(count).scalar()
        with ctx.db.write() as writer:
            writer.execute(insert_role)
        assert conn.execute(count).scalar() == before
    with ctx.db.read() as conn:
        assert conn.execute(count).scalar() == before + 1


def test_a_failed_write_transaction_leaves_nothing(ctx: ServiceContext) -> None:
    with pytest.raises(RuntimeError), ctx.db.write() as conn:
        conn.execute(
            throttle.insert(),
            {
                "scope": "user",
                "subject": "x",
                "attempts": 1,
                "expires_at": datetime.now(UTC),
                "updated_at": datetime.now(UTC),
            },
        )
        raise RuntimeError("boom")
    with ctx.db.read() as conn:
        assert conn.execute(select(throttle)).all() == []


def test_datetimes_come_back_timezone_aware_utc(ctx: ServiceContext) -> None:
    written = datetime(2026, 3, 1, 9, 15, 30, 123456, tzinfo=BEIJING)
    with ctx.db.write() as conn:
        conn.execute(
            throttle.insert(),
            {
                "scope": "user",
                "subject": "u",
                "attempts": 0,
                "expires_at": written,
                "updated_at": written,
            },
        )
    with ctx.db.read() as conn:
        row = conn.execute(select(throttle)).one()
    assert row.expires_at == written  # the same instant
    assert row.expires_at.utcoffset() == timedelta(0)
    assert row.expires_at.tzinfo is not None
    assert row.expires_at.hour == 1  # 09:15 in Beijing is 01:15 UTC
    assert row.expires_at.microsecond == 123456


def test_comparisons_across_time_zones_use_the_instant(ctx: ServiceContext) -> None:
    base = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    with ctx.db.write() as conn:
        for index, hours in enumerate((-1, 1)):
            conn.execute(
                throttle.insert(),
                {
                    "scope": "user",
                    "subject": f"u{index}",
                    "attempts": 0,
                    "expires_at": base + timedelta(hours=hours),
                    "updated_at": base,
                },
            )
    # 09:00 Beijing == 01:00 UTC: only the later lock is still in force.
    with ctx.db.read() as conn:
        names = conn.execute(
            select(throttle.c.subject).where(throttle.c.expires_at > base.astimezone(BEIJING))
        ).scalars()
        assert list(names) == ["u1"]


def test_naive_datetimes_are_refused(ctx: ServiceContext) -> None:
    with pytest.raises(StatementError, match="naive datetime"), ctx.db.write() as conn:
        conn.execute(
            throttle.insert(),
            {
                "scope": "user",
                "subject": "u",
                "attempts": 0,
                "expires_at": datetime(2026, 3, 1, 9, 0),
                "updated_at": datetime(2026, 3, 1, 9, 0),
            },
        )
    with ctx.db.read() as conn:
        assert conn.execute(select(throttle)).all() == []


@pytest.fixture
def audited(ctx: ServiceContext) -> ServiceContext:
    with ctx.db.write() as conn:
        for index in range(3):
            audit_store.append(
                conn,
                at=datetime.now(UTC),
                actor="system",
                action="test.entry",
                target_type="test",
                target_id=str(index),
                details={"n": index},
            )
    return ctx


@pytest.mark.parametrize(
    "statement",
    [
        update(log).where(log.c.seq == 2).values(actor="mallory"),
        update(log).values(details={}),
        delete(log).where(log.c.seq == 3),
        delete(log),
    ],
    ids=["update-one", "update-all", "delete-last", "delete-all"],
)
def test_the_database_refuses_to_change_audit_entries(audited: ServiceContext, statement) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="append-only"), audited.db.write() as conn:
        conn.execute(statement)
    with audited.db.read() as conn:
        rows = conn.execute(select(log.c.seq, log.c.actor).order_by(log.c.seq)).all()
    assert rows == [(1, "system"), (2, "system"), (3, "system")]


@pytest.mark.parametrize("backend", ["postgresql"])  # TRUNCATE is a PostgreSQL statement
def test_postgresql_refuses_to_truncate_the_audit_log(audited: ServiceContext) -> None:
    with pytest.raises(Exception, match="append-only"), audited.db.write() as conn:
        conn.execute(text("TRUNCATE audit_log"))
    with audited.db.read() as conn:
        assert audit_store.head(conn)[0] == 3
        assert len(list(audit_store.entries(conn))) == 3


def test_a_one_statement_read_opens_no_transaction(ctx: ServiceContext) -> None:
    """Every request looks its session up with one statement: that read sends no BEGIN
    and no COMMIT (two round trips on PostgreSQL), and still sees what was committed;
    the connection goes back to snapshot reads afterwards."""
    with ctx.db.write() as conn:
        conn.execute(
            text("INSERT INTO roles (id, key, name_en, name_zh) VALUES ('r8', 'k8', 'K', 'K')")
        )
    with ctx.db.read(snapshot=False) as conn:
        assert conn.execute(text("SELECT key FROM roles WHERE id = 'r8'")).scalar() == "k8"
        assert not _driver_in_transaction(conn)
    with ctx.db.read() as conn:
        conn.execute(text("SELECT 1"))
        assert _driver_in_transaction(conn)


def _driver_in_transaction(conn: Connection) -> bool:
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return bool(driver.in_transaction)
    return bool(driver.info.transaction_status != TransactionStatus.IDLE)
