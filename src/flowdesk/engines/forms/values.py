"""Stored values seen two other ways: as expression inputs and as text on the ticket page.

Stored values are JSON (money as "120000.00"); expressions compute with Decimal
and dates, and people read "120,000.00 CNY" or the option's label.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import identity, regions
from .spec import DEFAULT_TIMEZONE, FieldSpec, FieldType, FormSpec, is_zh

_EXPRESSION_TYPES = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "text",
    FieldType.EMAIL: "text",
    FieldType.CHOICE: "text",
    FieldType.INTEGER: "number",
    FieldType.DECIMAL: "number",
    FieldType.MONEY: "number",
    FieldType.BOOLEAN: "bool",
    FieldType.DATE: "date",
    FieldType.USER: "text",
    FieldType.USERS: "text",
    FieldType.DEPARTMENT: "text",
    FieldType.RESIDENT_ID: "text",
    FieldType.MOBILE: "text",
    FieldType.LANDLINE: "text",
    FieldType.BANK_CARD: "text",
    FieldType.CREDIT_CODE: "text",
    FieldType.PERCENT: "number",  # 12.5 for 12.5 %
    FieldType.RATING: "number",
    # UTC "2026-12-03T05:30:00Z": compares in time order as text until expressions have a
    # date-time type of their own
    FieldType.DATETIME: "text",
    FieldType.MULTI_CHOICE: "text",  # the chosen values joined by "," in option order
    FieldType.URL: "text",
    FieldType.REGION: "text",
    FieldType.AUTO_NUMBER: "text",  # LN-2026-000123, given when the form is filed
    FieldType.LINK: "text",  # the linked ids joined by ","
    FieldType.ROLLUP: "number",  # read live (ADR 0038): not an input of formulas yet
}


NUMBER_TYPES = frozenset(
    {
        FieldType.MONEY,
        FieldType.DECIMAL,
        FieldType.INTEGER,
        FieldType.PERCENT,
        FieldType.RATING,
    }
)


def expression_types(form: FormSpec) -> dict[str, str]:
    """Field key → "number", "text", "bool" or "date", the types expressions see; a formula
    field's is its `result` (inferred when the app is published, ADR 0031)."""
    return {f.key: expression_type(f) for f in form.fields}


def expression_type(field: FieldSpec) -> str:
    if field.type is FieldType.FORMULA:
        return field.result or "text"
    return _EXPRESSION_TYPES[field.type]


def typed_values(form: FormSpec, stored: Mapping[str, object]) -> dict[str, object]:
    """Stored JSON values → runtime values: numbers as Decimal, dates as date.

    Every field of the form gets a key; an absent value is None. Keys that are not
    fields of the form are ignored. Raises ValueError for a stored value of the
    wrong shape (a corrupted record), naming only the field.
    """
    out: dict[str, object] = {}
    for field in form.fields:
        value = stored.get(field.key)
        out[field.key] = None if value is None else _typed(field, value)
    return out


def _typed(field: FieldSpec, value: object) -> object:
    kind = field.type
    if kind is FieldType.FORMULA:
        return _typed_result(field, value)
    try:
        if kind in NUMBER_TYPES:
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return Decimal(value)
        elif kind is FieldType.MULTI_CHOICE:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return ",".join(value)
        elif kind is FieldType.DATE:
            if isinstance(value, str):
                return date.fromisoformat(value)
        elif kind is FieldType.BOOLEAN:
            if isinstance(value, bool):
                return value
        elif isinstance(value, str):
            return value
    except (ArithmeticError, ValueError):
        pass
    raise ValueError(f"stored value of field {field.key!r} has the wrong shape")


def _typed_result(field: FieldSpec, value: object) -> object:
    result = field.result or "text"
    try:
        if result == "number" and isinstance(value, str | int) and not isinstance(value, bool):
            return Decimal(value)
        if result == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        if result == "bool" and isinstance(value, bool):
            return value
        if result == "text" and isinstance(value, str):
            return value
    except (ArithmeticError, ValueError):
        pass
    raise ValueError(f"stored value of field {field.key!r} has the wrong shape")


def masked_value(field: FieldSpec, stored_value: object) -> object:
    """A personal field's stored value as everyone sees it by default (RELIABILITY promise
    8): resident ID first 3 + last 4, mobile first 3 + last 4 of the national number, bank
    card first 6 + last 4; other fields' values unchanged."""
    if not field.personal or not isinstance(stored_value, str):
        return stored_value
    return mask_number(field.type, stored_value)


def mask_number(kind: FieldType, stored_value: str) -> str:
    """A stored resident ID, mobile or bank card number masked; other types unchanged."""
    if kind is FieldType.RESIDENT_ID:
        return identity.masked_resident_id(stored_value)
    if kind is FieldType.MOBILE:
        return identity.masked_mobile(stored_value)
    if kind is FieldType.BANK_CARD:
        return identity.masked_bank_card(stored_value)
    return stored_value


def masked_values(form: FormSpec, stored: Mapping[str, object]) -> dict[str, object]:
    """The stored values with every personal field masked (what API answers carry)."""
    fields = {f.key: f for f in form.fields}
    return {
        key: masked_value(fields[key], value) if key in fields else value
        for key, value in stored.items()
    }


def is_masked_echo(field: FieldSpec, posted: object, stored_value: object) -> bool:
    """True when `posted` is the masked form of the stored value, sent back unchanged by a
    form that showed it masked: it must keep the stored value, never replace it."""
    if not field.personal or not isinstance(posted, str) or stored_value is None:
        return False
    return posted.strip() == masked_value(field, stored_value)


def restore_masked(
    form: FormSpec, posted: Mapping[str, object], stored: Mapping[str, object]
) -> dict[str, object]:
    """`posted` with every masked echo (a personal field sent back as it was shown) replaced
    by the stored value, so resubmitting a whole form never overwrites a number with its
    mask; any other masked text is left for validation to refuse (`masked_value`)."""
    fields = {f.key: f for f in form.fields}
    return {
        key: stored[key]
        if key in fields and is_masked_echo(fields[key], value, stored.get(key))
        else value
        for key, value in posted.items()
    }


def display_value(
    field: FieldSpec,
    stored_value: object,
    locale: str,
    *,
    unmasked: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """The stored value as people read it; "" when absent. Personal fields are masked
    unless the caller was allowed to unmask them (`unmasked`); a date and time is shown
    in `timezone`."""
    if stored_value is None:
        return ""
    kind = field.type
    if field.personal and not unmasked:
        return str(masked_value(field, stored_value))
    if kind is FieldType.FORMULA:
        if isinstance(stored_value, bool):
            return (
                ("是" if stored_value else "否")
                if is_zh(locale)
                else ("Yes" if stored_value else "No")
            )
        if field.result == "number":
            number = Decimal(str(stored_value))
            places = max(0, -int(number.as_tuple().exponent))
            return f"{number:,.{places}f}"
        return str(stored_value)
    if kind is FieldType.PERCENT:
        return f"{Decimal(str(stored_value)):,.{field.decimals or 0}f}%"
    if kind is FieldType.RATING:
        top = int(field.max or 5)
        stars = int(str(stored_value))
        return "★" * stars + "☆" * max(0, top - stars) + f" {stars}/{top}"
    if kind is FieldType.DATETIME:
        moment = datetime.fromisoformat(str(stored_value))
        return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    if kind is FieldType.MULTI_CHOICE:
        chosen = stored_value if isinstance(stored_value, list) else [stored_value]
        labels = [_option_label(field, str(value), locale) for value in chosen]
        return ("、" if is_zh(locale) else ", ").join(labels)
    if kind is FieldType.REGION:
        path = regions.region_path(str(stored_value))
        return " ".join(path) if path else str(stored_value)
    if kind in (FieldType.MOBILE, FieldType.LANDLINE):
        return identity.phone_display(str(stored_value))
    if kind is FieldType.BANK_CARD:
        return identity.card_display(str(stored_value))
    if kind in (FieldType.MONEY, FieldType.DECIMAL, FieldType.INTEGER):
        number = Decimal(str(stored_value))
        text = f"{number:,.{field.decimals or 0}f}"
        return f"{text} {field.currency}" if kind is FieldType.MONEY else text
    if kind is FieldType.BOOLEAN:
        if is_zh(locale):
            return "是" if stored_value else "否"
        return "Yes" if stored_value else "No"
    if kind is FieldType.CHOICE:
        return _option_label(field, str(stored_value), locale)
    return str(stored_value)


def _option_label(field: FieldSpec, value: str, locale: str) -> str:
    option = field.option(value)
    return option.label.get(locale) if option else value
