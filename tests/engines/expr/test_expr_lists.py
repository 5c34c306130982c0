"""A sub-table's column in expressions (ADR 0036): the list types, the functions that take
a column, COUNTIF's Excel criteria, and the places a column may not stand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from flowdesk.engines.expr import ExprError, ExprType, compile_expression

FIELDS = {
    "lines.amount": ExprType.NUMBER_LIST,
    "lines.type": ExprType.TEXT_LIST,
    "lines.day": ExprType.DATE_LIST,
    "lines.paid": ExprType.BOOL_LIST,
    "fee": ExprType.NUMBER,
}
VALUES = {
    "lines.amount": (Decimal("1000.50"), Decimal("2"), None, Decimal("1000")),
    "lines.type": ("travel", "Travel", None, "taxi*"),
    "lines.day": (date(2026, 1, 1), None, date(2026, 2, 1), date(2026, 1, 31)),
    "lines.paid": (True, False, None, True),
    "fee": 5,
}


def run(text: str, values: dict[str, object] | None = None) -> object:
    return compile_expression(text, FIELDS).evaluate(VALUES if values is None else values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SUM(lines.amount)", Decimal("2002.50")),  # 1000.50 + 2 + 1000, the empty cell ignored
        ("SUM(lines.amount, fee)", Decimal("2007.50")),
        ("AVERAGE(lines.amount)", Decimal("667.5")),  # 2002.50 / 3
        ("MIN(lines.amount)", Decimal("2")),
        ("MAX(lines.amount)", Decimal("1000.50")),
        ("COUNT(lines.amount)", Decimal(3)),
        ("COUNT(lines.type, lines.day)", Decimal(6)),
        ('COUNTIF(lines.amount, ">1000")', Decimal(1)),
        ('COUNTIF(lines.amount, ">=1000")', Decimal(2)),
        ('COUNTIF(lines.amount, "1,000")', Decimal(1)),
        ("COUNTIF(lines.amount, 2)", Decimal(1)),
        ('COUNTIF(lines.amount, "")', Decimal(1)),  # the empty cell
        ('COUNTIF(lines.amount, "<>")', Decimal(3)),
        ('COUNTIF(lines.type, "TRAVEL")', Decimal(2)),  # case-insensitive, as in Excel
        ('COUNTIF(lines.type, "<>travel")', Decimal(2)),  # the blank counts, as in Excel
        ('COUNTIF(lines.type, "t*")', Decimal(3)),
        ('COUNTIF(lines.type, "taxi~*")', Decimal(1)),  # a literal star
        ('COUNTIF(lines.type, "?ravel")', Decimal(2)),
        ('COUNTIF(lines.day, ">2026-01-15")', Decimal(2)),
        ("COUNTIF(lines.day, DATE('2026-01-01'))", Decimal(1)),
        ("COUNTIF(lines.paid, true)", Decimal(2)),
        ('COUNTIF(lines.paid, "FALSE")', Decimal(1)),
        ("SUM(lines.amount) > 2000", True),
    ],
)
def test_functions_over_a_column(text: str, expected: object) -> None:
    assert run(text) == expected


def test_an_empty_table_sums_to_zero_and_averages_to_null() -> None:
    empty: dict[str, object] = {}
    assert run("SUM(lines.amount)", empty) == Decimal(0)
    assert run("AVERAGE(lines.amount)", empty) is None
    assert run("COUNT(lines.amount)", empty) == Decimal(0)
    assert run('COUNTIF(lines.type, "travel")', empty) == Decimal(0)


def test_a_float_in_a_column_is_refused_as_anywhere() -> None:
    with pytest.raises(ExprError) as caught:
        run("SUM(lines.amount)", {"lines.amount": (1.5,)})
    assert caught.value.code == "float_value"


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("lines.amount > 5", "type_mismatch", 0),
        ("lines.amount + 1", "type_mismatch", 0),
        ("IF(true, lines.amount, 0)", "type_mismatch", 9),
        ("lines.type & 'x'", "type_mismatch", 0),
        ("lines.type in ('a')", "type_mismatch", 0),
        ("ROUND(lines.amount, 2)", "type_mismatch", 6),
        ("SUM(lines.type)", "type_mismatch", 4),
        ('COUNTIF(fee, ">1")', "type_mismatch", 8),
        ('COUNTIF(lines.amount, ">lots")', "invalid_argument", 22),
        ('COUNTIF(lines.day, "<2026-13-01")', "invalid_argument", 19),
        ('COUNTIF(lines.paid, ">true")', "invalid_argument", 20),
        ("COUNTIF(lines.type, 1)", "type_mismatch", 20),
        ("COUNTIF(lines.type, lines.type)", "type_mismatch", 20),
    ],
)
def test_a_column_where_one_value_is_wanted_is_refused_with_its_position(
    text: str, code: str, position: int
) -> None:
    with pytest.raises(ExprError) as caught:
        compile_expression(text, FIELDS)
    assert (caught.value.code, caught.value.position) == (code, position)
