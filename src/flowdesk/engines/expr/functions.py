"""Why this module exists: the function library is data, so adding a function is one entry.

Each `FunctionSpec` says how many arguments a function takes and of which types, what it
returns, and how it runs. The type checker reads the specs to check calls; the compiler
reads them to build closures. A new function is one more entry of `_BUILTINS`.

Run-time rules applied to every eager function by `FunctionSpec.apply`: when
`nulls_give_null` is set a null argument makes the result null without calling the
implementation; an argument of the wrong run-time type (possible only behind ANY
fields) also gives null. Implementations therefore only see the types they declare.

Functions that read the time or the calendar (TODAY, NOW, WORKDAYS) are `context_impl`
entries: they get the `EvalContext` the caller passed to `evaluate` (context.py) and give
null without one, so no function ever reads the host's clock.

SUM, AVERAGE, MIN, MAX and COUNT take any number of values and ignore nulls; a sub-table's
column (`lines.amount`, a NUMBER_LIST) stands for its rows' values (`lists="flatten"`), so
SUM(lines.amount, shipping) adds the rows and one more field (ADR 0036).

Library (names are case-insensitive):
  IF(cond, a, b)        a when cond is true, else b (null cond counts as false); lazy
  IFS(c1, v1, c2, v2…)  the value of the first true condition; null when none; lazy
  AND(c, …)/OR(c, …)    all / any true; null counts as false (also `a and b`)
  NOT(c)                true unless c is true
  SUM(n, …)             exact Decimal sum; nulls ignored; 0 when all are null
  AVERAGE(n, …)         mean of the non-null numbers; null when none
  COUNT(x, …)           how many values are not null (a column: its filled rows)
  COUNTIF(col, crit)    rows of a sub-table's column matching crit: a value, or text
                        with an operator ('>1000', '<>travel', 'tr*'): criteria.py
  TODAY()               the context's date in its timezone (Asia/Shanghai by default)
  NOW()                 the context's instant as UTC text 'YYYY-MM-DDTHH:MM:SSZ'
  DATEDIF(s, e, unit)   whole days 'D', months 'M' or years 'Y' from s to e, as Excel
                        counts them (31 Jan → 28 Feb is 0 months); 'YM' the months
                        and 'MD' the days left over after the whole years / months,
                        'YD' the days since the last anniversary of s (LibreOffice's
                        reading of 'MD': never Excel's negative days); null when e < s;
                        a literal unit other than D/M/Y/YM/MD/YD is a compile error
  WORKDAYS(s, e)        working days from s to e, both included, on the context's
                        business calendar (调休 and holidays); null without a calendar
                        or for a year it does not cover
  CONCAT(x, …)          every value as text ('&' rules), null as empty
  LEFT(t[, n])          first n characters (1 unless given); RIGHT(t[, n]) the last n
  MID(t, start, n)      n characters from position start (1-based)
  TRIM(t)               no spaces at the ends, one between words (Excel's TRIM)
  TEXT(x, format)       a number or date in a format of the subset in textformat.py;
                        a literal format outside it is a compile error
  VALUE(t)              the number written ('1,234.50', '-3', '12.5%'); null if none
  REGEXMATCH(t, p)      whether pattern p occurs in t (kernel/patterns.py: safe regex
                        with a time limit; a literal p is checked at compile time)
  REGEXEXTRACT(t, p)    the first match of p in t, or its first group; null if none
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

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from types import MappingProxyType

import regex

from flowdesk.engines.expr.context import NO_CONTEXT, EvalContext
from flowdesk.engines.expr.criteria import count_matching, criterion_problem
from flowdesk.engines.expr.errors import (
    ARGUMENT_COUNT,
    INVALID_ARGUMENT,
    INVALID_DATE,
    INVALID_PATTERN,
    TYPE_MISMATCH,
    ExprError,
)
from flowdesk.engines.expr.nodes import Node, TextLit
from flowdesk.engines.expr.runtime import DECIMAL_CONTEXT, to_text
from flowdesk.engines.expr.textformat import format_value, parse_format
from flowdesk.engines.expr.valuetypes import (
    LIST_TYPES,
    ExprType,
    accepts,
    element_type,
    matches,
    runtime_type,
)
from flowdesk.kernel.errors import FlowdeskError
from flowdesk.kernel.patterns import PatternError, check_pattern, search

Impl = Callable[[Sequence[object]], object]
ContextImpl = Callable[[Sequence[object], EvalContext], object]
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
    context_impl: eager implementation also taking the EvalContext (TODAY, WORKDAYS), or
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
    context_impl: ContextImpl | None = None
    nulls_give_null: bool = True
    refine: Refine | None = None
    # a sub-table's column may stand where its values are wanted (ADR 0036): "flatten"
    # spreads its values into the arguments (SUM(lines.amount) = SUM(row 1, row 2, …)),
    # "keep" hands the implementation the tuple (COUNTIF)
    lists: str = ""

    def __post_init__(self) -> None:
        given = [self.impl, self.lazy_impl, self.context_impl]
        if sum(impl is not None for impl in given) != 1:
            raise ValueError(f"{self.name} needs exactly one of impl, lazy_impl, context_impl")

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

    def apply(self, args: Sequence[object], context: EvalContext = NO_CONTEXT) -> object:
        """Run the eager implementation under the null and run-time type rules."""
        if self.lists == "flatten":
            args = [item for arg in args for item in (arg if isinstance(arg, tuple) else (arg,))]
            if not args and self.min_args:
                args = [None]  # an empty column: as if every value were empty
        for index, value in enumerate(args):
            if value is None:
                if self.nulls_give_null:
                    return None
            elif not matches(self.param_type(index), value):
                return None
        if self.context_impl is not None:
            return self.context_impl(args, context)
        assert self.impl is not None
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


def _ifs(args: Sequence[Thunk]) -> object:
    for index in range(0, len(args), 2):
        if args[index]() is True:
            return args[index + 1]()
    return None


def _ifs_result(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
    if len(args) % 2:
        raise ExprError(
            "IFS takes pairs of condition and value, but the last condition has no value",
            ARGUMENT_COUNT,
            args[-1].start,
        )
    result = NULL
    for index in range(1, len(args), 2):
        kind = types[index]
        if not accepts(BOOL, types[index - 1]):
            raise ExprError(
                f"argument {index} of IFS must be bool, but this is {types[index - 1].value}",
                TYPE_MISMATCH,
                args[index - 1].start,
            )
        if kind is NULL or kind is result:
            continue
        if result is NULL:
            result = kind
        elif ANY in (kind, result):
            result = ANY
        else:
            raise ExprError(
                f"IFS needs all values of the same type, but got {result.value} and {kind.value}",
                TYPE_MISMATCH,
                args[index].start,
            )
    return result


def _and(args: Sequence[object]) -> object:
    return all(value is True for value in args)


def _or(args: Sequence[object]) -> object:
    return any(value is True for value in args)


def _not(args: Sequence[object]) -> object:
    return args[0] is not True


def _sum(args: Sequence[object]) -> object:
    total = Decimal(0)
    try:
        for number in _numbers(args):
            total = DECIMAL_CONTEXT.add(total, number)
    except DecimalException:
        return None
    return total


def _average(args: Sequence[object]) -> object:
    numbers = _numbers(args)
    if not numbers:
        return None
    total = _sum(numbers)
    if not isinstance(total, Decimal):
        return None
    try:
        return DECIMAL_CONTEXT.divide(total, Decimal(len(numbers)))
    except DecimalException:
        return None


def _count_filled(args: Sequence[object]) -> object:
    return Decimal(sum(1 for value in args if value is not None))


def _countif(args: Sequence[object]) -> object:
    values, criterion = args
    assert isinstance(values, tuple)
    sample = next((value for value in values if value is not None), "")
    element = runtime_type(sample) or TEXT
    return count_matching(values, criterion, element)


def _countif_result(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
    element = element_type(types[0])
    if element is None:
        raise ExprError(
            "COUNTIF counts the rows of a sub-table's column, such as COUNTIF(lines.type, "
            "'travel')",
            TYPE_MISMATCH,
            args[0].start,
        )
    given = types[1]
    if given in LIST_TYPES or given not in (TEXT, element, NULL, ANY):
        raise ExprError(
            f"the criterion of COUNTIF is text such as '>1000' or a {element.value} value, "
            f"but this is {given.value}",
            TYPE_MISMATCH,
            args[1].start,
        )
    literal = args[1]
    if isinstance(literal, TextLit):
        problem = criterion_problem(literal.value, element)
        if problem is not None:
            raise ExprError(problem, INVALID_ARGUMENT, literal.position)
    return NUMBER


def _today(args: Sequence[object], context: EvalContext) -> object:
    return context.today()


def _now(args: Sequence[object], context: EvalContext) -> object:
    if context.now is None:
        return None
    moment = context.now.astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


DATEDIF_UNITS = ("D", "M", "Y", "YM", "MD", "YD")


def whole_months_between(start: date, end: date) -> int:
    """Complete months from start to end (end >= start), as Excel's DATEDIF "M" counts them:
    31 January to 28 February is 0 months, 31 January to 31 March 2."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _datedif(args: Sequence[object]) -> object:
    start, end, unit = args
    assert isinstance(start, date) and isinstance(end, date) and isinstance(unit, str)
    if end < start:  # Excel's #NUM!
        return None
    unit = unit.strip().upper()
    if unit == "D":
        return Decimal((end - start).days)
    if unit == "M":
        return Decimal(whole_months_between(start, end))
    if unit == "Y":
        return Decimal(whole_months_between(start, end) // 12)
    if unit == "YM":
        return Decimal(whole_months_between(start, end) % 12)
    if unit == "MD":  # the days from the last whole month after start to end
        return Decimal((end - _months_later(start, whole_months_between(start, end))).days)
    if unit == "YD":  # the days from the last anniversary of start to end
        years = whole_months_between(start, end) // 12
        return Decimal((end - _months_later(start, 12 * years)).days)
    return None


def _months_later(day: date, months: int) -> date:
    """`day` moved `months` calendar months on, its day kept where the month has it and
    the month's last day otherwise (31 January + 1 month = 28 February)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _datedif_result(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
    unit = args[2]
    if isinstance(unit, TextLit) and unit.value.strip().upper() not in DATEDIF_UNITS:
        raise ExprError(
            "DATEDIF counts in 'D' (days), 'M' (whole months), 'Y' (whole years), 'YM' "
            "(months past the whole years), 'MD' (days past the whole months) or 'YD' "
            "(days past the whole years)",
            INVALID_ARGUMENT,
            unit.position,
        )
    return NUMBER


def _workdays(args: Sequence[object], context: EvalContext) -> object:
    start, end = args
    assert isinstance(start, date) and isinstance(end, date)
    if context.calendar is None:
        return None
    try:
        return Decimal(context.calendar.workdays(start, end))
    except FlowdeskError:  # a year the calendar does not cover
        return None


def _concat(args: Sequence[object]) -> object:
    return "".join(to_text(value) for value in args)


def _count(value: object) -> int | None:
    """A character count argument: a whole number from 0, else None."""
    if not isinstance(value, Decimal) or value < 0 or value > MAX_TEXT_COUNT:
        return None
    return int(value)  # Excel truncates a fractional count


MAX_TEXT_COUNT = 1_000_000


def _left(args: Sequence[object]) -> object:
    text = args[0]
    count = _count(args[1]) if len(args) > 1 else 1
    assert isinstance(text, str)
    return None if count is None else text[:count]


def _right(args: Sequence[object]) -> object:
    text = args[0]
    count = _count(args[1]) if len(args) > 1 else 1
    assert isinstance(text, str)
    if count is None:
        return None
    return text[len(text) - count :] if count < len(text) else text


def _mid(args: Sequence[object]) -> object:
    text, start_value, count_value = args
    assert isinstance(text, str)
    start = _count(start_value)
    count = _count(count_value)
    if start is None or start < 1 or count is None:
        return None
    return text[start - 1 : start - 1 + count]


def _trim(args: Sequence[object]) -> object:
    text = args[0]
    assert isinstance(text, str)
    # Excel's TRIM: no spaces at the ends, one space between words (only ' ' counts).
    return " ".join(part for part in text.split(" ") if part)


def _text(args: Sequence[object]) -> object:
    value, format_text = args
    assert isinstance(format_text, str)
    form = parse_format(format_text)
    return None if form is None else format_value(value, form)


def _text_result(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
    literal = args[1]
    if isinstance(literal, TextLit) and parse_format(literal.value) is None:
        raise ExprError(
            "TEXT knows the number formats '0', '0.00', '#,##0.00', '0%' and the date "
            "formats made of yyyy, yy, mm, m, dd, d (e.g. 'yyyy-mm-dd')",
            INVALID_ARGUMENT,
            literal.position,
        )
    return TEXT


_VALUE_TEXT = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?%?"


def _value(args: Sequence[object]) -> object:
    text = args[0]
    assert isinstance(text, str)
    cleaned = text.strip()
    if len(cleaned) > 100 or re.fullmatch(_VALUE_TEXT, cleaned) is None:
        return None
    percent = cleaned.endswith("%")
    number = Decimal(cleaned.rstrip("%").replace(",", ""))
    return DECIMAL_CONTEXT.divide(number, Decimal(100)) if percent else number


def _regex_search(text: str, pattern: str) -> regex.Match[str] | bool | None:
    """The first match, None for none, False when the pattern is bad or too slow."""
    try:
        return search(pattern, text)
    except (TimeoutError, regex.error):
        return False


def _regexmatch(args: Sequence[object]) -> object:
    text, pattern = args
    assert isinstance(text, str) and isinstance(pattern, str)
    found = _regex_search(text, pattern)
    return None if found is False else found is not None


def _regexextract(args: Sequence[object]) -> object:
    text, pattern = args
    assert isinstance(text, str) and isinstance(pattern, str)
    found = _regex_search(text, pattern)
    if not isinstance(found, regex.Match):
        return None
    return found.group(1) if found.re.groups else found.group(0)


REGEX_PROBE_LENGTH = 200


def _regex_result(result: ExprType) -> Refine:
    def refine(types: Sequence[ExprType], args: Sequence[Node]) -> ExprType:
        literal = args[1]
        if isinstance(literal, TextLit):
            try:
                check_pattern(literal.value, REGEX_PROBE_LENGTH)
            except PatternError as exc:
                raise ExprError(exc.message, INVALID_PATTERN, literal.position) from None
        return result

    return refine


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
        lists="flatten",
        result=NUMBER,
        impl=_min,
        nulls_give_null=False,
        summary="MIN(number, ...): nulls are ignored",
    ),
    FunctionSpec(
        name="MAX",
        params=(NUMBER,),
        rest=NUMBER,
        lists="flatten",
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
    FunctionSpec(
        name="IFS",
        params=(BOOL, ANY),
        rest=ANY,
        result=ANY,
        refine=_ifs_result,
        lazy_impl=_ifs,
        summary="IFS(condition, value, condition, value, ...): the first true one's value",
    ),
    FunctionSpec(
        name="AND",
        params=(BOOL,),
        rest=BOOL,
        result=BOOL,
        impl=_and,
        nulls_give_null=False,
        summary="AND(condition, ...): all true; null counts as false",
    ),
    FunctionSpec(
        name="OR",
        params=(BOOL,),
        rest=BOOL,
        result=BOOL,
        impl=_or,
        nulls_give_null=False,
        summary="OR(condition, ...): any true; null counts as false",
    ),
    FunctionSpec(
        name="NOT",
        params=(BOOL,),
        result=BOOL,
        impl=_not,
        nulls_give_null=False,
        summary="NOT(condition): null counts as false",
    ),
    FunctionSpec(
        name="SUM",
        params=(NUMBER,),
        rest=NUMBER,
        lists="flatten",
        result=NUMBER,
        impl=_sum,
        nulls_give_null=False,
        summary="SUM(number, ...): nulls are ignored; 0 if all are null",
    ),
    FunctionSpec(
        name="AVERAGE",
        params=(NUMBER,),
        rest=NUMBER,
        lists="flatten",
        result=NUMBER,
        impl=_average,
        nulls_give_null=False,
        summary="AVERAGE(number, ...): nulls are ignored; null if all are null",
    ),
    FunctionSpec(
        name="COUNT",
        params=(ANY,),
        rest=ANY,
        result=NUMBER,
        impl=_count_filled,
        nulls_give_null=False,
        lists="flatten",
        summary="COUNT(value, ...): how many are not empty; a column counts its filled rows",
    ),
    FunctionSpec(
        name="COUNTIF",
        params=(ANY, ANY),
        result=NUMBER,
        refine=_countif_result,
        impl=_countif,
        lists="keep",
        summary="COUNTIF(column, criterion): rows matching, e.g. COUNTIF(lines.amount, '>1000')",
    ),
    FunctionSpec(
        name="TODAY",
        params=(),
        result=DATE,
        context_impl=_today,
        summary="TODAY(): today's date in the bank's timezone, from the injected clock",
    ),
    FunctionSpec(
        name="NOW",
        params=(),
        result=TEXT,
        context_impl=_now,
        summary="NOW(): the moment as UTC text 'YYYY-MM-DDTHH:MM:SSZ', like datetime fields",
    ),
    FunctionSpec(
        name="DATEDIF",
        params=(DATE, DATE, TEXT),
        result=NUMBER,
        refine=_datedif_result,
        impl=_datedif,
        summary="DATEDIF(start, end, 'D'|'M'|'Y'|'YM'|'MD'|'YD'): whole days, months or "
        "years, or what is left past them",
    ),
    FunctionSpec(
        name="WORKDAYS",
        params=(DATE, DATE),
        result=NUMBER,
        context_impl=_workdays,
        summary="WORKDAYS(start, end): working days, both included, on the business calendar",
    ),
    FunctionSpec(
        name="CONCAT",
        params=(ANY,),
        rest=ANY,
        result=TEXT,
        impl=_concat,
        nulls_give_null=False,
        summary="CONCAT(value, ...): joined as text, null as empty",
    ),
    FunctionSpec(
        name="LEFT",
        params=(TEXT, NUMBER),
        required=1,
        result=TEXT,
        impl=_left,
        summary="LEFT(text[, count]): the first count characters (1 unless given)",
    ),
    FunctionSpec(
        name="RIGHT",
        params=(TEXT, NUMBER),
        required=1,
        result=TEXT,
        impl=_right,
        summary="RIGHT(text[, count]): the last count characters (1 unless given)",
    ),
    FunctionSpec(
        name="MID",
        params=(TEXT, NUMBER, NUMBER),
        result=TEXT,
        impl=_mid,
        summary="MID(text, start, count): count characters from position start (1-based)",
    ),
    FunctionSpec(
        name="TRIM",
        params=(TEXT,),
        result=TEXT,
        impl=_trim,
        summary="TRIM(text): no spaces at the ends, one between words",
    ),
    FunctionSpec(
        name="TEXT",
        params=(ANY, TEXT),
        result=TEXT,
        refine=_text_result,
        impl=_text,
        summary="TEXT(value, format): a number or date shown in a format (see textformat)",
    ),
    FunctionSpec(
        name="VALUE",
        params=(TEXT,),
        result=NUMBER,
        impl=_value,
        summary="VALUE(text): the number written, e.g. '1,234.50' or '12%'; null if none",
    ),
    FunctionSpec(
        name="REGEXMATCH",
        params=(TEXT, TEXT),
        result=BOOL,
        refine=_regex_result(BOOL),
        impl=_regexmatch,
        summary="REGEXMATCH(text, pattern): whether the pattern occurs in the text",
    ),
    FunctionSpec(
        name="REGEXEXTRACT",
        params=(TEXT, TEXT),
        result=TEXT,
        refine=_regex_result(TEXT),
        impl=_regexextract,
        summary="REGEXEXTRACT(text, pattern): the first match (its first group if any)",
    ),
)

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({f.name: f for f in _BUILTINS})
"""The built-in library by upper-case name."""
