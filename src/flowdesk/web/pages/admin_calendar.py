"""The admin page of the business calendar: a year's entered days, its coverage, and
the form to mark a date working or a day off.

Administrators only (the services check; anyone else gets the 403 page). A refused
change re-renders the page with every problem listed and nothing written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flowdesk.engines.calendar.parse import MAX_YEAR, MIN_YEAR
from flowdesk.kernel.errors import ErrorDetail, FlowdeskError
from flowdesk.services import calendar as calendar_service
from flowdesk.services.auth import WebSession
from flowdesk.web.i18n import local_time
from flowdesk.web.pages.common import form_text
from flowdesk.web.render import redirect, render
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter(prefix="/admin/calendar")
_HOURS_SEPARATOR = re.compile(r"[,，;；\s]+")
_INDEXED = re.compile(r"\[\d+\]$")


def _year_of(value: str | None, ctx: Ctx) -> int:
    """The year asked for, else this year in China time."""
    if value is not None and value.isdigit() and MIN_YEAR <= int(value) <= MAX_YEAR:
        return int(value)
    now = local_time(ctx.clock.now())
    assert now is not None
    return now.year


def _page(
    request: Request,
    ctx: Ctx,
    session: WebSession,
    year: int,
    *,
    values: dict[str, str] | None = None,
    errors: Sequence[ErrorDetail] = (),
    status: int = 200,
    saved: str = "",
) -> Response:
    days = calendar_service.list_days(ctx, session.actor, year=year)  # the permission check
    base = ctx.calendar.base
    field_errors: dict[str, str] = {}
    for error in errors:
        field_errors.setdefault(_INDEXED.sub("", error.path), error.code)
    context: dict[str, Any] = {
        "year": year,
        "status_of_year": calendar_service.year_status(ctx, session.actor, year),
        "days": days,
        "usual_hours": [str(interval) for interval in base.hours],
        "timezone": base.timezone,
        "holidays": base.holidays,
        "values": values or {"date": "", "kind": "off", "hours": "", "note": ""},
        "errors": list(errors),
        "field_errors": field_errors,
        "saved": saved if saved in ("day", "removed", "covered", "uncovered") else "",
        "min_year": MIN_YEAR,
        "max_year": MAX_YEAR,
    }
    return render(request, "admin_calendar.html", context, status=status, session=session)


@router.get("")
def calendar_page(
    request: Request, ctx: Ctx, session: CurrentSession, year: str | None = None, saved: str = ""
) -> Response:
    return _page(request, ctx, session, _year_of(year, ctx), saved=saved)


@router.post("/days")
def set_day(request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm) -> Response:
    values = {key: form_text(form, key) for key in ("date", "kind", "hours", "note")}
    hours = [part for part in _HOURS_SEPARATOR.split(values["hours"]) if part]
    year = _year_of(values["date"][:4], ctx)
    if values["kind"] not in ("working", "off"):
        errors = [ErrorDetail("kind", "required", "Choose working day or day off")]
        return _page(request, ctx, session, year, values=values, errors=errors, status=422)
    try:
        saved = calendar_service.set_day(
            ctx,
            session.actor,
            values["date"],
            working=values["kind"] == "working",
            hours=hours or None,
            note=values["note"],
        )
    except FlowdeskError as exc:
        if exc.status != 422:
            raise
        errors = exc.errors or [ErrorDetail("", exc.code, exc.message)]
        return _page(request, ctx, session, year, values=values, errors=errors, status=422)
    return redirect(f"/admin/calendar?year={saved.day.year}&saved=day")


@router.post("/days/{day}/remove")
def remove_day(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, day: str
) -> Response:
    calendar_service.remove_day(ctx, session.actor, day)
    return redirect(f"/admin/calendar?year={day[:4]}&saved=removed")


@router.post("/years/{year}/cover")
def cover_year(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, year: int
) -> Response:
    calendar_service.cover_year(ctx, session.actor, year, note=form_text(form, "note")[:200])
    return redirect(f"/admin/calendar?year={year}&saved=covered")


@router.post("/years/{year}/uncover")
def uncover_year(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, year: int
) -> Response:
    calendar_service.uncover_year(ctx, session.actor, year)
    return redirect(f"/admin/calendar?year={year}&saved=uncovered")
