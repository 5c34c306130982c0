"""The spreadsheet functions formulas use (issue 9, ADR 0031): results against hand-computed
and reference answers, the null rules, the clock and calendar coming only from the context,
and literal arguments checked when the expression is compiled (at publish)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdesk.engines.calendar import BusinessCalendar, CalendarSpec
from flowdesk.engines.expr import EvalContext, ExprError, ExprType, compile_expression

FIELDS: dict[str, ExprType] = {
    "n": ExprType.NUMBER,
    "m": ExprType.NUMBER,
    "t": ExprType.TEXT,
    "p": ExprType.TEXT,
    "b": ExprType.BOOL,
    "d": ExprType.DATE,
    "e": ExprType.DATE,
}


def run(text: str, context: EvalContext | None = None, **values: object) -> object:
    compiled = compile_expression(text, FIELDS)
    return compiled.evaluate(values) if context is None else compiled.evaluate(values, context)


def refused(text: str) -> ExprError:
    with pytest.raises(ExprError) as caught:
        compile_expression(text, FIELDS)
    return caught.value


# --- logic ------------------------------------------------------------------------------


def test_ifs_gives_the_first_true_conditions_value_and_null_when_none_holds() -> None:
    text = "IFS(n >= 100, 'big', n >= 10, 'medium', true, 'small')"
    assert run(text, n=150) == "big"
    assert run(text, n=50) == "medium"
    assert run(text, n=1) == "small"
    assert run("IFS(n > 1, 'x')", n=0) is None
    assert run("IFS(n > 1, 'x')") is None  # null condition counts as false


def test_ifs_is_checked_at_compile_time() -> None:
    assert refused("IFS(true, 1, false)").code == "argument_count"
    mixed = refused("IFS(true, 1, false, 'x')")
    assert mixed.code == "type_mismatch" and mixed.position == 20
    assert refused("IFS(true, 1, 'x', 2)").code == "type_mismatch"


def test_and_or_not_as_functions_treat_null_as_false() -> None:
    assert run("AND(n > 1, b)", n=2, b=True) is True
    assert run("AND(n > 1, b)", n=2) is False
    assert run("OR(n > 1, b)", b=True) is True
    assert run("OR(b, b)") is False
    assert run("NOT(b)") is True
    assert run("and(true, true) and OR(false, true)") is True
    assert refused("AND(1, true)").code == "type_mismatch"


# --- numbers ----------------------------------------------------------------------------


def test_sum_and_average_are_exact_decimals_that_ignore_nulls() -> None:
    assert run("SUM(n, m, 0.1)", n=Decimal("0.1"), m=Decimal("0.1")) == Decimal("0.3")
    assert run("SUM(n, m)") == Decimal(0)
    assert run("AVERAGE(n, m)", n=Decimal("1"), m=Decimal("2")) == Decimal("1.5")
    assert run("AVERAGE(n, m)", n=Decimal("3")) == Decimal("3")
    assert run("AVERAGE(n, m)") is None


@given(st.lists(st.decimals(min_value=-(10**9), max_value=10**9, places=2), max_size=8))
def test_sum_of_money_equals_pythons_exact_sum(amounts: list[Decimal]) -> None:
    fields = {f"a{i}": ExprType.NUMBER for i in range(len(amounts))}
    text = "SUM(" + ", ".join(["0", *fields]) + ")"
    result = compile_expression(text, fields).evaluate(dict(zip(fields, amounts, strict=True)))
    assert result == sum(amounts, Decimal(0))


# --- dates ------------------------------------------------------------------------------


def test_today_and_now_come_from_the_context_only() -> None:
    evening_utc = datetime(2026, 12, 3, 17, 30, 5, 123, tzinfo=UTC)  # 01:30 next day Beijing
    context = EvalContext(now=evening_utc)
    assert run("TODAY()", context) == date(2026, 12, 4)
    assert run("TODAY()", EvalContext(now=evening_utc, timezone="UTC")) == date(2026, 12, 3)
    assert run("NOW()", context) == "2026-12-03T17:30:05Z"
    assert run("TODAY()") is None and run("NOW()") is None  # no clock, no answer
    with pytest.raises(ValueError):
        EvalContext(now=datetime(2026, 12, 3))  # naive instants are refused


def test_datedif_counts_as_excel_does() -> None:
    def datedif(start: str, end: str, unit: str) -> object:
        return run(f"DATEDIF(DATE('{start}'), DATE('{end}'), '{unit}')")

    assert datedif("2026-01-31", "2026-02-28", "M") == 0
    assert datedif("2026-01-31", "2026-03-31", "M") == 2
    assert datedif("2024-02-29", "2025-02-28", "Y") == 0
    assert datedif("2024-02-29", "2025-03-01", "Y") == 1
    assert datedif("2026-01-01", "2026-12-31", "D") == 364
    assert datedif("2026-03-01", "2026-01-01", "D") is None  # end before start: Excel's #NUM!
    assert run("DATEDIF(d, e, 'D')", d=date(2026, 1, 1)) is None
    error = refused("DATEDIF(d, e, 'W')")
    assert error.code == "invalid_argument" and error.position == 14
    assert run("DATEDIF(d, e, t)", d=date(2026, 1, 1), e=date(2026, 2, 1), t="w") is None


def test_datedif_leftover_units() -> None:
    def datedif(start: str, end: str, unit: str) -> object:
        return run(f"DATEDIF(DATE('{start}'), DATE('{end}'), '{unit}')")

    # 15 Jan 2026 → 20 Mar 2027: 1 year, 2 months and 5 days; 64 days since 15 Jan 2027
    assert datedif("2026-01-15", "2027-03-20", "YM") == 2
    assert datedif("2026-01-15", "2027-03-20", "MD") == 5
    assert datedif("2026-01-15", "2027-03-20", "YD") == 16 + 28 + 20
    # 31 Jan + 1 month is 28 Feb, one day before 1 Mar (Excel says -2 here; LibreOffice 1)
    assert datedif("2026-01-31", "2026-03-01", "MD") == 1
    assert datedif("2024-02-29", "2025-03-01", "YD") == 1  # the anniversary is 28 Feb 2025
    assert datedif("2026-05-10", "2026-05-10", "MD") == 0
    assert datedif("2026-05-10", "2026-05-09", "YD") is None


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
    st.integers(min_value=0, max_value=5000),
)
def test_datedif_leftovers_add_up_to_the_end_date(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    values = {"d": start, "e": end}
    months, years = run("DATEDIF(d, e, 'M')", **values), run("DATEDIF(d, e, 'Y')", **values)
    assert isinstance(months, Decimal) and isinstance(years, Decimal)
    assert run("DATEDIF(d, e, 'YM')", **values) == months - 12 * years
    after_months, after_years = (
        _calendar_months_on(start, int(months)),
        _calendar_months_on(start, int(12 * years)),
    )
    leftover_days = run("DATEDIF(d, e, 'MD')", **values)
    since_anniversary = run("DATEDIF(d, e, 'YD')", **values)
    assert isinstance(leftover_days, Decimal) and isinstance(since_anniversary, Decimal)
    assert after_months + timedelta(days=int(leftover_days)) == end
    assert 0 <= leftover_days < 31
    assert after_years + timedelta(days=int(since_anniversary)) == end
    assert 0 <= since_anniversary < 366


def _calendar_months_on(day: date, months: int) -> date:
    """Reference: step month by month, clamping to the month's last day at the end only."""
    year, month = day.year, day.month
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    last_day = 31
    while True:
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            last_day -= 1


def _months_by_counting(start: date, end: date) -> int:
    """Reference: the largest k with (year, month) moved k months and the same day <= end."""
    k = 0
    while True:
        month_index = start.month - 1 + k + 1
        candidate = (start.year + month_index // 12, month_index % 12 + 1, start.day)
        if candidate > (end.year, end.month, end.day):
            return k
        k += 1


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
    st.integers(min_value=0, max_value=5000),
)
def test_datedif_against_counting_by_hand(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    values = {"d": start, "e": end}
    assert run("DATEDIF(d, e, 'D')", **values) == days
    months = _months_by_counting(start, end)
    assert run("DATEDIF(d, e, 'm')", **values) == months
    assert run("DATEDIF(d, e, 'Y')", **values) == months // 12


def test_workdays_counts_on_the_business_calendar_from_the_context() -> None:
    calendar = BusinessCalendar(CalendarSpec())
    context = EvalContext(calendar=calendar)
    # National Day 2026: 1-7 October off; Saturday 10 October is a make-up working day (调休)
    text = "WORKDAYS(DATE('2026-09-28'), DATE('2026-10-11'))"
    assert run(text, context) == calendar.workdays(date(2026, 9, 28), date(2026, 10, 11))
    assert run("WORKDAYS(DATE('2026-12-07'), DATE('2026-12-11'))", context) == 5
    assert run(text) is None  # no calendar given
    far = "WORKDAYS(DATE('2090-01-01'), DATE('2090-01-31'))"
    assert run(far, context) is None  # a year the calendar does not cover


# --- text -------------------------------------------------------------------------------


def test_text_functions() -> None:
    assert run(
        "CONCAT(t, '-', n, '-', d, '-', b)", t="A", n=Decimal("1.50"), d=date(2026, 1, 2)
    ) == ("A-1.50-2026-01-02-")
    assert run("LEFT(t)", t="贷款申请") == "贷"
    assert run("LEFT(t, 2)", t="贷款申请") == "贷款"
    assert run("RIGHT(t, 10)", t="abc") == "abc"
    assert run("RIGHT(t, 0)", t="abc") == ""
    assert run("MID(t, 3, 2)", t="abcdef") == "cd"
    assert run("MID(t, 0, 2)", t="abcdef") is None
    assert run("LEFT(t, -1)", t="abc") is None
    assert run("LEFT(t, 2)") is None
    assert run("TRIM(t)", t="  Li   Na  ") == "Li Na"
    assert run("VALUE(t)", t=" 1,234.50 ") == Decimal("1234.50")
    assert run("VALUE(t)", t="12.5%") == Decimal("0.125")
    assert run("VALUE(t)", t="12,34") is None
    assert run("VALUE(t)", t="abc") is None


@given(st.text(max_size=30), st.integers(min_value=0, max_value=40))
def test_left_and_right_are_python_slices(text: str, count: int) -> None:
    assert run("LEFT(t, n)", t=text, n=count) == text[:count]
    assert run("RIGHT(t, n)", t=text, n=count) == (text[-count:] if count else "")


@given(
    st.text(max_size=30),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=0, max_value=40),
)
def test_mid_is_a_python_slice_from_one(text: str, start: int, count: int) -> None:
    assert run("MID(t, n, m)", t=text, n=start, m=count) == text[start - 1 : start - 1 + count]


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("1234.565", "#,##0.00", "1,234.57"),
        ("1234.5", "0", "1235"),
        ("-2.5", "0", "-3"),
        ("-0.001", "0.00", "0.00"),
        ("0.1234", "0.0%", "12.3%"),
        ("0.5", "0%", "50%"),
        ("1234567", "#,##0", "1,234,567"),
    ],
)
def test_text_number_formats(value: str, fmt: str, expected: str) -> None:
    assert run(f"TEXT(n, '{fmt}')", n=Decimal(value)) == expected


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False),
    st.integers(min_value=0, max_value=4),
)
def test_text_fixed_decimals_match_round(value: Decimal, decimals: int) -> None:
    fmt = "0." + "0" * decimals if decimals else "0"
    shown = run(f"TEXT(n, '{fmt}')", n=value)
    rounded = run(f"ROUND(n, {decimals})", n=value)
    assert isinstance(shown, str) and isinstance(rounded, Decimal)
    assert Decimal(shown) == rounded


def test_text_date_formats_and_mismatches() -> None:
    day = date(2026, 3, 5)
    assert run("TEXT(d, 'yyyy-mm-dd')", d=day) == "2026-03-05"
    assert run("TEXT(d, 'yyyy年m月d日')", d=day) == "2026年3月5日"
    assert run("TEXT(d, 'dd/mm/yy')", d=day) == "05/03/26"
    assert run("TEXT(d, '0.00')", d=day) is None
    assert run("TEXT(n, 'yyyy')", n=Decimal(1)) is None
    assert run("TEXT(t, '0.00')", t="abc") == "abc"
    assert run("TEXT(n, t)", n=Decimal(1), t="bogus") is None
    error = refused("TEXT(n, 'hh:mm')")
    assert error.code == "invalid_argument" and error.position == 8


@given(st.dates(min_value=date(1000, 1, 1)))
def test_text_iso_format_is_isoformat(day: date) -> None:
    assert run("TEXT(d, 'yyyy-mm-dd')", d=day) == day.isoformat()


# --- regular expressions ----------------------------------------------------------------

WORK_LOG = "2026-11-02 called the client\n2026-11-20 visited the branch\n2026-12-01 signed"


def test_regexextract_takes_the_latest_work_log_entry_as_seed_000_does() -> None:
    # the newest entry is last: a greedy prefix skips to it
    assert run(r"REGEXEXTRACT(t, '(?s).*\n([^\n]+)$')", t=WORK_LOG) == "2026-12-01 signed"
    assert run(r"REGEXEXTRACT(t, '[0-9]{4}-[0-9]{2}-[0-9]{2}')", t=WORK_LOG) == "2026-11-02"
    assert run("REGEXEXTRACT(t, 'x([0-9]+)')", t="abc") is None


def test_regexmatch_searches_anywhere_and_checks_literal_patterns_at_compile_time() -> None:
    assert run("REGEXMATCH(t, 'branch')", t=WORK_LOG) is True
    assert run("REGEXMATCH(t, '^branch')", t=WORK_LOG) is False
    assert run("REGEXMATCH(t, p)", t="a", p="(") is None  # a bad pattern from a field
    bad = refused("REGEXMATCH(t, '[0-9')")
    assert bad.code == "invalid_pattern" and bad.position == 14
    assert refused("REGEXMATCH(t, '(a|aa)+$')").code == "invalid_pattern"  # too slow
    assert refused("REGEXEXTRACT(t, '" + "a" * 301 + "')").code == "invalid_pattern"


def test_context_instants_may_be_in_any_timezone() -> None:
    beijing = timezone(timedelta(hours=8))
    context = EvalContext(now=datetime(2026, 12, 4, 1, 30, tzinfo=beijing))
    assert run("NOW()", context) == "2026-12-03T17:30:00Z"
    assert run("DATEDIF(d, TODAY(), 'D')", context, d=date(2026, 12, 1)) == 3
