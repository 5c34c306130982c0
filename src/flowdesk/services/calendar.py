"""The business calendar's administration: days marked working or not, covered years.

Administrators only (`calendar.manage`); `actor` None is the operator's command line.
Every change is audited in its transaction. `business_calendar` gives the calendar
the rest of flowdesk computes deadlines and WORKDAYS with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.calendar import (
    BusinessCalendar,
    Coverage,
    parse_calendar_spec,
    parse_interval,
)
from flowdesk.engines.calendar.parse import MAX_NOTE_LENGTH, MAX_YEAR, MIN_YEAR, parse_date
from flowdesk.kernel.errors import (
    DefinitionInvalid,
    ErrorDetail,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import calendar as calendar_store

SYSTEM = "system"


@dataclass(frozen=True)
class CalendarDayView:
    day: date
    working: bool
    hours: tuple[str, ...] | None  # None: the usual hours
    note: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class YearView:
    year: int
    # Who vouches for the year's public holidays: "library" (chinese-calendar),
    # "overrides" (an administrator marked it covered), None (nobody: deadlines and
    # WORKDAYS reaching into it fail with calendar_year_not_covered).
    coverage: Coverage | None
    days: int  # administrator-entered days in the year
    working_days: int | None  # None when not covered
    marked_covered: bool
    note: str


def business_calendar(ctx: ServiceContext) -> BusinessCalendar:
    """The calendar as it is now: one statement when this process already built it."""
    with ctx.db.read() as conn:
        return calendar_in(ctx, conn)


def calendar_in(ctx: ServiceContext, conn: Connection) -> BusinessCalendar:
    """The calendar inside a transaction the caller already holds."""
    generation = calendar_store.generation(conn)
    return ctx.calendar.at(
        generation, lambda: (calendar_store.list_days(conn), calendar_store.list_years(conn))
    )


def _check(actor: Actor | None) -> str:
    if actor is not None and not decide(actor, "calendar.manage"):
        raise Forbidden("Only administrators may manage the business calendar")
    return actor.username if actor is not None else SYSTEM


def _view(row: calendar_store.DayRow) -> CalendarDayView:
    return CalendarDayView(
        row.day, row.working, row.hours, row.note, row.updated_by, row.updated_at
    )


def _year(year: object, path: str = "year") -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            "The year is invalid",
            [ErrorDetail(path, "year_invalid", f"Must be a year {MIN_YEAR}-{MAX_YEAR}")],
        )
    return year


def _date(value: date | str) -> date:
    parsed = parse_date(value)
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationFailed(
            "The date is invalid",
            [
                ErrorDetail(
                    "date", "date_invalid", f"Must be a date YYYY-MM-DD in {MIN_YEAR}-{MAX_YEAR}"
                )
            ],
        )
    return parsed


def list_days(
    ctx: ServiceContext, actor: Actor | None, *, year: int | None = None
) -> list[CalendarDayView]:
    _check(actor)
    if year is not None:
        _year(year)
    with ctx.db.read() as conn:
        return [_view(row) for row in calendar_store.list_days(conn, year)]


def get_day(ctx: ServiceContext, actor: Actor | None, day: date | str) -> CalendarDayView:
    _check(actor)
    wanted = _date(day)
    with ctx.db.read() as conn:
        row = calendar_store.get_day(conn, wanted)
    if row is None:
        raise NotFound(f"No calendar day {wanted} was entered", "calendar_day_not_found")
    return _view(row)


def set_day(
    ctx: ServiceContext,
    actor: Actor | None,
    day: date | str,
    *,
    working: bool,
    hours: Sequence[str] | None = None,
    note: str = "",
) -> CalendarDayView:
    """Marks `day` working (with its own `hours`, or the usual ones) or not; replaces
    what was entered for it. Every problem is reported at once, 422."""
    username = _check(actor)
    wanted = _date(day)
    entry: dict[str, Any] = {"date": wanted, "working": working, "note": note}
    if hours is not None:
        entry["hours"] = list(hours)
    try:
        parse_calendar_spec({"days": [entry]})
    except DefinitionInvalid as invalid:
        raise ValidationFailed(
            "The calendar day is invalid",
            [
                ErrorDetail(error.path.removeprefix("days[0]."), error.code, error.message)
                for error in invalid.errors
            ],
        ) from None
    # Kept as written canonically ("9:00-12:00" is stored as "09:00-12:00").
    stored_hours = tuple(str(parse_interval(text)) for text in hours) if hours is not None else None
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        before = calendar_store.get_day(conn, wanted)
        calendar_store.put_day(
            conn,
            day=wanted,
            working=working,
            hours=stored_hours,
            note=note,
            updated_by=username,
            updated_at=now,
        )
        audit_store.append(
            conn,
            at=now,
            actor=username,
            action="calendar.day.set",
            target_type="calendar_day",
            target_id=wanted.isoformat(),
            details={
                "working": working,
                "hours": list(stored_hours) if stored_hours is not None else None,
                "note": note,
                "before": _details(before),
            },
        )
        row = calendar_store.get_day(conn, wanted)
    assert row is not None
    return _view(row)


def remove_day(ctx: ServiceContext, actor: Actor | None, day: date | str) -> None:
    """Forgets what was entered for `day`: the library (or the plain week) decides again."""
    username = _check(actor)
    wanted = _date(day)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        before = calendar_store.get_day(conn, wanted)
        if before is None:
            raise NotFound(f"No calendar day {wanted} was entered", "calendar_day_not_found")
        calendar_store.delete_day(conn, wanted)
        audit_store.append(
            conn,
            at=now,
            actor=username,
            action="calendar.day.remove",
            target_type="calendar_day",
            target_id=wanted.isoformat(),
            details={"before": _details(before)},
        )


def _details(row: calendar_store.DayRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    hours = list(row.hours) if row.hours is not None else None
    return {"working": row.working, "hours": hours, "note": row.note}


def year_status(ctx: ServiceContext, actor: Actor | None, year: int) -> YearView:
    """Whether `year` is covered, by whom, and its count of working days when it is."""
    _check(actor)
    wanted = _year(year)
    with ctx.db.read() as conn:
        calendar = calendar_in(ctx, conn)
        entered = calendar_store.list_days(conn, wanted)
        marked = {row.year: row for row in calendar_store.list_years(conn)}.get(wanted)
    coverage = calendar.coverage(wanted)
    return YearView(
        year=wanted,
        coverage=coverage,
        days=len(entered),
        working_days=(
            calendar.workdays(date(wanted, 1, 1), date(wanted, 12, 31)) if coverage else None
        ),
        marked_covered=marked is not None,
        note=marked.note if marked is not None else "",
    )


def cover_year(ctx: ServiceContext, actor: Actor | None, year: int, *, note: str = "") -> YearView:
    """Declares that the year's public holidays and make-up days are entered in full, so
    its other dates are plain weekdays. Needed only for a year the library does not know."""
    username = _check(actor)
    wanted = _year(year)
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            "The note is too long",
            [ErrorDetail("note", "too_long", f"At most {MAX_NOTE_LENGTH} characters")],
        )
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        calendar_store.put_year(conn, year=wanted, note=note, updated_by=username, updated_at=now)
        audit_store.append(
            conn,
            at=now,
            actor=username,
            action="calendar.year.cover",
            target_type="calendar_year",
            target_id=str(wanted),
            details={"note": note},
        )
    return year_status(ctx, actor, wanted)


def uncover_year(ctx: ServiceContext, actor: Actor | None, year: int) -> YearView:
    username = _check(actor)
    wanted = _year(year)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        if not calendar_store.delete_year(conn, wanted):
            raise NotFound(f"{wanted} was not marked covered", "calendar_year_not_marked")
        audit_store.append(
            conn,
            at=now,
            actor=username,
            action="calendar.year.uncover",
            target_type="calendar_year",
            target_id=str(wanted),
            details={},
        )
    return year_status(ctx, actor, wanted)
