"""Properties of working time that must hold for any instant and any duration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flowdesk.engines.calendar import (
    BusinessCalendar,
    CalendarSpec,
    DayOverride,
    WorkingDays,
    WorkingTime,
    parse_interval,
)

SHANGHAI = BusinessCalendar(CalendarSpec())
# A zone with daylight saving, evening hours ending at midnight, a weekday week.
LONDON = BusinessCalendar(
    CalendarSpec(
        timezone="Europe/London",
        hours=(
            parse_interval("00:30-02:30"),
            parse_interval("08:00-12:00"),
            parse_interval("18:00-24:00"),
        ),
        holidays="none",
    )
)
CALENDARS = st.sampled_from([SHANGHAI, LONDON])

# Kept inside 2024-2026 plus the longest duration below, so no uncovered year is hit.
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 6, 30), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300)).map(
    lambda amount: timedelta(seconds=int(amount.total_seconds()))
)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))
ONE_MICROSECOND = timedelta(microseconds=1)


def ends_in_working_time(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Working time itself, or the close of a working period (a deadline at 17:30)."""
    return calendar.is_working_time(instant) or calendar.is_working_time(instant - ONE_MICROSECOND)


@settings(max_examples=300)
@given(CALENDARS, instants, durations)
def test_the_working_time_until_a_deadline_is_the_duration_added(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    due = calendar.add(start, WorkingTime(amount))
    assert due >= start
    assert calendar.working_between(start, due) == amount
    if amount:
        assert ends_in_working_time(calendar, due)


@given(CALENDARS, instants, durations, durations)
def test_deadlines_grow_with_the_duration_and_the_start(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert calendar.add(start, WorkingTime(shorter)) <= calendar.add(start, WorkingTime(longer))
    later = start + (longer - shorter)
    assert calendar.add(start, WorkingTime(shorter)) <= calendar.add(later, WorkingTime(shorter))


@given(CALENDARS, instants)
def test_the_next_working_instant_is_the_first_one(
    calendar: BusinessCalendar, start: datetime
) -> None:
    following = calendar.next_working_instant(start)
    assert following >= start
    assert calendar.is_working_time(following)
    assert calendar.working_between(start, following) == timedelta(0)
    assert calendar.is_working_time(start) == (following == start)


@given(CALENDARS, instants, instants)
def test_working_time_between_adds_up_over_a_split(
    calendar: BusinessCalendar, first: datetime, second: datetime
) -> None:
    low, high = sorted((first, second))
    middle = low + (high - low) / 3
    total = calendar.working_between(low, high)
    assert total == calendar.working_between(low, middle) + calendar.working_between(middle, high)
    assert timedelta(0) <= total <= high - low
    assert calendar.working_between(high, low) == -total


@given(CALENDARS, instants, st.integers(min_value=1, max_value=40))
def test_n_working_days_end_at_the_close_of_the_nth_working_day_after(
    calendar: BusinessCalendar, start: datetime, count: int
) -> None:
    due = calendar.add(start, WorkingDays(count))
    due_day = due.astimezone(calendar.zone).date()
    if due.astimezone(calendar.zone).time() == datetime.min.time():  # a day closing at 24:00
        due_day -= timedelta(days=1)
    start_day = start.astimezone(calendar.zone).date()
    assert calendar.is_working_day(due_day)
    assert calendar.workdays(start_day + timedelta(days=1), due_day) == count
    assert due == calendar.periods_of(due_day)[-1][1]
    assert calendar.add(start, WorkingDays(count + 1)) > due


@given(CALENDARS, days, days, days)
def test_workdays_add_up_over_adjacent_ranges(
    calendar: BusinessCalendar, a: date, b: date, c: date
) -> None:
    low, middle, high = sorted((a, b, c))
    assume(middle < high)  # NETWORKDAYS(d + 1, d) counts backwards, as in Excel
    assert calendar.workdays(low, high) == calendar.workdays(low, middle) + calendar.workdays(
        middle + timedelta(days=1), high
    )
    assert calendar.workdays(low, low) == int(calendar.is_working_day(low))


# Daylight-saving changes on working days: the change Sundays of 2024 made working, with
# intervals that lie across the changes (01:00-02:00 does not exist in spring and
# happens twice in autumn in London).
CHANGE_DAYS = (date(2024, 3, 31), date(2024, 10, 27))
ACROSS_CHANGES = BusinessCalendar(
    CalendarSpec(
        timezone="Europe/London",
        hours=(parse_interval("00:30-02:30"), parse_interval("09:00-17:00")),
        holidays="none",
        overrides=tuple(
            DayOverride(day, working=True, hours=(parse_interval("00:00-24:00"),))
            if day.month == 10
            else DayOverride(day, working=True)
            for day in CHANGE_DAYS
        ),
    )
)
near_changes = st.sampled_from(CHANGE_DAYS).flatmap(
    lambda day: st.datetimes(
        min_value=datetime.combine(day - timedelta(days=2), datetime.min.time()),
        max_value=datetime.combine(day + timedelta(days=2), datetime.min.time()),
        timezones=st.just(UTC),
    )
)


@settings(max_examples=300)
@given(near_changes, st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)))
def test_adding_and_measuring_agree_across_daylight_saving_changes(
    start: datetime, amount: timedelta
) -> None:
    due = ACROSS_CHANGES.add(start, WorkingTime(amount))
    assert ACROSS_CHANGES.working_between(start, due) == amount
    if amount:
        assert ends_in_working_time(ACROSS_CHANGES, due)


def test_the_change_days_have_the_lengths_the_clocks_show() -> None:
    spring, autumn = (
        sum((end - start for start, end in ACROSS_CHANGES.periods_of(day)), timedelta(0))
        for day in CHANGE_DAYS
    )
    # spring: 00:30-02:30 loses the hour 01:00-02:00, so 1 h, plus 8 h; autumn: 25 h
    assert spring == timedelta(hours=9)
    assert autumn == timedelta(hours=25)
