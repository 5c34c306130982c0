"""`flowdesk calendar` as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

from click.testing import CliRunner

from flowdesk.cli import main
from flowdesk.services import calendar as calendar_service
from flowdesk.services.context import ServiceContext


def _runner(db_url: str, **env: str) -> CliRunner:
    return CliRunner(
        env={
            "FLOWDESK_DATABASE_URL": db_url,
            "FLOWDESK_DEV": "1",
            "FLOWDESK_SECRET_KEY": None,
            **env,
        }
    )


def test_an_operator_covers_a_new_year_from_the_command_line(
    ctx: ServiceContext, db_url: str
) -> None:
    runner = _runner(db_url)
    unknown = runner.invoke(main, ["calendar", "check", "2027"])
    assert unknown.exit_code == 1
    assert "2027 is NOT covered" in unknown.output

    known = runner.invoke(main, ["calendar", "check", "2026"])
    assert known.exit_code == 0, known.output
    assert "2026 is covered by the holiday library" in known.output

    day_off = runner.invoke(main, ["calendar", "set", "2027-01-01", "--day-off", "--note", "元旦"])
    assert day_off.exit_code == 0, day_off.output
    assert "2027-01-01 is a day off" in day_off.output
    make_up = runner.invoke(
        main, ["calendar", "set", "2027-01-02", "--working", "--hours", "9:00-12:00,13:00-15:00"]
    )
    assert make_up.exit_code == 0, make_up.output
    assert "2027-01-02 is a working day (09:00-12:00, 13:00-15:00)" in make_up.output

    covered = runner.invoke(main, ["calendar", "cover", "2027"])
    assert covered.exit_code == 0, covered.output
    assert "2027 is covered by the administrators' days: 261 working days" in covered.output
    assert runner.invoke(main, ["calendar", "check", "2027"]).exit_code == 0

    listed = runner.invoke(main, ["calendar", "list", "--year", "2027"])
    assert listed.output.splitlines() == [
        "2027-01-01 Fri day off  元旦",
        "2027-01-02 Sat working 09:00-12:00,13:00-15:00",
    ]
    assert runner.invoke(main, ["calendar", "remove", "2027-01-02"]).exit_code == 0
    assert len(calendar_service.list_days(ctx, None)) == 1


def test_mistakes_are_named_and_change_nothing(ctx: ServiceContext, db_url: str) -> None:
    runner = _runner(db_url)
    crossing = runner.invoke(
        main, ["calendar", "set", "2027-01-02", "--working", "--hours", "22:00-02:00"]
    )
    assert crossing.exit_code == 1
    assert "hours[0]: 22:00-02:00 ends before it starts" in crossing.output
    missing = runner.invoke(main, ["calendar", "remove", "2027-01-03"])
    assert missing.exit_code == 1
    assert "No calendar day 2027-01-03 was entered" in missing.output
    assert calendar_service.list_days(ctx, None) == []


def test_bad_calendar_settings_stop_the_command(ctx: ServiceContext, db_url: str) -> None:
    runner = _runner(db_url, FLOWDESK_CALENDAR__HOURS='["13:30-17:30", "09:00-12:00"]')
    result = runner.invoke(main, ["calendar", "check", "2026"])
    assert result.exit_code == 2
    assert "FLOWDESK_CALENDAR__HOURS: " in result.output
    assert "hours[1]" in result.output
