"""Why this module exists: TEXT(value, format) speaks a small, documented subset of Excel's
number and date formats, and a format typed by a builder is checked when the form is
published, not when a clerk submits it.

Number formats: an optional thousands group `#,##`, then `0`, then optionally `.` and one
or more `0` (the decimals), then optionally `%` (the number is multiplied by 100):

    "0"  "0.00"  "#,##0"  "#,##0.00"  "0%"  "0.0%"

Rounding is half away from zero (ROUND_HALF_UP), as Excel; negative zero shows as zero.

Date formats: the tokens `yyyy` (2026), `yy` (26), `mm` (03), `m` (3), `dd` (05), `d` (5),
and any other characters that are not Latin letters, copied as they are:

    "yyyy-mm-dd"  "yyyy/m/d"  "yyyy年m月d日"  "yyyymmdd"  "dd.mm.yy"

A number given a date format, or a date a number format, gives null; text is returned
unchanged (as Excel does) and true/false as TRUE/FALSE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, DecimalException

from flowdesk.engines.expr.runtime import DECIMAL_CONTEXT

# patterns as text: re caches them, and this package has no compile calls at all
_NUMBER_FORMAT = r"(?P<group>#,##)?0(?:\.(?P<decimals>0+))?(?P<percent>%)?"
_DATE_TOKEN = r"yyyy|yy|mm|m|dd|d"
_LATIN_LETTER = r"[A-Za-z]"
MAX_FORMAT_LENGTH = 40
MAX_FORMAT_DECIMALS = 20


@dataclass(frozen=True, slots=True)
class NumberFormat:
    grouped: bool
    decimals: int
    percent: bool


@dataclass(frozen=True, slots=True)
class DateFormat:
    parts: tuple[str, ...]  # tokens and literal runs, in order


Format = NumberFormat | DateFormat


def parse_format(text: str) -> Format | None:
    """The format `text` names, or None when it is outside the subset."""
    if not text or len(text) > MAX_FORMAT_LENGTH:
        return None
    number = re.fullmatch(_NUMBER_FORMAT, text)
    if number is not None:
        decimals = len(number.group("decimals") or "")
        if decimals > MAX_FORMAT_DECIMALS:
            return None
        return NumberFormat(
            grouped=number.group("group") is not None,
            decimals=decimals,
            percent=number.group("percent") is not None,
        )
    parts: list[str] = []
    index = 0
    for token in re.finditer(_DATE_TOKEN, text):
        if token.start() > index:
            parts.append(text[index : token.start()])
        parts.append(token.group())
        index = token.end()
    if index < len(text):
        parts.append(text[index:])
    tokens = [part for part in parts if re.fullmatch(_DATE_TOKEN, part)]
    literal = "".join(part for part in parts if not re.fullmatch(_DATE_TOKEN, part))
    if not tokens or re.search(_LATIN_LETTER, literal):
        return None
    return DateFormat(parts=tuple(parts))


def format_value(value: object, form: Format) -> str | None:
    """`value` shown in `form`; None when the two do not go together."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(form, NumberFormat):
        return format_number(value, form) if isinstance(value, Decimal) else None
    if isinstance(value, date):
        return format_date(value, form)
    return None


def format_number(value: Decimal, form: NumberFormat) -> str | None:
    try:
        if form.percent:
            value = DECIMAL_CONTEXT.multiply(value, Decimal(100))
        rounded = value.quantize(
            Decimal(1).scaleb(-form.decimals), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT
        )
    except DecimalException:
        return None
    if rounded.is_zero():
        rounded = rounded.copy_abs()
    text = format(rounded, ",f" if form.grouped else "f")
    return text + "%" if form.percent else text


_DATE_PARTS = {
    "yyyy": lambda d: f"{d.year:04d}",
    "yy": lambda d: f"{d.year % 100:02d}",
    "mm": lambda d: f"{d.month:02d}",
    "m": lambda d: str(d.month),
    "dd": lambda d: f"{d.day:02d}",
    "d": lambda d: str(d.day),
}


def format_date(value: date, form: DateFormat) -> str:
    return "".join(_DATE_PARTS[part](value) if part in _DATE_PARTS else part for part in form.parts)
