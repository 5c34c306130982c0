"""The business calendar: working hours, Chinese public holidays and make-up working
days (调休), and administrators' overrides, for timers, SLAs and the WORKDAYS formula.

Pure: no I/O and no clock; callers pass instants (timezone-aware) and get UTC back.
A date in a year that neither the holiday library nor an administrator covers raises
`CalendarYearNotCovered` (code `calendar_year_not_covered`) rather than being guessed.
"""

from flowdesk.engines.calendar.calendar import BusinessCalendar, CalendarYearNotCovered, Coverage
from flowdesk.engines.calendar.durations import (
    WorkingDays,
    WorkingDuration,
    WorkingTime,
    parse_duration,
)
from flowdesk.engines.calendar.parse import parse_calendar_spec, parse_date, parse_hours
from flowdesk.engines.calendar.spec import (
    DEFAULT_HOURS,
    DEFAULT_TIMEZONE,
    CalendarSpec,
    DayOverride,
    WorkingInterval,
    parse_interval,
)

__all__ = [
    "DEFAULT_HOURS",
    "DEFAULT_TIMEZONE",
    "BusinessCalendar",
    "CalendarSpec",
    "CalendarYearNotCovered",
    "Coverage",
    "DayOverride",
    "WorkingDays",
    "WorkingDuration",
    "WorkingInterval",
    "WorkingTime",
    "parse_calendar_spec",
    "parse_date",
    "parse_duration",
    "parse_hours",
    "parse_interval",
]
