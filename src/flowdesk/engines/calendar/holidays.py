"""Sources of public holidays and make-up working days, year by year.

A source says which years it knows; the calendar never asks it about another year.
The chinese-calendar library is a table of State Council notices in Python (no I/O),
published each year once the next year's arrangement is announced (usually in
November), so the year after the library's last one is the usual gap that
administrators fill with overrides.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import chinese_calendar  # type: ignore[import-untyped]  # ships no type hints


class HolidaySource(Protocol):
    name: str

    def covers(self, year: int) -> bool: ...

    def is_working_day(self, day: date) -> bool:
        """Only asked about a year the source covers."""
        ...


class ChineseHolidays:
    """Mainland China: weekends, public holidays and 调休 make-up working days."""

    name = "cn"

    def covers(self, year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:  # the library's way of saying "no data for that year"
            return False
        return True

    def is_working_day(self, day: date) -> bool:
        return bool(chinese_calendar.is_workday(day))


class Weekdays:
    """Monday to Friday, no public holidays, every year: chosen explicitly, never a fallback."""

    name = "none"

    def covers(self, year: int) -> bool:
        return True

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


def holiday_source(name: str) -> HolidaySource:
    if name == "cn":
        return ChineseHolidays()
    if name == "none":
        return Weekdays()
    raise ValueError(f"unknown holiday source {name!r}")
