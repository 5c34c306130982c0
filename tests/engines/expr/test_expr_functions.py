"""The function library: each function's results, null handling and case-insensitive names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from flowdesk.engines.expr import FUNCTIONS, ExprType, compile_expression

FIELDS: dict[str, ExprType] = {
    "n": ExprType.NUMBER,
    "t": ExprType.TEXT,
    "b": ExprType.BOOL,
    "d": ExprType.DATE,
}


def run(text: str, **values: object) -> object:
    return compile_expression(text, FIELDS).evaluate(values)


def test_library_contents() -> None:
    assert set(FUNCTIONS) == {
        "COUNT",
        "COUNTIF",
        "IF",
        "ABS",
        "ROUND",
        "MIN",
        "MAX",
        "LEN",
        "UPPER",
        "LOWER",
        "CONTAINS",
        "ISBLANK",
        "DATE",
        "IFS",
        "AND",
        "OR",
        "NOT",
        "SUM",
        "AVERAGE",
        "TODAY",
        "NOW",
        "DATEDIF",
        "WORKDAYS",
        "CONCAT",
        "LEFT",
        "RIGHT",
        "MID",
        "TRIM",
        "TEXT",
        "VALUE",
        "REGEXMATCH",
        "REGEXEXTRACT",
    }
    for name, spec in FUNCTIONS.items():
        assert spec.name == name and spec.summary


def test_names_are_case_insensitive() -> None:
    assert run("if(true, 1, 2)") == Decimal(1)
    assert run("Abs(-3)") == Decimal(3)
    assert run("lEn('abc')") == Decimal(3)


def test_if() -> None:
    assert run("IF(n > 5, 'big', 'small')", n=6) == "big"
    assert run("IF(n > 5, 'big', 'small')", n=5) == "small"
    assert run("IF(b, 1, 2)") == Decimal(2)  # null condition counts as false
    assert run("IF(b, 1, null)", b=False) is None
    assert run("IF(b, d, DATE('2026-01-01'))", b=True, d=date(2025, 1, 1)) == date(2025, 1, 1)
    assert run("IF(n > 1, IF(n > 2, 'c', 'b'), 'a')", n=3) == "c"


def test_abs() -> None:
    assert run("ABS(-2.50)") == Decimal("2.50")
    assert run("ABS(3)") == Decimal(3)
    assert run("ABS(n)") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ROUND(2.5, 0)", "3"),
        ("ROUND(3.5, 0)", "4"),
        ("ROUND(-2.5, 0)", "-3"),
        ("ROUND(2.5)", "3"),
        ("ROUND(1.005, 2)", "1.01"),
        ("ROUND(1.004, 2)", "1.00"),
        ("ROUND(0.125, 2)", "0.13"),
        ("ROUND(1.5, 2)", "1.50"),
        ("ROUND(1234.5678, -2)", "1200"),
        ("ROUND(1250, -2)", "1300"),
        ("ROUND(49, -2)", "0"),
        ("ROUND(2.567, 1.9)", "2.6"),
        ("ROUND(1 / 3, 4)", "0.3333"),
        ("ROUND(1 / 3, 50)", "0.3333333333333333333333333333"),
    ],
)
def test_round_half_up_like_excel(text: str, expected: str) -> None:
    result = run(text)
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_round_edge_cases() -> None:
    assert run("ROUND(n, 2)") is None
    assert run("ROUND(1, n)") is None
    assert run("ROUND(1.5, 1000)") is None  # digits outside -100..100
    assert run("ROUND(n, 2)", n=Decimal("1E+30")) == Decimal("1E+30")


def test_min_max() -> None:
    assert run("MIN(3, 1, 2)") == Decimal(1)
    assert run("MAX(3, 1, 2)") == Decimal(3)
    assert run("MAX(n)") is None
    assert run("MIN(n, 5, -1)") == Decimal(-1)  # nulls ignored
    assert run("MAX(n, 5, -1)", n=10) == Decimal(10)
    assert run("MIN(0.1 + 0.2, 0.3)") == Decimal("0.3")


def test_len_upper_lower() -> None:
    assert run("LEN('贷款申请')") == Decimal(4)
    assert run("LEN(t)") == Decimal(0)
    assert run("LEN('')") == Decimal(0)
    assert run("UPPER('east')") == "EAST"
    assert run("LOWER('EaSt')") == "east"
    assert run("UPPER(t)") is None
    assert run("LOWER(t)") is None


def test_contains() -> None:
    assert run("CONTAINS('Head Office', 'Office')") is True
    assert run("CONTAINS('Head Office', 'office')") is False
    assert run("CONTAINS(LOWER(t), 'office')", t="Head OFFICE") is True
    assert run("CONTAINS(t, 'x')") is False
    assert run("CONTAINS('x', t)") is False
    assert run("CONTAINS('abc', '')") is True


def test_isblank() -> None:
    assert run("ISBLANK(t)") is True
    assert run("ISBLANK(t)", t="") is True
    assert run("ISBLANK(t)", t="  \t") is True
    assert run("ISBLANK(t)", t=" a ") is False
    assert run("ISBLANK(n)", n=0) is False
    assert run("ISBLANK(b)", b=False) is False
    assert run("ISBLANK(d)") is True
    assert run("ISBLANK(null)") is True


def test_date() -> None:
    assert run("DATE('2026-01-31')") == date(2026, 1, 31)
    assert run("DATE(t)", t="2026-12-01") == date(2026, 12, 1)
    assert run("DATE(t)", t="2026-13-01") is None
    assert run("DATE(t)", t="20261201") is None
    assert run("DATE(t)", t="2026-12-01T00:00") is None
    assert run("DATE(t)", t="２０２６-12-01") is None
    assert run("DATE(t)") is None
    assert run("d = DATE('2026-01-31')", d=date(2026, 1, 31)) is True


def test_functions_nest_and_combine() -> None:
    text = "ROUND(MAX(n * 0.05, 100), 2) & ' ' & UPPER(IF(ISBLANK(t), 'none', t))"
    assert run(text, n=Decimal("1234.567")) == "100.00 NONE"
    assert run(text, n=Decimal("12345.67"), t="ok") == "617.28 OK"
