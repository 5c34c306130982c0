"""Working durations: an amount of working time, or a count of working days.

The two are different kinds, not one number in two units: "8 working hours" consumes
working time period by period, while "3 working days" is a deadline at the close of
business of the third working day (see `BusinessCalendar.add`). So a duration is one
or the other, never both, and text mixing them (`P1DT4H`) is refused rather than
guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed


@dataclass(frozen=True, slots=True)
class WorkingTime:
    """An amount of working time (e.g. 8 working hours); never negative."""

    amount: timedelta

    def __post_init__(self) -> None:
        if self.amount < timedelta(0):
            raise ValueError("a working duration cannot be negative")

    def iso(self) -> str:
        seconds = int(self.amount.total_seconds())
        if self.amount != timedelta(seconds=seconds):
            raise ValueError("working time is kept to whole seconds")
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else ""]
        parts.append(f"{secs}S" if secs or not (hours or minutes) else "")
        return "PT" + "".join(parts)


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """A count of working days (at least one)."""

    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a number of working days must be at least 1")

    def iso(self) -> str:
        return f"P{self.count}D"


WorkingDuration = WorkingTime | WorkingDays

# ISO 8601 durations restricted to what a working calendar can mean: days, or
# hours/minutes/seconds. Years, months and weeks are recognised only to be refused
# with a precise message.
_ISO = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
MAX_WORKING_DAYS = 3660
MAX_WORKING_HOURS = 24 * MAX_WORKING_DAYS


def parse_duration(text: str, path: str = "duration") -> WorkingDuration:
    """`PT8H`, `PT1H30M`, `PT90M`, `P3D` → a typed duration; anything else is refused.

    Errors carry `path` and a stable code: duration_invalid (not ISO 8601 form),
    duration_unsupported_unit (years, months, weeks), duration_mixed (days and time),
    duration_zero_days, duration_too_long.
    """

    def refuse(code: str, message: str) -> ValidationFailed:
        return ValidationFailed(
            "The duration is invalid", [ErrorDetail(path=path, code=code, message=message)]
        )

    stripped = text.strip().upper() if isinstance(text, str) else ""
    match = _ISO.fullmatch(stripped)
    has_time_part = "T" in stripped
    if (
        match is None
        or stripped in ("P", "PT")
        or (has_time_part and stripped.endswith("T"))
        or not any(match.groupdict().values())
    ):
        raise refuse(
            "duration_invalid",
            "Write an ISO 8601 duration of working time or working days, e.g. PT8H, PT1H30M or P3D",
        )
    parts = {key: int(value) for key, value in match.groupdict().items() if value is not None}
    if "years" in parts or "months" in parts or "weeks" in parts:
        raise refuse(
            "duration_unsupported_unit",
            "Years, months and weeks have no fixed number of working days; "
            "give working days (P20D) or working hours (PT8H)",
        )
    days = parts.get("days")
    time_given = any(key in parts for key in ("hours", "minutes", "seconds"))
    if days is not None and time_given:
        raise refuse(
            "duration_mixed",
            "Give either working days (P3D) or working time (PT8H), not both: "
            "a day of working time differs from day to day",
        )
    if days is not None:
        if days == 0:
            raise refuse("duration_zero_days", "A number of working days must be at least 1")
        if days > MAX_WORKING_DAYS:
            raise refuse("duration_too_long", f"At most {MAX_WORKING_DAYS} working days")
        return WorkingDays(days)
    amount = timedelta(
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    if amount > timedelta(hours=MAX_WORKING_HOURS):
        raise refuse("duration_too_long", f"At most {MAX_WORKING_HOURS} working hours")
    return WorkingTime(amount)
