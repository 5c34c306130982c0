"""Why this module exists: one answer to "which Python value stands for which expression type".

Callers hand field values in, the engine hands results back; both sides must agree that a
NUMBER is always a `decimal.Decimal` (money never passes through binary floats), TEXT a
`str`, BOOL a `bool`, DATE a `datetime.date` and null `None`. `normalize_value` is the
single gate through which caller values enter an evaluation.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flowdesk.engines.expr.errors import FLOAT_VALUE, INVALID_VALUE, ExprError
from flowdesk.kernel.money import Money


class ExprType(enum.Enum):
    """Static type of an expression, a field or a function parameter."""

    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"
    DATE = "date"
    NULL = "null"
    ANY = "any"
    # a sub-table's column (ADR 0036): its rows' values, read only by the functions that
    # take a list (SUM, AVERAGE, MIN, MAX, COUNT, COUNTIF); the runtime value is a tuple
    NUMBER_LIST = "number_list"
    TEXT_LIST = "text_list"
    BOOL_LIST = "bool_list"
    DATE_LIST = "date_list"


LIST_TYPES = frozenset(
    {ExprType.NUMBER_LIST, ExprType.TEXT_LIST, ExprType.BOOL_LIST, ExprType.DATE_LIST}
)


# the Python class of each scalar type's runtime value, exactly (a datetime is no date)
_EXACT: dict[ExprType, type] = {
    ExprType.NUMBER: Decimal,
    ExprType.TEXT: str,
    ExprType.BOOL: bool,
    ExprType.DATE: date,
}


def element_type(kind: ExprType) -> ExprType | None:
    """The type of one value of a list type (NUMBER for NUMBER_LIST); None for a scalar."""
    if kind not in LIST_TYPES:
        return None
    return ExprType(kind.value.removesuffix("_list"))


def accepts(expected: ExprType, actual: ExprType) -> bool:
    """True when a value of static type `actual` may stand where `expected` is wanted.

    ANY on either side defers the question to run time; null fits every type. A list
    (a sub-table's column) fits only where that very list type is wanted, never ANY: a
    column is no one value.
    """
    if actual in LIST_TYPES or expected in LIST_TYPES:
        return expected is actual
    return expected is ExprType.ANY or actual in (expected, ExprType.ANY, ExprType.NULL)


def runtime_type(value: object) -> ExprType | None:
    """The type of a normalized runtime value, or None for a value that is none of them."""
    if value is None:
        return ExprType.NULL
    if isinstance(value, bool):
        return ExprType.BOOL
    if isinstance(value, Decimal):
        return ExprType.NUMBER
    if isinstance(value, str):
        return ExprType.TEXT
    if isinstance(value, date) and not isinstance(value, datetime):
        return ExprType.DATE
    return None


def matches(expected: ExprType, value: object) -> bool:
    """True when a non-null normalized runtime value belongs to `expected`."""
    return expected is ExprType.ANY or runtime_type(value) is expected


def normalize_value(name: str, value: object, declared: ExprType, position: int) -> object:
    """Turn a caller's value for field `name` into the runtime value of its declared type.

    ints become Decimal, Money becomes its Decimal amount, None stays null. Floats are
    refused (code "float_value"); any other mismatch is refused with "invalid_value".
    `position` is where the field is first used, so the error points into the text.
    """
    if value is None:
        return () if declared in LIST_TYPES else None
    if declared in LIST_TYPES:
        if not isinstance(value, tuple | list):
            raise ExprError(f"field '{name}' must hold a list of values", INVALID_VALUE, position)
        element = element_type(declared)
        assert element is not None
        exact = _EXACT[element]
        if all(item is None or type(item) is exact for item in value):
            return tuple(value)  # already runtime values (forms.typed_values gives them)
        return tuple(normalize_value(name, item, element, position) for item in value)
    if isinstance(value, float):
        raise ExprError(
            f"field '{name}' holds a float; pass numbers as Decimal or int so they stay exact",
            FLOAT_VALUE,
            position,
        )
    converted: object
    if isinstance(value, bool):
        converted = value
    elif isinstance(value, int):
        converted = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ExprError(
                f"field '{name}' holds a number that is not finite", INVALID_VALUE, position
            )
        converted = value
    elif isinstance(value, Money):
        converted = value.amount
    elif isinstance(value, datetime):
        raise ExprError(
            f"field '{name}' holds a datetime; pass a date instead", INVALID_VALUE, position
        )
    elif isinstance(value, str | date):
        converted = value
    else:
        raise ExprError(
            f"field '{name}' holds an unsupported value of type {type(value).__name__}",
            INVALID_VALUE,
            position,
        )
    if not matches(declared, converted):
        actual = runtime_type(converted)
        shown = actual.value if actual is not None else type(value).__name__
        raise ExprError(
            f"field '{name}' must hold a {declared.value} value but holds a {shown} value",
            INVALID_VALUE,
            position,
        )
    return converted
