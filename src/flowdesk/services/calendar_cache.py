"""The business calendar each process keeps, valid for one calendar generation.

Timers, SLAs and formulas ask for the calendar on hot paths; building it costs a read
of every administrator-entered day. Triggers bump `calendar_generation` on any change
to those rows (migration 0010, as ADR 0007 does for the org chart), so a process reads
that one number and rebuilds only when it moved, whichever process or hand in SQL
made the change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from flowdesk.engines.calendar import (
    BusinessCalendar,
    CalendarSpec,
    DayOverride,
    parse_interval,
)
from flowdesk.store.calendar import DayRow, YearRow


@dataclass(frozen=True, slots=True)
class _Built:
    generation: int
    calendar: BusinessCalendar


class CalendarCache:
    def __init__(self, base: CalendarSpec | None = None) -> None:
        # The zone, usual hours and holiday source from settings; the rows add the rest.
        self.base = base or CalendarSpec()
        BusinessCalendar(self.base)  # refuses a bad base at start-up, not at first use
        self._built: _Built | None = None
        self._lock = threading.Lock()
        self.builds = 0  # how many times a calendar was built (tests watch the cache)

    def at(
        self, generation: int, load: Callable[[], tuple[list[DayRow], list[YearRow]]]
    ) -> BusinessCalendar:
        """The calendar of `generation`, building it from `load()` when not kept.

        `load` must read after the generation was read: rows newer than the generation
        are then at worst kept under an older number, and rebuilt at the next bump;
        rows older than the number kept cannot happen.
        """
        built = self._built
        if built is not None and built.generation == generation:
            return built.calendar
        with self._lock:
            built = self._built
            if built is not None and built.generation == generation:
                return built.calendar
            calendar = build(self.base, *load())
            self.builds += 1
            if built is None or generation > built.generation:
                self._built = _Built(generation, calendar)
            return calendar


def build(base: CalendarSpec, days: list[DayRow], years: list[YearRow]) -> BusinessCalendar:
    overrides = tuple(
        DayOverride(
            day=row.day,
            working=row.working,
            hours=tuple(parse_interval(text) for text in row.hours) if row.hours else None,
            note=row.note,
        )
        for row in days
    )
    spec = CalendarSpec(
        timezone=base.timezone,
        hours=base.hours,
        holidays=base.holidays,
        covered_years=frozenset(row.year for row in years),
        overrides=overrides,
    )
    return BusinessCalendar(spec)
