"""Pooled PostgreSQL connections that died while idle (a server restart, a firewall
dropping idle sessions) are replaced before a request uses them."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import pg
from flowdesk.store.db import Database


@pytest.fixture
def pg_url(pg_template: str) -> str:
    return pg.fresh_database("connections", template=pg_template)


def _terminate_others(url: str) -> int:
    database = url.rsplit("/", 1)[1]
    with Database(pg.PG_URL).engine.connect() as admin:
        killed = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        ).scalar_one()
    return int(killed)


def test_a_connection_killed_while_idle_is_replaced_unseen(pg_url: str) -> None:
    db = Database(pg_url, pool_size=2, ping_after_idle_s=0.05)
    try:
        with db.write() as conn:
            conn.execute(text("UPDATE org_generation SET generation = generation + 1"))
        assert _terminate_others(pg_url) >= 1
        time.sleep(0.1)
        with db.write() as conn:
            conn.execute(text("UPDATE org_generation SET generation = generation + 1"))
        with db.read() as conn:
            assert conn.execute(text("SELECT generation FROM org_generation")).scalar_one() == 3
    finally:
        db.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_url: str) -> None:
    """Within the idle window the pooled connection is handed out as it is, so a dead
    one surfaces as an error on use; this is the price of skipping the round trip."""
    db = Database(pg_url, pool_size=1, ping_after_idle_s=60)
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
        _terminate_others(pg_url)
        with pytest.raises(OperationalError), db.read() as conn:
            conn.execute(text("SELECT 1"))
        with db.read() as conn:  # the pool dropped the dead connection
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()
