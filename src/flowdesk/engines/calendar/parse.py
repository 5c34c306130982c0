"""Turn a plain calendar definition (app YAML, settings, admin rows) into a CalendarSpec.

Every problem is reported at once, each with its path (`days[2].hours[0]`) and a
stable code, as the process parser does, so an administrator fixes a definition in
one pass. The shape:

    timezone: Asia/Shanghai            # IANA zone, default Asia/Shanghai
    hours: ["09:00-12:00", "13:30-17:30"]
    holidays: cn                       # cn (chinese-calendar) or none (Mon-Fri only)
    covered_years: [2027]              # years entered in full as days below
    days:
      - {date: 2027-02-06, working: true, hours: ["09:00-12:00"], note: 调休}
      - {date: 2027-02-08, working: false, note: 春节}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

from .calendar import spec_problems
from .spec import (
    DEFAULT_HOURS,
    DEFAULT_TIMEZONE,
    HOLIDAY_SOURCES,
    CalendarSpec,
    DayOverride,
    IntervalProblem,
    WorkingInterval,
    parse_interval,
)

_TOP_KEYS = frozenset({"timezone", "hours", "holidays", "covered_years", "days"})
_DAY_KEYS = frozenset({"date", "working", "hours", "note"})
MIN_YEAR, MAX_YEAR = 1970, 2200
MAX_NOTE_LENGTH = 200


def parse_calendar_spec(data: object) -> CalendarSpec:
    problems: list[ErrorDetail] = []

    def add(path: str, code: str, message: str) -> None:
        problems.append(ErrorDetail(path=path, code=code, message=message))

    if not isinstance(data, Mapping):
        raise DefinitionInvalid([ErrorDetail("", "wrong_type", "A calendar is a mapping of keys")])
    for key in data:
        if key not in _TOP_KEYS:
            add(
                str(key),
                "unknown_key",
                f"Unknown key; expected one of: {', '.join(sorted(_TOP_KEYS))}",
            )

    timezone = data.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(timezone, str) or not timezone.strip():
        add("timezone", "wrong_type", "Must be an IANA time zone name such as Asia/Shanghai")
        timezone = DEFAULT_TIMEZONE
    elif not _zone_exists(timezone):
        add("timezone", "unknown_timezone", "Unknown IANA time zone, e.g. Asia/Shanghai")
        timezone = DEFAULT_TIMEZONE

    holidays = data.get("holidays", "cn")
    if holidays not in HOLIDAY_SOURCES:
        add("holidays", "unknown_holiday_source", f"Expected one of: {', '.join(HOLIDAY_SOURCES)}")
        holidays = "cn"

    hours = DEFAULT_HOURS
    if "hours" in data:
        parsed = parse_hours(data["hours"], "hours", problems)
        hours = parsed if parsed else DEFAULT_HOURS

    covered: set[int] = set()
    years = data.get("covered_years", [])
    if not _is_list(years):
        add("covered_years", "wrong_type", "Must be a list of years")
    else:
        for index, year in enumerate(years):
            if (
                isinstance(year, bool)
                or not isinstance(year, int)
                or not MIN_YEAR <= year <= MAX_YEAR
            ):
                add(
                    f"covered_years[{index}]", "wrong_type", f"Must be a year {MIN_YEAR}-{MAX_YEAR}"
                )
            else:
                covered.add(year)

    overrides: list[DayOverride] = []
    day_paths: list[str] = []
    days = data.get("days", [])
    if not _is_list(days):
        add("days", "wrong_type", "Must be a list of days")
    else:
        for index, item in enumerate(days):
            override = _parse_day(item, f"days[{index}]", problems)
            if override is not None:
                overrides.append(override)
                day_paths.append(f"days[{index}]")

    spec = CalendarSpec(
        timezone=timezone,
        hours=hours,
        holidays=str(holidays),
        covered_years=frozenset(covered),
        overrides=tuple(overrides),
    )
    # Overlaps and duplicates are checked on the parts that parsed; a path that already
    # has a problem is not reported twice.
    reported = {problem.path for problem in problems}
    problems.extend(p for p in spec_problems(spec, day_paths) if p.path not in reported)
    if problems:
        raise DefinitionInvalid(problems)
    return spec


def parse_hours(
    value: object, path: str, problems: list[ErrorDetail]
) -> tuple[WorkingInterval, ...] | None:
    """A list of "HH:MM-HH:MM" texts; None (with problems noted) when any is wrong."""
    if not _is_list(value):
        problems.append(ErrorDetail(path, "wrong_type", 'Must be a list such as ["09:00-12:00"]'))
        return None
    items: Sequence[object] = value  # type: ignore[assignment]
    if not items:
        problems.append(ErrorDetail(path, "hours_empty", "Give at least one working interval"))
        return None
    intervals: list[WorkingInterval] = []
    ok = True
    for index, item in enumerate(items):
        if not isinstance(item, str):
            problems.append(
                ErrorDetail(f"{path}[{index}]", "wrong_type", "Must be text HH:MM-HH:MM")
            )
            ok = False
            continue
        try:
            intervals.append(parse_interval(item))
        except IntervalProblem as problem:
            problems.append(ErrorDetail(f"{path}[{index}]", problem.code, problem.message))
            ok = False
    return tuple(intervals) if ok else None


def parse_date(value: object) -> date | None:
    """A date object (YAML gives one) or ISO text YYYY-MM-DD; None when neither."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if len(value.strip()) == 10 else None
    return None


def _parse_day(item: object, path: str, problems: list[ErrorDetail]) -> DayOverride | None:
    if not isinstance(item, Mapping):
        problems.append(ErrorDetail(path, "wrong_type", "A day is a mapping with date and working"))
        return None
    start = len(problems)
    for key in item:
        if key not in _DAY_KEYS:
            problems.append(
                ErrorDetail(
                    f"{path}.{key}",
                    "unknown_key",
                    f"Unknown key; expected one of: {', '.join(sorted(_DAY_KEYS))}",
                )
            )
    day = None
    if "date" not in item:
        problems.append(ErrorDetail(f"{path}.date", "required", "This key is required"))
    else:
        day = parse_date(item["date"])
        if day is None:
            problems.append(
                ErrorDetail(f"{path}.date", "date_invalid", "Must be a date YYYY-MM-DD")
            )
        elif not MIN_YEAR <= day.year <= MAX_YEAR:
            problems.append(
                ErrorDetail(f"{path}.date", "date_invalid", f"Must be in {MIN_YEAR}-{MAX_YEAR}")
            )
    working = item.get("working")
    if "working" not in item:
        problems.append(ErrorDetail(f"{path}.working", "required", "This key is required"))
    elif not isinstance(working, bool):
        problems.append(ErrorDetail(f"{path}.working", "wrong_type", "Must be true or false"))
    hours = None
    if item.get("hours") is not None:
        if working is False:
            problems.append(
                ErrorDetail(
                    f"{path}.hours",
                    "hours_on_day_off",
                    "A non-working day has no working hours; leave hours out or mark it working",
                )
            )
        else:
            hours = parse_hours(item["hours"], f"{path}.hours", problems)
    note = item.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        problems.append(ErrorDetail(f"{path}.note", "wrong_type", "Must be text"))
    elif len(note) > MAX_NOTE_LENGTH:
        problems.append(
            ErrorDetail(f"{path}.note", "too_long", f"At most {MAX_NOTE_LENGTH} characters")
        )
    if len(problems) > start or day is None or not isinstance(working, bool):
        return None
    return DayOverride(day=day, working=working, hours=hours, note=str(note))


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):
        return False
    return True


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))
