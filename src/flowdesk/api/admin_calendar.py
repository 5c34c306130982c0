"""REST API /admin/calendar/…: the business calendar's days and covered years.

Administrators only (403 otherwise). A day is named by its date in the path
(YYYY-MM-DD); PUT replaces what was entered for it. Every change is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from flowdesk.api import body
from flowdesk.api.admin_calendar_schemas import (
    CalendarDayIn,
    CalendarDayOut,
    CalendarYearIn,
    CalendarYearOut,
)
from flowdesk.api.deps import Ctx, CurrentActor, operation_id
from flowdesk.services import calendar as calendar_service

router = APIRouter(
    prefix="/admin/calendar", tags=["admin"], generate_unique_id_function=operation_id
)
DatePath = Annotated[str, Path(max_length=10, description="YYYY-MM-DD")]
YearPath = Annotated[int, Path(ge=1970, le=2200)]


def _day(view: calendar_service.CalendarDayView) -> CalendarDayOut:
    return CalendarDayOut(
        date=view.day,
        working=view.working,
        hours=list(view.hours) if view.hours is not None else None,
        note=view.note,
        updated_by=view.updated_by,
        updated_at=view.updated_at,
    )


def _year(view: calendar_service.YearView) -> CalendarYearOut:
    return CalendarYearOut(
        year=view.year,
        coverage=view.coverage,
        days=view.days,
        working_days=view.working_days,
        marked_covered=view.marked_covered,
        note=view.note,
    )


@router.get("/days", response_model=list[CalendarDayOut])
def list_calendar_days(
    actor: CurrentActor,
    ctx: Ctx,
    year: Annotated[int | None, Query(ge=1970, le=2200)] = None,
) -> list[CalendarDayOut]:
    """The days administrators entered, in date order (of one year when given)."""
    return [_day(d) for d in calendar_service.list_days(ctx, actor, year=year)]


@router.get("/days/{day}", response_model=CalendarDayOut)
def get_calendar_day(day: DatePath, actor: CurrentActor, ctx: Ctx) -> CalendarDayOut:
    return _day(calendar_service.get_day(ctx, actor, day))


@router.put(
    "/days/{day}",
    response_model=CalendarDayOut,
    openapi_extra=body.openapi_body(CalendarDayIn),
)
async def set_calendar_day(
    day: DatePath, request: Request, actor: CurrentActor, ctx: Ctx
) -> CalendarDayOut:
    """Marks the date working (with its own hours, or the usual ones) or a day off; it
    wins over the holiday library. Every problem is named at once (422)."""
    fields = await body.parse(request, CalendarDayIn)
    view = await run_in_threadpool(
        calendar_service.set_day,
        ctx,
        actor,
        day,
        working=fields.working,
        hours=fields.hours,
        note=fields.note,
    )
    return _day(view)


@router.delete("/days/{day}", status_code=204)
def remove_calendar_day(day: DatePath, actor: CurrentActor, ctx: Ctx) -> Response:
    """Forgets what was entered for the date: the holiday library decides again."""
    calendar_service.remove_day(ctx, actor, day)
    return Response(status_code=204)


@router.get("/years/{year}", response_model=CalendarYearOut)
def get_calendar_year(year: YearPath, actor: CurrentActor, ctx: Ctx) -> CalendarYearOut:
    """Whether the year is covered, and by whom (`flowdesk calendar check YEAR`)."""
    return _year(calendar_service.year_status(ctx, actor, year))


@router.put(
    "/years/{year}",
    response_model=CalendarYearOut,
    openapi_extra=body.openapi_body(CalendarYearIn),
)
async def cover_calendar_year(
    year: YearPath, request: Request, actor: CurrentActor, ctx: Ctx
) -> CalendarYearOut:
    """Declares the year's public holidays and make-up days entered in full as days:
    its other dates are then plain weekdays (for a year the library does not know)."""
    fields = await body.parse(request, CalendarYearIn)
    view = await run_in_threadpool(calendar_service.cover_year, ctx, actor, year, note=fields.note)
    return _year(view)


@router.delete("/years/{year}", response_model=CalendarYearOut)
def uncover_calendar_year(year: YearPath, actor: CurrentActor, ctx: Ctx) -> CalendarYearOut:
    return _year(calendar_service.uncover_year(ctx, actor, year))
