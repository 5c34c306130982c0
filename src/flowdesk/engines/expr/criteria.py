"""Why this module exists: COUNTIF's criterion is a little language of its own, as in Excel.

`COUNTIF(lines.type, "travel")` counts the rows whose type is travel; `COUNTIF(lines.amount,
">1000")` those above 1000. A criterion is a number (equal to it), a bool, a date, or text:
an optional operator (`=`, `<>`, `<`, `<=`, `>`, `>=`) and an operand read as the column's
type (a number column reads "1000" as 1000, a date column "2026-12-01" as a date). Text
compares case-insensitively, as Excel does, and `*` / `?` are wildcards in `=` and `<>`
(`~*` is a literal star). `""` counts the empty cells, `"<>"` the filled ones; a blank
cell matches only those two (and `<>x`, as Excel counts it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from flowdesk.engines.expr.nodes import CompareOp
from flowdesk.engines.expr.runtime import compare
from flowdesk.engines.expr.valuetypes import ExprType, runtime_type

Matcher = Callable[[object], bool]

_OPERATORS = ("<=", ">=", "<>", "<", ">", "=")


def split_operator(criterion: str) -> tuple[str, str]:
    """("op", "operand") of a text criterion; "=" when it has no operator."""
    for op in _OPERATORS:
        if criterion.startswith(op):
            return op, criterion[len(op) :]
    return "=", criterion


def _operand(text: str, element: ExprType) -> object:
    """The operand read as the column's type, or None when it cannot be."""
    text = text.strip() if element is not ExprType.TEXT else text
    if element is ExprType.NUMBER:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if element is ExprType.DATE:
        try:
            return date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None
    if element is ExprType.BOOL:
        return {"TRUE": True, "FALSE": False}.get(text.upper())
    return text.casefold()


def criterion_problem(criterion: str, element: ExprType) -> str | None:
    """Why a literal criterion cannot apply to a column of `element` values, or None."""
    op, operand = split_operator(criterion)
    if operand == "" and op in ("=", "<>"):
        return None
    if element is ExprType.TEXT:
        return None
    if _operand(operand, element) is None:
        return f"the criterion's value is not a {element.value}, as the column's values are"
    if element is ExprType.BOOL and op not in ("=", "<>"):
        return f"'{op}' does not apply to true/false values"
    return None


def _wildcard(text: str) -> str | None:
    """A regular expression (for re.fullmatch, whose cache keeps it) of a wildcard text."""
    if "*" not in text and "?" not in text:
        return None
    parts: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "~" and index + 1 < len(text) and text[index + 1] in "*?~":
            parts.append(re.escape(text[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    return "(?s)" + "".join(parts)


def matcher(criterion: object, element: ExprType) -> Matcher:
    """A test of one cell's value (None for an empty cell) against the criterion."""
    if not isinstance(criterion, str):
        return lambda value: value is not None and value == criterion
    op, text = split_operator(criterion)
    if text == "" and op in ("=", "<>"):
        return (lambda value: value is None) if op == "=" else (lambda value: value is not None)
    operand = _operand(text, element)
    if operand is None:
        return lambda value: op == "<>"
    pattern = _wildcard(text.casefold()) if element is ExprType.TEXT else None

    def test(value: object) -> bool:
        if value is None:
            return op == "<>"
        cell = value.casefold() if isinstance(value, str) else value
        if pattern is not None and op in ("=", "<>"):
            found = isinstance(cell, str) and re.fullmatch(pattern, cell) is not None
            return found if op == "=" else not found
        return _compare(op, cell, operand)

    return test


def _compare(op: str, left: object, right: object) -> bool:
    """`left op right` by the language's own rules; a cell of another type than the
    operand matches only `<>`."""
    if runtime_type(left) is not runtime_type(right):
        return op == "<>"
    return compare(_AS_COMPARE[op], left, right)


_AS_COMPARE: dict[str, CompareOp] = {
    "=": "=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}


def count_matching(values: Sequence[object], criterion: object, element: ExprType) -> Decimal:
    test = matcher(criterion, element)
    return Decimal(sum(1 for value in values if test(value)))
