"""Zones with daylight saving, and the definition's and durations' precise errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flowdesk.engines.calendar import (
    BusinessCalendar,
    CalendarSpec,
    DayOverride,
    WorkingDays,
    WorkingInterval,
    WorkingTime,
    parse_calendar_spec,
    parse_duration,
    parse_interval,
)
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def london_calendar(*overrides: DayOverride) -> BusinessCalendar:
    return BusinessCalendar(
        CalendarSpec(
            timezone="Europe/London",
            hours=(parse_interval("09:00-17:00"),),
            holidays="none",
            overrides=overrides,
        )
    )


def test_working_hours_stay_on_the_wall_clock_across_the_spring_change() -> None:
    calendar = london_calendar()
    # Fri 29 Mar 2024 16:00 GMT: 1 h that day; clocks go forward Sun 31 Mar;
    # Mon 1 Apr opens 09:00 BST = 08:00 UTC, so the second hour ends 09:00 UTC.
    start = datetime(2024, 3, 29, 16, 0, tzinfo=LONDON)
    assert start.utcoffset() == timedelta(0)
    assert calendar.add(start, WorkingTime(timedelta(hours=2))) == datetime(
        2024, 4, 1, 9, 0, tzinfo=UTC
    )
    assert calendar.next_working_instant(start.replace(hour=18)) == datetime(
        2024, 4, 1, 8, 0, tzinfo=UTC
    )
    assert calendar.add(start, WorkingDays(1)) == datetime(2024, 4, 1, 16, 0, tzinfo=UTC)


def test_a_whole_working_day_on_a_change_day_is_23_or_25_hours_long() -> None:
    whole_day = (WorkingInterval(0, 24 * 60),)
    calendar = london_calendar(
        DayOverride(date(2024, 3, 31), working=True, hours=whole_day),
        DayOverride(date(2024, 10, 27), working=True, hours=whole_day),
    )
    spring = calendar.working_between(
        datetime(2024, 3, 30, 12, tzinfo=LONDON), datetime(2024, 4, 1, 0, tzinfo=LONDON)
    )
    autumn = calendar.working_between(
        datetime(2024, 10, 26, 12, tzinfo=LONDON), datetime(2024, 10, 28, 0, tzinfo=LONDON)
    )
    assert spring == timedelta(hours=23)
    assert autumn == timedelta(hours=25)


def test_hours_inside_the_spring_gap_are_what_the_clock_shows() -> None:
    calendar = BusinessCalendar(
        CalendarSpec(
            timezone="America/New_York",
            hours=(parse_interval("01:00-03:00"), parse_interval("09:00-17:00")),
            holidays="none",
            overrides=(DayOverride(date(2024, 3, 10), working=True),),
        )
    )
    # 02:00-03:00 does not exist on 10 Mar 2024: 01:00-03:00 is one real hour.
    periods = calendar.periods_of(date(2024, 3, 10))
    assert periods[0] == (
        datetime(2024, 3, 10, 6, 0, tzinfo=UTC),
        datetime(2024, 3, 10, 7, 0, tzinfo=UTC),
    )
    assert periods[1][0] == datetime(2024, 3, 10, 9, 0, tzinfo=NEW_YORK)
    assert calendar.working_between(
        datetime(2024, 3, 10, 0, tzinfo=NEW_YORK), datetime(2024, 3, 11, 0, tzinfo=NEW_YORK)
    ) == timedelta(hours=9)


def test_instants_must_carry_a_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        london_calendar().is_working_time(datetime(2024, 1, 2, 10))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("22:00-02:00", "interval_crosses_midnight"),
        ("09:00-09:00", "interval_empty"),
        ("9-12", "interval_invalid"),
        ("24:00-24:00", "interval_invalid"),
        ("09:60-12:00", "interval_invalid"),
    ],
)
def test_bad_intervals_are_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_interval(text)
    assert getattr(raised.value, "code", None) == code


def test_an_interval_crossing_midnight_says_how_to_split_it() -> None:
    with pytest.raises(ValueError, match="split it into 22:00-24:00 and 00:00-02:00"):
        parse_interval("22:00-02:00")


def test_every_problem_of_a_definition_is_reported_at_once_with_paths() -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        parse_calendar_spec(
            {
                "timezone": "Asia/Shangai",
                "hours": ["09:00-12:00", "22:00-01:00"],
                "holidays": "us",
                "covered_years": [2027, "2028"],
                "colour": "red",
                "days": [
                    {"date": "2027-02-30", "working": False},
                    {"date": "2027-02-06", "working": "yes"},
                    {"date": "2027-02-07", "working": False, "hours": ["09:00-12:00"]},
                    {"working": True, "hours": []},
                ],
            }
        )
    found = {(error.path, error.code) for error in raised.value.errors}
    assert found == {
        ("timezone", "unknown_timezone"),
        ("hours[1]", "interval_crosses_midnight"),
        ("holidays", "unknown_holiday_source"),
        ("covered_years[1]", "wrong_type"),
        ("colour", "unknown_key"),
        ("days[0].date", "date_invalid"),
        ("days[1].working", "wrong_type"),
        ("days[2].hours", "hours_on_day_off"),
        ("days[3].date", "required"),
        ("days[3].hours", "hours_empty"),
    }


def test_overlapping_hours_and_a_date_given_twice_are_refused() -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        parse_calendar_spec(
            {
                "hours": ["09:00-12:30", "12:00-17:00"],
                "days": [
                    {"date": "2027-02-05", "working": "no"},
                    {"date": "2027-02-06", "working": True},
                    {"date": date(2027, 2, 6), "working": False},
                    {
                        "date": "2027-02-07",
                        "working": True,
                        "hours": ["13:00-15:00", "09:00-10:00"],
                    },
                ],
            }
        )
    found = {(error.path, error.code) for error in raised.value.errors}
    assert found == {
        ("hours[1]", "hours_overlap"),
        ("days[0].working", "wrong_type"),
        ("days[2].date", "duplicate_date"),
        ("days[3].hours[1]", "hours_out_of_order"),
    }


def test_a_plain_definition_reads_back() -> None:
    spec = parse_calendar_spec(
        {
            "timezone": "Asia/Hong_Kong",
            "hours": ["08:30-12:00", "13:00-24:00"],
            "days": [{"date": date(2027, 2, 6), "working": True, "hours": ["09:00-11:00"]}],
        }
    )
    assert spec.timezone == "Asia/Hong_Kong"
    assert [str(interval) for interval in spec.hours] == ["08:30-12:00", "13:00-24:00"]
    assert spec.overrides == (
        DayOverride(date(2027, 2, 6), working=True, hours=(WorkingInterval(540, 660),)),
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("PT8H", WorkingTime(timedelta(hours=8))),
        ("PT1H30M", WorkingTime(timedelta(minutes=90))),
        ("pt90m", WorkingTime(timedelta(minutes=90))),
        ("PT0S", WorkingTime(timedelta(0))),
        ("P3D", WorkingDays(3)),
    ],
)
def test_durations_read_iso_8601(text: str, value: object) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("8h", "duration_invalid"),
        ("P", "duration_invalid"),
        ("PT", "duration_invalid"),
        ("P1DT", "duration_invalid"),
        ("P1M", "duration_unsupported_unit"),
        ("P2W", "duration_unsupported_unit"),
        ("P1DT4H", "duration_mixed"),
        ("P0D", "duration_zero_days"),
        ("P9999D", "duration_too_long"),
    ],
)
def test_bad_durations_say_what_is_wrong(text: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_duration(text, "process.nodes[2].timer.duration")
    [error] = raised.value.errors
    assert (error.path, error.code) == ("process.nodes[2].timer.duration", code)


def test_durations_write_back_as_iso() -> None:
    assert WorkingTime(timedelta(hours=1, minutes=30)).iso() == "PT1H30M"
    assert WorkingTime(timedelta(0)).iso() == "PT0S"
    assert WorkingDays(3).iso() == "P3D"
