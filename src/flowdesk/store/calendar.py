"""The business calendar's administrator-entered days and covered years."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from flowdesk.store.sql import Sql
from flowdesk.store.tables import CalendarDay, CalendarYear, table_of

days = table_of(CalendarDay)
years = table_of(CalendarYear)

# Read before every use of a cached calendar: a driver-level statement (store/sql.py).
_GENERATION = Sql("SELECT generation FROM calendar_generation WHERE id = 1")


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    working: bool
    hours: tuple[str, ...] | None
    note: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class YearRow:
    year: int
    note: str
    updated_by: str
    updated_at: datetime


def generation(conn: Connection) -> int:
    row = _GENERATION.run(conn, {}).fetchone()
    return int(row[0])


def _day(row: Row[Any]) -> DayRow:
    mapping = row._mapping
    hours = mapping["hours"]
    return DayRow(
        day=mapping["day"],
        working=bool(mapping["working"]),
        hours=tuple(hours) if hours is not None else None,
        note=mapping["note"],
        updated_by=mapping["updated_by"],
        updated_at=mapping["updated_at"],
    )


def list_days(conn: Connection, year: int | None = None) -> list[DayRow]:
    query = select(days).order_by(days.c.day)
    if year is not None:
        query = query.where(days.c.day >= date(year, 1, 1), days.c.day <= date(year, 12, 31))
    return [_day(row) for row in conn.execute(query)]


def get_day(conn: Connection, day: date) -> DayRow | None:
    row = conn.execute(select(days).where(days.c.day == day)).first()
    return _day(row) if row is not None else None


def put_day(
    conn: Connection,
    *,
    day: date,
    working: bool,
    hours: Sequence[str] | None,
    note: str,
    updated_by: str,
    updated_at: datetime,
) -> bool:
    """Inserts or replaces the date's row; True when it was new."""
    values = {
        "working": working,
        "hours": list(hours) if hours is not None else None,
        "note": note,
        "updated_by": updated_by,
        "updated_at": updated_at,
    }
    changed = conn.execute(days.update().where(days.c.day == day).values(**values)).rowcount
    if changed:
        return False
    conn.execute(days.insert().values(day=day, **values))
    return True


def delete_day(conn: Connection, day: date) -> bool:
    return bool(conn.execute(delete(days).where(days.c.day == day)).rowcount)


def list_years(conn: Connection) -> list[YearRow]:
    return [
        YearRow(row.year, row.note, row.updated_by, row.updated_at)
        for row in conn.execute(select(years).order_by(years.c.year))
    ]


def put_year(
    conn: Connection, *, year: int, note: str, updated_by: str, updated_at: datetime
) -> bool:
    """Marks the year covered; True when it was not yet."""
    values = {"note": note, "updated_by": updated_by, "updated_at": updated_at}
    if conn.execute(years.update().where(years.c.year == year).values(**values)).rowcount:
        return False
    conn.execute(years.insert().values(year=year, **values))
    return True


def delete_year(conn: Connection, year: int) -> bool:
    return bool(conn.execute(delete(years).where(years.c.year == year)).rowcount)
