"""Request and response shapes of /api/v1/admin/calendar/…."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from flowdesk.api.schemas import Strict


class CalendarDayIn(Strict):
    working: bool
    hours: list[str] | None = Field(
        default=None,
        max_length=12,
        description='Local working hours "HH:MM-HH:MM" in order; null: the usual hours',
    )
    note: str = Field(default="", max_length=200, description="Why, e.g. 春节 or 调休")


class CalendarDayOut(BaseModel):
    date: date
    working: bool
    hours: list[str] | None
    note: str
    updated_by: str
    updated_at: datetime


class CalendarYearIn(Strict):
    note: str = Field(default="", max_length=200)


class CalendarYearOut(BaseModel):
    year: int
    coverage: Literal["library", "overrides"] | None = Field(
        description="Who vouches for the year's public holidays: the holiday library, the "
        "administrators' days (the year is marked covered), or nobody (null): deadlines "
        "and WORKDAYS reaching into the year then fail with calendar_year_not_covered"
    )
    days: int = Field(description="Days administrators entered in the year")
    working_days: int | None = Field(description="Working days of the year; null if not covered")
    marked_covered: bool
    note: str
