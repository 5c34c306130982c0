"""A timer's due time (ADR 0023): its ISO 8601 duration from the step's instant, in
calendar time or in the business calendar's working time, or its fixed instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flowdesk.engines.calendar import BusinessCalendar, WorkingDays, WorkingTime
from flowdesk.engines.process import parse_delay, parse_instant

# conn.info key: how the step on this connection computes due times (new_step_context)
DUE = "flowdesk.timer_due"
Due = Callable[[datetime, str, str, bool], datetime]


def due_at(
    calendar: Callable[[], BusinessCalendar],
    now: datetime,
    delay: str,
    at: str,
    working: bool,
) -> datetime:
    """When a timer started at `now` is due, in UTC. A working-time timer reaching into a
    year the calendar does not cover raises CalendarYearNotCovered (422): the step fails,
    nothing is written, rather than a deadline guessed on a public holiday."""
    if at:
        moment = parse_instant(at)
        if moment is None:  # parse_process refused it; a stored spec is valid
            raise ValueError(f"not an instant: {at!r}")
        return moment.astimezone(UTC)
    parsed = parse_delay(delay)
    if parsed is None:
        raise ValueError(f"not a duration: {delay!r}")
    if not working:
        return now + parsed.as_timedelta()
    if parsed.days:
        return calendar().add(now, WorkingDays(parsed.days))
    return calendar().add(now, WorkingTime(timedelta(seconds=parsed.seconds)))
