"""Serial numbers: LN-<year>-<sequence>, per app and year in China time, gap-free and
unique under real parallel submits on both databases; a failed submit takes no number;
migration 0007 numbers existing tickets in the order they were filed."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from loan_desk import Desk, loan_values
from psycopg.errors import DivisionByZero
from sqlalchemy import text

from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import tickets, views
from flowdesk.store import audit as audit_store
from flowdesk.store import migrate
from flowdesk.store import steps as steps_store
from flowdesk.store.sql import Sql

SERIAL = re.compile(r"LN-(\d{4})-(\d{6})")


def _serial(desk: Desk, ticket_id: str) -> str:
    return desk.view(ticket_id).serial


def _numbers(desk: Desk, year: int) -> list[int]:
    with desk.ctx.db.read() as conn:
        serials = conn.execute(
            text("SELECT serial FROM tickets WHERE serial LIKE :p"), {"p": f"LN-{year}-%"}
        ).scalars()
        return sorted(int(s.rsplit("-", 1)[1]) for s in serials)


def test_serials_count_up_per_app_and_year_in_china_time(desk: Desk) -> None:
    # 16:30 UTC on 31 December is already 1 January in Shanghai: a 2027 ticket.
    desk.ctx.clock = FrozenClock(datetime(2026, 12, 31, 15, 30, tzinfo=UTC))
    last_of_2026 = _serial(desk, desk.submit())
    desk.ctx.clock = FrozenClock(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    first, second = _serial(desk, desk.submit()), _serial(desk, desk.submit())
    assert SERIAL.fullmatch(last_of_2026) and last_of_2026.startswith("LN-2026-")
    assert (first, second) == ("LN-2027-000001", "LN-2027-000002")


def test_parallel_submits_get_exactly_one_to_n(desk: Desk) -> None:
    desk.ctx.clock = FrozenClock(datetime(2031, 3, 1, 2, 0, tzinfo=UTC))  # a fresh year
    n = 16
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = tickets.submit(
                desk.ctx, actor=desk.actors["zhang.wei"], app_key="loan", values=loan_values()
            ).ticket_id
        except Exception as exc:  # kept for the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, str) for r in results), results
    assert _numbers(desk, 2031) == list(range(1, n + 1))
    assert len({_serial(desk, t) for t in results}) == n


def test_a_failed_submit_takes_no_number(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.ctx.clock = FrozenClock(datetime(2032, 5, 1, 2, 0, tzinfo=UTC))
    assert _serial(desk, desk.submit()) == "LN-2032-000001"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The audit append is the step's last write: the counter was already incremented
    # when it fails (on PostgreSQL in the pipeline with COMMIT, after the step's CTE).
    if desk.ctx.db.dialect == "postgresql":
        monkeypatch.setattr(steps_store, "_PG_AUDIT", Sql("SELECT 1/0"))
        expected: type[Exception] = DivisionByZero
    else:
        monkeypatch.setattr(audit_store, "append", broken)
        expected = RuntimeError
    with pytest.raises(expected):
        desk.submit()
    monkeypatch.undo()
    assert _serial(desk, desk.submit()) == "LN-2032-000002"
    assert _numbers(desk, 2032) == [1, 2]


def test_the_serial_is_in_every_list_and_found_by_search(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    serial = _serial(desk, ticket_id)
    admin = desk.actors["admin"]
    (found,) = views.tickets(desk.ctx, admin, limit=1).items
    assert (found.id, found.serial) == (ticket_id, serial)
    (task,) = views.my_tasks(desk.ctx, desk.actors["wang.fang"], limit=1).items
    assert task.ticket_serial == serial
    from flowdesk.services.list_query import parse_list_query

    page = views.ticket_list(desk.ctx, admin, parse_list_query({"q": serial}), scope="all")
    assert [t.id for t in page.items] == [ticket_id]
    sequence = serial.rsplit("-", 1)[1]
    page = views.ticket_list(desk.ctx, admin, parse_list_query({"q": sequence}), scope="all")
    assert [t.id for t in page.items] == [ticket_id]


def _migrate(desk: Desk, direction: str, revision: str) -> None:
    desk.ctx.db.dispose()
    with desk.ctx.db.engine.begin() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)


def test_migration_numbers_existing_tickets_in_filing_order(desk: Desk) -> None:
    start = datetime(2033, 12, 31, 15, 0, tzinfo=UTC)
    filed = []
    for hours in (0, 1, 2):  # the last two are 2034 in China time
        desk.ctx.clock = FrozenClock(start + timedelta(hours=hours))
        filed.append(desk.submit(purpose="采购生产设备一批"))
    _migrate(desk, "downgrade", "0006")
    _migrate(desk, "upgrade", "head")
    assert [_serial(desk, t) for t in filed] == [
        "LN-2033-000001",
        "LN-2034-000001",
        "LN-2034-000002",
    ]
    # The counters continue the sequences, and the search index was rebuilt.
    desk.ctx.clock = FrozenClock(start + timedelta(hours=3))
    assert _serial(desk, desk.submit()) == "LN-2034-000003"
    from flowdesk.services.list_query import parse_list_query

    page = views.ticket_list(
        desk.ctx, desk.actors["admin"], parse_list_query({"q": "设备"}), scope="all"
    )
    assert set(filed) <= {t.id for t in page.items}
