"""Why this module exists: the function library is data, so adding a function is one entry.

Each `FunctionSpec` says how many arguments a function takes and of which types, what it
returns, and how it runs. The type checker reads the specs to check calls; the compiler
reads them to build closures. Later issues add functions (TODAY with an injected clock,
date arithmetic, text helpers) by appending to `_BUILTINS`.

Run-time rules applied to every eager function by `FunctionSpec.apply`: when
`nulls_give_null` is set a null argument makes the result null without calling the
implementation; an argument of the wrong run-time type (possible only behind ANY
fields) also gives null. Implementations therefore only see the types they declare.

Library (names are case-insensitive):
  IF(cond, a, b)        a when cond is true, else b (null cond counts as false); lazy
  ABS(n)                absolute value
  ROUND(n[, digits])    half away from zero, as Excel; digits may be negative (-100..100)
  MIN(n, ...)/MAX(...)  smallest/largest number, ignoring nulls; null if all are null
  LEN(t)                number of characters; 0 for null
  UPPER(t)/LOWER(t)     case conversion
  CONTAINS(t, part)     true when `part` occurs in `t` (case-sensitive); false for nulls
  ISBLANK(x)            true for null and for text that is empty or only spaces
  DATE(t)               the date written 'YYYY-MM-DD'; a bad literal is a compile error
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from types import MappingProxyType

from flowdesk.engines.expr.errors import INVALID_DATE, TYPE_MISMATCH, ExprError
from flowdesk.engines.expr.nodes import Node, TextLit
from flowdesk.engines.expr.runtime import DECIMAL_CONTEXT
from flowdesk.engines.expr.valuetypes import ExprType, matches

Impl = Callable[[Sequence[object]], object]
Thunk = Callable[[], object]
LazyImpl = Callable[[Sequence[Thunk]], object]
Refine = Callable[[Sequence[ExprType], Sequence[Node]], ExprType]

NUMBER = ExprType.NUMBER
TEXT = ExprType.TEXT
BOOL = ExprType.BOOL
DATE = ExprType.DATE
NULL = ExprType.NULL
ANY = ExprType.ANY


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSpec:
    """One library function.

    params:    types of the positional parameters
    required:  how many of `params` must be given (default: all)
    rest:      type of any number of further arguments (variadic), or None
    result:    result type, unless `refine` computes it from the argument types
    refine:    (arg types, arg nodes) -> result type; may raise ExprError
    impl:      eager implementation taking the evaluated arguments, or
    lazy_impl: implementation taking one thunk per argument (for IF)
    """

    name: str
    params: tuple[ExprType, ...]
    result: ExprType
    summary: str
    required: int | None = None
    rest: ExprType | None = None
    impl: Impl | None = None
    lazy_impl: LazyImpl | None = None
    nulls_give_null: bool = True
    refine: Refine | None = None

    def __post_init__(self) -> None:
        if (self.impl is None) == (self.lazy_impl is None):
            raise ValueError(f"{self.name} needs exactly one of impl and lazy_impl")

    @property
    def min_args(self) -> int:
        return len(self.params) if self.required is None else self.required

    @property
    def max_args(self) -> int | None:
        return None if self.rest is not None else len(self.params)

    def param_type(self, index: int) -> ExprType:
        if index < len(self.params):
            return self.params[index]
        assert self.rest is not None
        return self.rest

    def arity_text(self) -> str:
        """E.g. '1 argument', '1 to 2 arguments', 'at least 1 argument'."""
        low, high = self.min_args, self.max_args
        if high is None:
            return f"at least {_plural(low)}"
        if low == high:
            return _plural(low)
        return f"{low} to {high} arguments"

    def apply(self, args: Sequence[object]) -> object:
        """Run the eager implementation under the null and run-time type rules."""
        assert self.impl is not None
        for index, value in enumerate(args):
            if value is None:
                if self.nulls_give_null:
                    return None
            elif not matches(self.param_type(index), value):
                return None
        return self.impl(args)


def _plural(count: int) -> str:
    return f"{count} argument" if count == 1 else f"{count} arguments"


_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def parse_iso_date(text: str) -> date | None:
    """The date written exactly as 'YYYY-MM-DD', or None."""
    if re.fullmatch(_ISO_DATE, text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# -- implementations -----------------------------------------------------------------


def _if(args: Sequence[Thunk]) -> object:
    return args[1]() if args[0]() is True else args[2]()


def _if_result(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
    first, second = types[1], types[2]
    if first is NULL:
        return second
    if second is NULL or first is second:
        return first
    if ANY in (first, second):
        return ANY
    raise ExprError(
        f"IF needs both results of the same type, but got {first.value} and {second.value}",
        TYPE_MISMATCH,
        args[2].start,
    )


def _abs(args: Sequence[object]) -> object:
    value = args[0]
    assert isinstance(value, Decimal)
    return value.copy_abs()


_MAX_ROUND_DIGITS = 100


def _round(args: Sequence[object]) -> object:
    value = args[0]
    assert isinstance(value, Decimal)
    digits_value = args[1] if len(args) > 1 else Decimal(0)
    assert isinstance(digits_value, Decimal)
    if digits_value.copy_abs() > _MAX_ROUND_DIGITS:
        return None
    digits = int(digits_value)  # Excel truncates a fractional digit count
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -digits and digits >= 0:
        # Already has no more decimals than asked for; pad to them when precision allows.
        try:
            return value.quantize(Decimal(1).scaleb(-digits), context=DECIMAL_CONTEXT)
        except DecimalException:
            return value
    try:
        rounded = value.quantize(
            Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT
        )
        if digits < 0:
            rounded = rounded.quantize(Decimal(1), context=DECIMAL_CONTEXT)
    except DecimalException:
        return None
    return rounded


def _numbers(args: Sequence[object]) -> list[Decimal]:
    return [value for value in args if isinstance(value, Decimal)]


def _min(args: Sequence[object]) -> object:
    numbers = _numbers(args)
    return min(numbers) if numbers else None


def _max(args: Sequence[object]) -> object:
    numbers = _numbers(args)
    return max(numbers) if numbers else None


def _len(args: Sequence[object]) -> object:
    value = args[0]
    return Decimal(len(value)) if isinstance(value, str) else Decimal(0)


def _upper(args: Sequence[object]) -> object:
    value = args[0]
    assert isinstance(value, str)
    return value.upper()


def _lower(args: Sequence[object]) -> object:
    value = args[0]
    assert isinstance(value, str)
    return value.lower()


def _contains(args: Sequence[object]) -> object:
    text, part = args
    return isinstance(text, str) and isinstance(part, str) and part in text


def _isblank(args: Sequence[object]) -> object:
    value = args[0]
    return value is None or (isinstance(value, str) and not value.strip())


def _date(args: Sequence[object]) -> object:
    value = args[0]
    assert isinstance(value, str)
    return parse_iso_date(value)


def _date_result(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
    literal = args[0]
    if isinstance(literal, TextLit) and parse_iso_date(literal.value) is None:
        raise ExprError(
            "DATE needs a real date written as 'YYYY-MM-DD', e.g. DATE('2026-01-31')",
            INVALID_DATE,
            literal.position,
        )
    return DATE


_BUILTINS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="IF",
        params=(BOOL, ANY, ANY),
        result=ANY,
        refine=_if_result,
        lazy_impl=_if,
        summary="IF(condition, value if true, value if false)",
    ),
    FunctionSpec(name="ABS", params=(NUMBER,), result=NUMBER, impl=_abs, summary="ABS(number)"),
    FunctionSpec(
        name="ROUND",
        params=(NUMBER, NUMBER),
        required=1,
        result=NUMBER,
        impl=_round,
        summary="ROUND(number, digits): half away from zero",
    ),
    FunctionSpec(
        name="MIN",
        params=(NUMBER,),
        rest=NUMBER,
        result=NUMBER,
        impl=_min,
        nulls_give_null=False,
        summary="MIN(number, ...): nulls are ignored",
    ),
    FunctionSpec(
        name="MAX",
        params=(NUMBER,),
        rest=NUMBER,
        result=NUMBER,
        impl=_max,
        nulls_give_null=False,
        summary="MAX(number, ...): nulls are ignored",
    ),
    FunctionSpec(
        name="LEN",
        params=(TEXT,),
        result=NUMBER,
        impl=_len,
        nulls_give_null=False,
        summary="LEN(text): number of characters, 0 for null",
    ),
    FunctionSpec(name="UPPER", params=(TEXT,), result=TEXT, impl=_upper, summary="UPPER(text)"),
    FunctionSpec(name="LOWER", params=(TEXT,), result=TEXT, impl=_lower, summary="LOWER(text)"),
    FunctionSpec(
        name="CONTAINS",
        params=(TEXT, TEXT),
        result=BOOL,
        impl=_contains,
        nulls_give_null=False,
        summary="CONTAINS(text, part): case-sensitive",
    ),
    FunctionSpec(
        name="ISBLANK",
        params=(ANY,),
        result=BOOL,
        impl=_isblank,
        nulls_give_null=False,
        summary="ISBLANK(value): null, or text that is empty or only spaces",
    ),
    FunctionSpec(
        name="DATE",
        params=(TEXT,),
        result=DATE,
        refine=_date_result,
        impl=_date,
        summary="DATE('YYYY-MM-DD')",
    ),
)

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({f.name: f for f in _BUILTINS})
"""The built-in library by upper-case name."""
