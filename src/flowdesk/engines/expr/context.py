"""Why this module exists: TODAY(), NOW() and WORKDAYS() need the time and the business
calendar, and a pure engine must not read the system clock or a database for them.

The caller (a service) builds one `EvalContext` per evaluation from its injected clock
and the bank's business calendar (engines/calendar, ADR 0016) and hands it to
`CompiledExpression.evaluate`. Without a context — or with one lacking `now` or
`calendar` — those functions give null, so an expression never sees the host's clock.
The calendar is any object with `workdays(start, end) -> int`; `BusinessCalendar` is one,
and the expression engine stays independent of the calendar engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

# Key under which the compiler's environment carries the context; '@' cannot start a
# field name, so no field can shadow it.
CONTEXT_KEY = "@context"
DEFAULT_TIMEZONE = "Asia/Shanghai"


class WorkdayCalendar(Protocol):
    def workdays(self, start: date, end: date) -> int: ...


@dataclass(frozen=True, slots=True)
class EvalContext:
    """now: a timezone-aware instant (the injected clock's), or None.
    timezone: where TODAY() is told (the bank's; Asia/Shanghai unless said otherwise).
    calendar: the business calendar WORKDAYS counts on, or None."""

    now: datetime | None = None
    timezone: str = DEFAULT_TIMEZONE
    calendar: WorkdayCalendar | None = None

    def __post_init__(self) -> None:
        if self.now is not None and self.now.utcoffset() is None:
            raise ValueError("EvalContext.now must be timezone-aware")

    def today(self) -> date | None:
        if self.now is None:
            return None
        return self.now.astimezone(ZoneInfo(self.timezone)).date()


NO_CONTEXT = EvalContext()
