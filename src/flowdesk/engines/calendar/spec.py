"""The definition of a business calendar as plain values: zone, hours, holidays, overrides.

Working hours are local wall-clock times of a day, kept as minutes after local
midnight; `24:00` may end the last interval. An interval never crosses midnight: a
night shift is two intervals on two days, which keeps "the hours of a date" a
property of that date alone (and makes a date's holidays apply to all of its hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

MINUTES_PER_DAY = 24 * 60
DEFAULT_TIMEZONE = "Asia/Shanghai"

# Where the public holidays and make-up working days (调休) of covered years come from.
# "cn": the chinese-calendar library (State Council notices); "none": Monday to Friday
# with no public holidays, every year covered — an explicit choice, never a fallback.
HOLIDAY_SOURCES = ("cn", "none")

_CLOCK = r"(\d{1,2}):(\d{2})"
_INTERVAL = re.compile(rf"\s*{_CLOCK}\s*-\s*{_CLOCK}\s*")


@dataclass(frozen=True, slots=True, order=True)
class WorkingInterval:
    """[start, end) in minutes after local midnight, 0 <= start < end <= 1440."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class IntervalProblem(ValueError):
    """One interval's text is wrong; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_interval(text: str) -> WorkingInterval:
    """`"09:00-12:00"` → WorkingInterval; raises IntervalProblem with a precise code."""
    match = _INTERVAL.fullmatch(text)
    if match is None:
        raise IntervalProblem(
            "interval_invalid", "Write working hours as HH:MM-HH:MM, e.g. 09:00-12:00"
        )
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    for hour, minute, is_end in ((start_h, start_m, False), (end_h, end_m, True)):
        if minute > 59 or hour > 24 or (hour == 24 and (minute != 0 or not is_end)):
            raise IntervalProblem(
                "interval_invalid",
                "A time of day is 00:00 to 23:59; 24:00 may only end an interval",
            )
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end == start:
        raise IntervalProblem("interval_empty", f"{text.strip()} is empty: it ends when it starts")
    if end < start:
        raise IntervalProblem(
            "interval_crosses_midnight",
            f"{_clock(start)}-{_clock(end)} ends before it starts: an interval cannot "
            f"cross midnight; split it into {_clock(start)}-24:00 and "
            f"00:00-{_clock(end)} of the next day",
        )
    return WorkingInterval(start, end)


def hours_problems(hours: tuple[WorkingInterval, ...]) -> list[tuple[int, str, str]]:
    """(index, code, message) for each interval that overlaps or precedes the one before.

    Intervals must be given in order of the day and must not overlap (touching is fine).
    """
    problems: list[tuple[int, str, str]] = []
    for index in range(1, len(hours)):
        before, current = hours[index - 1], hours[index]
        if current.start < before.end:
            problems.append(
                (
                    index,
                    "hours_overlap" if current.end > before.start else "hours_out_of_order",
                    f"{current} overlaps or comes before {before}: give a day's intervals "
                    "in order, without overlap",
                )
            )
    return problems


DEFAULT_HOURS: tuple[WorkingInterval, ...] = (
    WorkingInterval(9 * 60, 12 * 60),
    WorkingInterval(13 * 60 + 30, 17 * 60 + 30),
)


@dataclass(frozen=True, slots=True)
class DayOverride:
    """An administrator's word on one date; wins over the holiday library.

    `hours` None means the calendar's usual hours (only meaningful on a working day).
    """

    day: date
    working: bool
    hours: tuple[WorkingInterval, ...] | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    timezone: str = DEFAULT_TIMEZONE
    hours: tuple[WorkingInterval, ...] = DEFAULT_HOURS
    holidays: str = "cn"
    # Years whose public holidays and make-up days an administrator has entered in
    # full as overrides, so that the other dates of the year are plain weekdays.
    covered_years: frozenset[int] = field(default_factory=frozenset)
    overrides: tuple[DayOverride, ...] = ()
