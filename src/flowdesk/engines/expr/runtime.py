"""Why this module exists: the run-time meaning of operators, shared by compiler and functions.

Evaluation must never crash a running process because of data, so every helper here is
total over normalized runtime values (Decimal, str, bool, date, None): a result that
cannot be computed (division by zero, overflow, a value of the wrong type behind an
ANY field) is null. Arithmetic uses `DECIMAL_CONTEXT` (28 significant digits) passed
explicitly, never the thread-local decimal context.

Null rules: arithmetic with null is null; a comparison with null is false; '&' treats
null as empty text.
"""

from __future__ import annotations

from datetime import date
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from flowdesk.engines.expr.nodes import ArithmeticOp, CompareOp
from flowdesk.engines.expr.valuetypes import ExprType, runtime_type

DECIMAL_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


def arithmetic(op: ArithmeticOp, left: object, right: object) -> object:
    """`left op right` for '+', '-', '*', '/' and '&'."""
    if op == "&":
        return to_text(left) + to_text(right)
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        ctx = DECIMAL_CONTEXT
        try:
            if op == "+":
                return ctx.add(left, right)
            if op == "-":
                return ctx.subtract(left, right)
            if op == "*":
                return ctx.multiply(left, right)
            return ctx.divide(left, right)
        except DecimalException:
            return None
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    return None


def compare(op: CompareOp, left: object, right: object) -> bool:
    """`left op right`; false when either side is null or the two are of different types."""
    kind = runtime_type(left)
    if kind is None or kind is ExprType.NULL or runtime_type(right) is not kind:
        return False
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    less = _less(left, right)
    if less is None:  # bools have no order
        return False
    if op == "<":
        return less
    if op == ">=":
        return not less
    equal = left == right
    if op == "<=":
        return less or equal
    return not less and not equal


def _less(left: object, right: object) -> bool | None:
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        return left < right
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    if isinstance(left, date) and isinstance(right, date):
        return left < right
    return None


def to_text(value: object) -> str:
    """How '&' shows a value: plain-notation numbers, ISO dates, TRUE/FALSE, null as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return ""
