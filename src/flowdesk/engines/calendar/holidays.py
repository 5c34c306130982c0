"""Sources of public holidays and make-up working days, year by year.

A source says which years it knows; the calendar never asks it about another year.
The chinese-calendar library is a table of State Council notices in Python (no I/O),
published each year once the next year's arrangement is announced (usually in
November), so the year after the library's last one is the usual gap that
administrators fill with overrides.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Protocol

import chinese_calendar  # type: ignore[import-untyped]  # ships no type hints


class HolidaySource(Protocol):
    name: str

    def covers(self, year: int) -> bool: ...

    def is_working_day(self, day: date) -> bool:
        """Only asked about a year the source covers."""
        ...


class ChineseHolidays:
    """Mainland China: weekends, public holidays and 调休 make-up working days.

    Reads the library's tables once: its `is_workday` recomputes the range of years it
    knows on every call (~35 µs), which a WORKDAYS over a few years would pay per day.
    The rule is the library's own: a make-up day works, else a weekday that is not a
    holiday.
    """

    name = "cn"

    def __init__(self) -> None:
        self._holidays: frozenset[date] = frozenset(chinese_calendar.constants.holidays)
        self._make_up_days: frozenset[date] = frozenset(chinese_calendar.constants.workdays)
        # The years the library itself answers for: those of its holiday table.
        self._first_year = min(day.year for day in self._holidays)
        self._last_year = max(day.year for day in self._holidays)

    def covers(self, year: int) -> bool:
        return self._first_year <= year <= self._last_year

    def is_working_day(self, day: date) -> bool:
        if day in self._make_up_days:
            return True
        return day.weekday() < 5 and day not in self._holidays


class Weekdays:
    """Monday to Friday, no public holidays, every year: chosen explicitly, never a fallback."""

    name = "none"

    def covers(self, year: int) -> bool:
        return True

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


@cache
def holiday_source(name: str) -> HolidaySource:
    """One source per name per process: the tables never change while it runs."""
    if name == "cn":
        return ChineseHolidays()
    if name == "none":
        return Weekdays()
    raise ValueError(f"unknown holiday source {name!r}")
