"""Real Chinese holidays 2024-2026, worked out by hand from the State Council notices.

Hours are the default 09:00-12:00 and 13:30-17:30 in Asia/Shanghai (UTC+8), 7 h a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flowdesk.engines.calendar import (
    BusinessCalendar,
    CalendarSpec,
    CalendarYearNotCovered,
    DayOverride,
    WorkingDays,
    WorkingTime,
    parse_calendar_spec,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def calendar() -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec())


def hours(n: float) -> WorkingTime:
    return WorkingTime(timedelta(hours=n))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 2, 4), True),  # Sunday, make-up day before Spring Festival
        (date(2024, 2, 9), True),  # 除夕 2024 was a working Friday
        (date(2024, 2, 12), False),  # Monday in the Spring Festival holiday
        (date(2024, 2, 18), True),  # Sunday, make-up day after it
        (date(2024, 10, 7), False),  # Monday, last day of National Day
        (date(2024, 10, 12), True),  # Saturday, make-up day
        (date(2025, 1, 26), True),  # Sunday, make-up day
        (date(2025, 2, 4), False),
        (date(2025, 2, 8), True),  # Saturday, make-up day
        (date(2025, 10, 8), False),  # National Day and Mid-Autumn joined, 8 days
        (date(2026, 2, 14), True),  # Saturday, make-up day
        (date(2026, 2, 23), False),  # Monday, last day of the 9-day Spring Festival
        (date(2026, 9, 25), False),  # Friday, Mid-Autumn
        (date(2026, 10, 10), True),  # Saturday, make-up day
        (date(2026, 6, 13), False),  # a plain Saturday
    ],
)
def test_working_days_follow_the_state_council_arrangement(
    calendar: BusinessCalendar, day: date, working: bool
) -> None:
    assert calendar.is_working_day(day) is working


def test_eight_working_hours_from_the_eve_of_spring_festival_2024_end_on_the_make_up_sunday(
    calendar: BusinessCalendar,
) -> None:
    # Fri 9 Feb 16:00: 1.5 h that day; then the holiday 10-17 Feb; Sun 18 Feb (make-up):
    # 3 h in the morning (4.5 h), 3.5 h of the afternoon from 13:30 → 17:00.
    due = calendar.add(local(2024, 2, 9, 16, 0), hours(8))
    assert due == utc(2024, 2, 18, 9, 0)
    assert due.tzinfo is UTC


def test_three_working_days_before_national_day_2024_skip_the_week_and_count_the_sunday(
    calendar: BusinessCalendar,
) -> None:
    # Fri 27 Sep (not counted), Sat 28 off, Sun 29 make-up (1), Mon 30 (2), 1-7 Oct off,
    # Tue 8 Oct (3): due at its close of business, 17:30 Shanghai.
    assert calendar.add(local(2024, 9, 27, 10, 0), WorkingDays(3)) == utc(2024, 10, 8, 9, 30)


def test_one_working_day_before_the_eight_day_national_day_2025(
    calendar: BusinessCalendar,
) -> None:
    assert calendar.add(local(2025, 9, 30, 15, 0), WorkingDays(1)) == utc(2025, 10, 9, 9, 30)


def test_working_days_count_from_the_next_day_whatever_the_hour(
    calendar: BusinessCalendar,
) -> None:
    # Civil Code art. 201: the starting day is not counted, even before opening time.
    early = calendar.add(local(2025, 6, 9, 7, 0), WorkingDays(1))  # Monday 07:00
    late = calendar.add(local(2025, 6, 9, 23, 0), WorkingDays(1))  # Monday 23:00
    assert early == late == utc(2025, 6, 10, 9, 30)  # Tuesday 17:30


def test_working_time_across_spring_festival_2026(calendar: BusinessCalendar) -> None:
    # Fri 13 Feb 17:00-17:30 (0.5 h) + Sat 14 Feb make-up (7 h) + Tue 24 Feb 09:00-10:00 (1 h)
    spent = calendar.working_between(local(2026, 2, 13, 17, 0), local(2026, 2, 24, 10, 0))
    assert spent == timedelta(hours=8.5)
    assert calendar.working_between(local(2026, 2, 24, 10, 0), local(2026, 2, 13, 17, 0)) == -spent


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        # Oct 2024: 8-11 (4), Sat 12 (1), 14-18, 21-25 (10), 28-31 (4)
        (date(2024, 10, 1), date(2024, 10, 31), 19),
        # 20-24 Jan (5), Sun 26 (1), Mon 27 (1), 5-7 Feb (3), Sat 8 Feb (1)
        (date(2025, 1, 20), date(2025, 2, 9), 11),
        # Sun 20-Thu 24 Sep (5), 28-30 Sep (3), 8-10 Oct (3)
        (date(2026, 9, 19), date(2026, 10, 11), 11),
        (date(2024, 10, 12), date(2024, 10, 12), 1),  # inclusive at both ends
        (date(2024, 10, 31), date(2024, 10, 1), -19),  # reversed, as NETWORKDAYS
    ],
)
def test_workdays_counts_like_networkdays_with_holidays_and_make_up_days(
    calendar: BusinessCalendar, start: date, end: date, count: int
) -> None:
    assert calendar.workdays(start, end) == count


def test_working_time_and_next_working_instant(calendar: BusinessCalendar) -> None:
    assert calendar.is_working_time(local(2024, 2, 18, 9, 0))  # make-up Sunday morning
    assert not calendar.is_working_time(local(2024, 2, 18, 12, 0))  # lunch, half-open
    assert not calendar.is_working_time(local(2024, 2, 18, 17, 30))  # closed at 17:30
    assert calendar.next_working_instant(local(2024, 2, 18, 12, 15)) == utc(2024, 2, 18, 5, 30)
    # Friday evening before National Day 2025 → Thursday 9 Oct 09:00
    assert calendar.next_working_instant(local(2025, 9, 30, 18, 0)) == utc(2025, 10, 9, 1, 0)
    inside = local(2025, 10, 9, 10, 17, 3)
    assert calendar.next_working_instant(inside) == inside


def test_a_deadline_that_uses_up_the_day_is_the_close_of_business(
    calendar: BusinessCalendar,
) -> None:
    assert calendar.add(local(2025, 6, 10, 9, 0), hours(7)) == utc(2025, 6, 10, 9, 30)
    assert calendar.add(local(2025, 6, 10, 9, 0), hours(0)) == utc(2025, 6, 10, 1, 0)
    # outside working time, the clock starts at the next working instant
    assert calendar.add(local(2025, 6, 10, 12, 30), hours(1)) == utc(2025, 6, 10, 6, 30)


def test_a_year_nobody_covers_is_an_error_not_a_plain_week(calendar: BusinessCalendar) -> None:
    assert calendar.coverage(2026) == "library"
    assert calendar.coverage(2027) is None
    with pytest.raises(CalendarYearNotCovered) as raised:
        calendar.is_working_day(date(2027, 1, 4))
    assert raised.value.code == "calendar_year_not_covered"
    assert raised.value.year == 2027
    # a deadline running into the unknown year says so too
    with pytest.raises(CalendarYearNotCovered):
        calendar.add(local(2026, 12, 30, 10, 0), WorkingDays(5))
    with pytest.raises(CalendarYearNotCovered):
        calendar.workdays(date(2026, 12, 1), date(2027, 1, 31))


def test_administrators_cover_a_year_the_library_does_not_know() -> None:
    spec = parse_calendar_spec(
        {
            "covered_years": [2027],
            "days": [
                {"date": "2027-01-01", "working": False, "note": "元旦"},
                {"date": "2027-01-02", "working": True, "hours": ["09:00-12:00"], "note": "调休"},
            ],
        }
    )
    calendar = BusinessCalendar(spec)
    assert calendar.coverage(2027) == "overrides"
    assert not calendar.is_working_day(date(2027, 1, 1))  # Friday, holiday by override
    assert calendar.is_working_day(date(2027, 1, 2))  # Saturday, working by override
    assert calendar.is_working_day(date(2027, 1, 4))  # Monday, a plain weekday
    assert not calendar.is_working_day(date(2027, 1, 3))  # Sunday
    # Thu 31 Dec 2026 (not counted), Fri 1 Jan off, Sat 2 Jan half day → due 12:00
    assert calendar.add(local(2026, 12, 31, 10, 0), WorkingDays(1)) == utc(2027, 1, 2, 4, 0)


def test_an_override_wins_over_the_library_and_answers_even_in_an_uncovered_year() -> None:
    calendar = BusinessCalendar(
        CalendarSpec(
            overrides=(
                DayOverride(date(2025, 10, 8), working=True, note="bank open"),
                DayOverride(date(2025, 6, 10), working=False, note="system migration"),
                DayOverride(date(2027, 3, 1), working=False),
            )
        )
    )
    assert calendar.is_working_day(date(2025, 10, 8))
    assert not calendar.is_working_day(date(2025, 6, 10))
    assert not calendar.is_working_day(date(2027, 3, 1))
    with pytest.raises(CalendarYearNotCovered):
        calendar.is_working_day(date(2027, 3, 2))


def test_the_holiday_table_agrees_with_the_library_on_every_day_it_knows() -> None:
    import chinese_calendar

    from flowdesk.engines.calendar.holidays import ChineseHolidays

    source = ChineseHolidays()
    day, checked = date(2004, 1, 1), 0
    while source.covers(day.year):
        assert source.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
        checked += 1
    assert checked > 365 * 22
    assert not source.covers(2003)
