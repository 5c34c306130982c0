"""The business calendar's administration, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from flowdesk.engines.access import Actor
from flowdesk.engines.calendar import CalendarYearNotCovered, WorkingDays
from flowdesk.kernel.errors import Forbidden, NotFound, ValidationFailed
from flowdesk.services import audit
from flowdesk.services import calendar as calendar_service
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store

ADMIN = Actor(user_id="u-admin", username="admin", display_name="Admin", is_admin=True)
CLERK = Actor(
    user_id="u-clerk", username="clerk", display_name="Clerk", roles=frozenset({"org_admin"})
)


def audit_actions(ctx: ServiceContext) -> list[tuple[str, str, str]]:
    with ctx.db.read() as conn:
        return [
            (entry.action, entry.target_id, entry.actor)
            for entry in audit_store.entries(conn)
            if entry.action.startswith("calendar.")
        ]


def test_an_administrator_enters_a_year_the_library_does_not_know(ctx: ServiceContext) -> None:
    status = calendar_service.year_status(ctx, ADMIN, 2027)
    assert (status.coverage, status.working_days) == (None, None)
    with pytest.raises(CalendarYearNotCovered):
        calendar_service.business_calendar(ctx).is_working_day(date(2027, 1, 4))

    calendar_service.set_day(ctx, ADMIN, "2027-01-01", working=False, note="元旦")
    calendar_service.set_day(
        ctx, ADMIN, date(2027, 1, 2), working=True, hours=["09:00-12:00"], note="调休"
    )
    covered = calendar_service.cover_year(ctx, ADMIN, 2027, note="国务院办公厅通知")
    assert (covered.coverage, covered.days, covered.marked_covered) == ("overrides", 2, True)
    # 261 weekdays in 2027, less New Year's Day (a Friday), plus the make-up Saturday
    assert covered.working_days == 261

    calendar = calendar_service.business_calendar(ctx)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.hours_of(date(2027, 1, 2))[0].end == 12 * 60
    due = calendar.add(datetime(2026, 12, 31, 2, tzinfo=UTC), WorkingDays(1))
    assert due == datetime(2027, 1, 2, 4, 0, tzinfo=UTC)  # Saturday 12:00 Shanghai

    assert [day.note for day in calendar_service.list_days(ctx, ADMIN, year=2027)] == [
        "元旦",
        "调休",
    ]
    assert calendar_service.list_days(ctx, ADMIN, year=2026) == []
    assert audit_actions(ctx) == [
        ("calendar.day.set", "2027-01-01", "admin"),
        ("calendar.day.set", "2027-01-02", "admin"),
        ("calendar.year.cover", "2027", "admin"),
    ]
    assert audit.verify(ctx).ok


def test_replacing_and_removing_a_day_is_audited_with_what_was_there(ctx: ServiceContext) -> None:
    calendar_service.set_day(ctx, ADMIN, "2025-10-08", working=True, note="bank open")
    replaced = calendar_service.set_day(ctx, None, "2025-10-08", working=False)
    assert (replaced.working, replaced.updated_by) == (False, "system")
    assert calendar_service.business_calendar(ctx).is_working_day(date(2025, 10, 9))
    calendar_service.remove_day(ctx, ADMIN, "2025-10-08")
    with pytest.raises(NotFound) as missing:
        calendar_service.remove_day(ctx, ADMIN, "2025-10-08")
    assert missing.value.code == "calendar_day_not_found"
    with ctx.db.read() as conn:
        removed = [e for e in audit_store.entries(conn) if e.action == "calendar.day.remove"]
    assert removed[0].details["before"] == {"working": False, "hours": None, "note": ""}
    # the library decides again: 8 Oct 2025 is in the National Day holiday
    assert not calendar_service.business_calendar(ctx).is_working_day(date(2025, 10, 8))


def test_only_administrators_manage_the_calendar(ctx: ServiceContext) -> None:
    for call in (
        lambda: calendar_service.list_days(ctx, CLERK),
        lambda: calendar_service.set_day(ctx, CLERK, "2027-01-01", working=False),
        lambda: calendar_service.cover_year(ctx, CLERK, 2027),
        lambda: calendar_service.year_status(ctx, CLERK, 2027),
    ):
        with pytest.raises(Forbidden):
            call()
    assert audit_actions(ctx) == []


def test_a_bad_day_is_refused_with_every_problem_and_nothing_written(ctx: ServiceContext) -> None:
    with pytest.raises(ValidationFailed) as raised:
        calendar_service.set_day(
            ctx, ADMIN, "2027-01-02", working=True, hours=["22:00-02:00", "9-12"], note="x" * 201
        )
    assert {(e.path, e.code) for e in raised.value.errors} == {
        ("hours[0]", "interval_crosses_midnight"),
        ("hours[1]", "interval_invalid"),
        ("note", "too_long"),
    }
    with pytest.raises(ValidationFailed) as day_off:
        calendar_service.set_day(ctx, ADMIN, "2027-01-01", working=False, hours=["09:00-12:00"])
    assert [(e.path, e.code) for e in day_off.value.errors] == [("hours", "hours_on_day_off")]
    with pytest.raises(ValidationFailed) as bad_date:
        calendar_service.set_day(ctx, ADMIN, "2027-02-30", working=False)
    assert [(e.path, e.code) for e in bad_date.value.errors] == [("date", "date_invalid")]
    with pytest.raises(ValidationFailed):
        calendar_service.cover_year(ctx, ADMIN, 99999)
    assert calendar_service.list_days(ctx, ADMIN) == []


def test_the_calendar_is_built_once_per_generation_and_sees_other_processes(
    ctx: ServiceContext, db_url: str
) -> None:
    first = calendar_service.business_calendar(ctx)
    assert calendar_service.business_calendar(ctx) is first
    assert ctx.calendar.builds == 1

    other = build_context(db_url)  # another process on the same database
    try:
        calendar_service.set_day(other, ADMIN, "2026-06-10", working=False, note="migration")
        assert not calendar_service.business_calendar(ctx).is_working_day(date(2026, 6, 10))
        assert ctx.calendar.builds == 2
        # a change by hand in SQL is seen too
        with other.db.write() as conn:
            conn.execute(text("DELETE FROM calendar_days"))
        assert calendar_service.business_calendar(ctx).is_working_day(date(2026, 6, 10))
        with other.db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO calendar_years (year, note, updated_by, updated_at)"
                    " VALUES (2028, '', 'dba', :at)"
                ),
                {"at": datetime(2026, 12, 1, tzinfo=UTC)},
            )
        assert calendar_service.business_calendar(ctx).coverage(2028) == "overrides"
        calendar_service.uncover_year(other, ADMIN, 2028)
        assert calendar_service.business_calendar(ctx).coverage(2028) is None
    finally:
        other.db.dispose()
