"""BusinessCalendar: working days and working time over real instants.

Every instant in and out is a timezone-aware datetime; results are in UTC. The
calendar reads no clock: the caller passes "now". Working hours are wall-clock hours
in the bank's zone, so across a daylight-saving change a day's working time is what
the clocks on the wall show (PEP 495: a wall time that does not exist on a spring
change is read with the offset before the change; one that happens twice on an
autumn change is its first occurrence).

Working periods are half-open: 17:30 is not working time when the day ends at 17:30,
yet a deadline can fall exactly at 17:30 (the close of business), so results of
`add` are working instants or the end of a working period.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail, FlowdeskError

from .durations import WorkingDays, WorkingDuration, WorkingTime
from .holidays import HolidaySource, holiday_source
from .spec import HOLIDAY_SOURCES, CalendarSpec, DayOverride, WorkingInterval, hours_problems

Coverage = Literal["library", "overrides"]
Period = tuple[datetime, datetime]

# A search for working time gives up after this many days without any: it can only
# happen with a calendar of no working days at all, which would otherwise loop forever.
MAX_DAYS_WITHOUT_WORK = 3660
_MAX_CACHED_DAYS = 50_000


class CalendarYearNotCovered(FlowdeskError):
    """The answer depends on a year whose public holidays nobody has told flowdesk.

    Raised instead of guessing with a plain Monday-to-Friday week, which would put
    deadlines on Spring Festival; an administrator enters the year's holidays and
    make-up days as overrides and marks the year covered.
    """

    def __init__(self, year: int) -> None:
        super().__init__(
            f"The business calendar does not know the public holidays of {year}: an "
            f"administrator enters that year's holidays and make-up working days, then marks "
            f"{year} as covered",
            "calendar_year_not_covered",
            [],
            422,
        )
        self.year = year


class BusinessCalendar:
    def __init__(self, spec: CalendarSpec, holidays: HolidaySource | None = None) -> None:
        problems = spec_problems(spec)
        if problems:
            raise DefinitionInvalid(problems)
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self._holidays = holidays if holidays is not None else holiday_source(spec.holidays)
        self._overrides = {override.day: override for override in spec.overrides}
        self._periods: dict[date, tuple[Period, ...]] = {}

    # --- days ---------------------------------------------------------------------

    def coverage(self, year: int) -> Coverage | None:
        """Who vouches for the year's holidays: the library, the administrator, or nobody."""
        if self._holidays.covers(year):
            return "library"
        if year in self.spec.covered_years:
            return "overrides"
        return None

    def is_working_day(self, day: date) -> bool:
        """Raises CalendarYearNotCovered for a date of an uncovered year with no override."""
        override = self._overrides.get(day)
        if override is not None:
            return override.working
        coverage = self.coverage(day.year)
        if coverage == "library":
            return self._holidays.is_working_day(day)
        if coverage == "overrides":
            return day.weekday() < 5
        raise CalendarYearNotCovered(day.year)

    def hours_of(self, day: date) -> tuple[WorkingInterval, ...]:
        """The day's working hours in local wall-clock time; empty on a day off."""
        if not self.is_working_day(day):
            return ()
        override = self._overrides.get(day)
        if override is not None and override.hours is not None:
            return override.hours
        return self.spec.hours

    def workdays(self, start: date, end: date) -> int:
        """Working days from start to end, both included, like Excel's NETWORKDAYS.

        Unlike NETWORKDAYS, the weekend is not fixed: a make-up working Saturday (调休)
        counts and a public holiday on a weekday does not. Negative when end < start.
        """
        if end < start:
            return -self.workdays(end, start)
        count = 0
        day = start
        while day <= end:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    # --- instants -----------------------------------------------------------------

    def periods_of(self, day: date) -> tuple[Period, ...]:
        """The day's working periods as UTC [start, end) pairs, in order, never overlapping."""
        cached = self._periods.get(day)
        if cached is not None:
            return cached
        periods: list[Period] = []
        for interval in self.hours_of(day):
            start = self._instant(day, interval.start)
            end = self._instant(day, interval.end)
            if periods:  # a daylight-saving change may fold wall times onto each other
                start = max(start, periods[-1][1])
            if end > start:
                periods.append((start, end))
        result = tuple(periods)
        if len(self._periods) >= _MAX_CACHED_DAYS:
            self._periods.clear()
        self._periods[day] = result
        return result

    def is_working_time(self, instant: datetime) -> bool:
        moment = _utc(instant)
        return any(
            start <= moment < end for start, end in self.periods_of(self._local_date(moment))
        )

    def next_working_instant(self, instant: datetime) -> datetime:
        """The instant itself when it is working time, else the start of the next period."""
        moment = _utc(instant)
        for start, end in self._periods_from(moment):
            if end > moment:
                return max(start, moment)
        raise AssertionError("unreachable: _periods_from ends by raising")

    def add(self, instant: datetime, duration: WorkingDuration) -> datetime:
        """The deadline `duration` after `instant`.

        WorkingTime: the instant at which that much working time has passed, counting
        from `instant` (from the next working instant if it is outside working time);
        a deadline that uses up a period exactly is that period's end (e.g. 17:30).
        Zero working time is the instant itself.

        WorkingDays(n): the close of business of the n-th working day after the day of
        `instant`, the day itself not counted, as the Civil Code counts periods in days
        (民法典 第二百零一条: 开始的当日不计入; 第二百零三条: 有业务时间的, 停止业务活动的
        时间为截止时间). So a request received on Friday with "3 working days" is due
        at 17:30 on Wednesday, whatever the time on Friday.
        """
        moment = _utc(instant)
        if isinstance(duration, WorkingDays):
            return self._close_of_nth_working_day(self._local_date(moment), duration.count)
        if not isinstance(duration, WorkingTime):
            raise TypeError(f"not a working duration: {duration!r}")
        remaining = duration.amount
        if remaining == timedelta(0):
            return moment
        for start, end in self._periods_from(moment):
            if end <= moment:
                continue
            begin = max(start, moment)
            available = end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _periods_from ends by raising")

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); negative when end is before start."""
        first, last = _utc(start), _utc(end)
        if last < first:
            return -self.working_between(last, first)
        total = timedelta(0)
        day, last_day = self._local_date(first), self._local_date(last)
        while day <= last_day:
            for period_start, period_end in self.periods_of(day):
                overlap = min(period_end, last) - max(period_start, first)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    # --- helpers ------------------------------------------------------------------

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes == 24 * 60:
            day, minutes = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _periods_from(self, moment: datetime) -> Iterator[Period]:
        """Every working period from the local day of `moment` on, in order."""
        day = self._local_date(moment)
        days_without_work = 0
        while days_without_work <= MAX_DAYS_WITHOUT_WORK:
            periods = self.periods_of(day)
            days_without_work = 0 if periods else days_without_work + 1
            yield from periods
            day += timedelta(days=1)
        raise ValueError(f"no working time in the {MAX_DAYS_WITHOUT_WORK} days after {moment}")

    def _close_of_nth_working_day(self, start_day: date, count: int) -> datetime:
        day = start_day
        seen = 0
        for _ in range(count + MAX_DAYS_WITHOUT_WORK):
            day += timedelta(days=1)
            periods = self.periods_of(day)
            if periods:
                seen += 1
                if seen == count:
                    return periods[-1][1]
        raise ValueError(f"no {count} working days in the days after {start_day}")


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC)


def spec_problems(spec: CalendarSpec, day_paths: list[str] | None = None) -> list[ErrorDetail]:
    """The structural checks of a spec, also for one built in code.

    `day_paths` names each override where it came from (the parser drops bad days, so
    the n-th override is not always `days[n]`).
    """
    problems: list[ErrorDetail] = []
    try:
        ZoneInfo(spec.timezone)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        problems.append(ErrorDetail("timezone", "unknown_timezone", "Unknown IANA time zone"))
    if spec.holidays not in HOLIDAY_SOURCES:
        problems.append(
            ErrorDetail(
                "holidays",
                "unknown_holiday_source",
                f"Expected one of: {', '.join(HOLIDAY_SOURCES)}",
            )
        )
    if not spec.hours:
        problems.append(ErrorDetail("hours", "hours_empty", "Give at least one working interval"))
    problems.extend(_interval_problems(spec.hours, "hours"))
    seen: set[date] = set()
    for index, override in enumerate(spec.overrides):
        path = day_paths[index] if day_paths is not None else f"days[{index}]"
        if override.day in seen:
            problems.append(
                ErrorDetail(f"{path}.date", "duplicate_date", f"{override.day} is given twice")
            )
        seen.add(override.day)
        problems.extend(_override_problems(override, path))
    return problems


def _override_problems(override: DayOverride, path: str) -> list[ErrorDetail]:
    if override.hours is None:
        return []
    if not override.working:
        return [
            ErrorDetail(
                f"{path}.hours",
                "hours_on_day_off",
                "A non-working day has no working hours; leave hours out or mark it working",
            )
        ]
    if not override.hours:
        return [
            ErrorDetail(
                f"{path}.hours",
                "hours_empty",
                "Give at least one interval, or leave hours out for the usual hours",
            )
        ]
    return _interval_problems(override.hours, f"{path}.hours")


def _interval_problems(hours: tuple[WorkingInterval, ...], path: str) -> list[ErrorDetail]:
    problems = [
        ErrorDetail(
            f"{path}[{index}]", "interval_invalid", "Must satisfy 0 <= start < end <= 24:00"
        )
        for index, interval in enumerate(hours)
        if not 0 <= interval.start < interval.end <= 24 * 60
    ]
    if not problems:
        problems = [
            ErrorDetail(f"{path}[{index}]", code, message)
            for index, code, message in hours_problems(hours)
        ]
    return problems
