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
    FieldType.ATTACHMENT: "text",  # the file ids joined by ",": ISBLANK tells none
    FieldType.AUTO_NUMBER: "text",  # LN-2026-000123, given when the form is filed
    FieldType.LINK: "text",  # the linked ids joined by ","
    FieldType.ROLLUP: "number",  # read live (ADR 0038): not an input of formulas yet
}


# stored as a list of texts (choices, file ids, linked record ids), seen by expressions
# as the texts joined by ","
_LIST_TYPES = frozenset((FieldType.MULTI_CHOICE, FieldType.ATTACHMENT, FieldType.LINK))

NUMBER_TYPES = frozenset(
    {
        FieldType.MONEY,
        FieldType.DECIMAL,
        FieldType.INTEGER,
        FieldType.PERCENT,
        FieldType.RATING,
    }
)


# what a sub-table's column is to expressions: the list of its rows' values (ADR 0036)
LIST_SUFFIX = "_list"


def expression_types(form: FormSpec) -> dict[str, str]:
    """Field key → "number", "text", "bool" or "date", the types expressions see; a formula
    field's is its `result` (inferred when the app is published, ADR 0031). A sub-table is
    its columns, `lines.amount` → "number_list" (the column's type + "_list")."""
    types: dict[str, str] = {}
    for f in form.fields:
        if f.type is FieldType.TABLE:
            for column in f.columns:
                types[column_name(f.key, column.key)] = expression_type(column) + LIST_SUFFIX
        else:
            types[f.key] = expression_type(f)
    return types


def column_name(table: str, column: str) -> str:
    """How an expression names a sub-table's column: `lines.amount`."""
    return f"{table}.{column}"


def expression_type(field: FieldSpec) -> str:
    if field.type is FieldType.FORMULA:
        return field.result or "text"
    if field.type is FieldType.TABLE:
        raise ValueError("a table is its columns to expressions: see expression_types")
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
        if field.type is FieldType.TABLE:
            out.update(typed_columns(field, value))
        else:
            out[field.key] = None if value is None else _typed(field, value)
    return out


def typed_columns(field: FieldSpec, rows: object) -> dict[str, tuple[object, ...]]:
    """A stored sub-table as its columns' runtime values, one per row (None where empty):
    `{"lines.amount": (Decimal("12.50"), None, …)}`; no rows give empty columns."""
    listed = rows if isinstance(rows, list) else []
    if rows is not None and not isinstance(rows, list):
        raise ValueError(f"stored value of field {field.key!r} has the wrong shape")
    out: dict[str, tuple[object, ...]] = {}
    for column in field.columns:
        cells: list[object] = []
        for row in listed:
            cell = row.get(column.key) if isinstance(row, dict) else None
            cells.append(None if cell is None else _typed(column, cell))
        out[column_name(field.key, column.key)] = tuple(cells)
    return out


def typed_value(field: FieldSpec, value: object) -> object:
    """One stored value of a (non-table) field as its runtime value; None stays None."""
    return None if value is None else _typed(field, value)


def _typed(field: FieldSpec, value: object) -> object:
    kind = field.type
    if kind is FieldType.FORMULA:
        return _typed_result(field, value)
    try:
        if kind in NUMBER_TYPES:
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return Decimal(value)
        elif kind in _LIST_TYPES:
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
    if field.type is FieldType.TABLE:
        return _masked_rows(field, stored_value)
    if not field.personal or not isinstance(stored_value, str):
        return stored_value
    return mask_number(field.type, stored_value)


def _masked_rows(field: FieldSpec, rows: object) -> object:
    """Each row of a sub-table with its personal columns masked."""
    if not field.personal or not isinstance(rows, list):
        return rows
    return [
        {k: masked_value(c, v) if (c := field.column(k)) else v for k, v in row.items()}
        if isinstance(row, dict)
        else row
        for row in rows
    ]


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
    if field.type is FieldType.TABLE:
        return posted == masked_value(field, stored_value) and stored_value is not None
    if not field.personal or not isinstance(posted, str) or stored_value is None:
        return False
    return posted.strip() == masked_value(field, stored_value)


def restore_masked_rows(field: FieldSpec, posted: object, stored_value: object) -> object:
    """A sub-table sent back with each personal cell that is the mask of the stored cell
    of the same row (rows by position) replaced by the stored number; other cells as
    posted (a changed or moved row's masked text is refused by validation)."""
    if not field.personal or not isinstance(posted, list) or not isinstance(stored_value, list):
        return posted
    restored: list[object] = []
    for index, row in enumerate(posted):
        before = stored_value[index] if index < len(stored_value) else None
        if not isinstance(row, dict) or not isinstance(before, dict):
            restored.append(row)
            continue
        restored.append(
            {
                key: before[key]
                if (column := field.column(key)) is not None
                and is_masked_echo(column, value, before.get(key))
                else value
                for key, value in row.items()
            }
        )
    return restored


def restore_masked(
    form: FormSpec, posted: Mapping[str, object], stored: Mapping[str, object]
) -> dict[str, object]:
    """`posted` with every masked echo (a personal field sent back as it was shown) replaced
    by the stored value, so resubmitting a whole form never overwrites a number with its
    mask; any other masked text is left for validation to refuse (`masked_value`)."""
    fields = {f.key: f for f in form.fields}
    restored: dict[str, object] = {}
    for key, value in posted.items():
        field = fields.get(key)
        if field is not None and field.type is FieldType.TABLE:
            restored[key] = restore_masked_rows(field, value, stored.get(key))
        elif field is not None and is_masked_echo(field, value, stored.get(key)):
            restored[key] = stored[key]
        else:
            restored[key] = value
    return restored


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
    if kind is FieldType.TABLE:
        return table_summary(field, stored_value, locale)
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
    if kind is FieldType.ATTACHMENT:  # the page lists the files themselves
        count = len(stored_value) if isinstance(stored_value, list) else 1
        return f"{count} 个文件" if is_zh(locale) else f"{count} file" + ("s" * (count != 1))
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


def table_summary(field: FieldSpec, rows: object, locale: str) -> str:
    """A sub-table in one line, for lists and exports: its row count and the total of each
    money column and number formula ("3 rows; Amount total 1,234.50 CNY", in Chinese
    "3 行；金额合计 1,234.50 CNY")."""
    listed = rows if isinstance(rows, list) else []
    zh = is_zh(locale)
    parts = [
        f"{len(listed)} 行" if zh else f"{len(listed)} row" + ("" if len(listed) == 1 else "s")
    ]
    for column, total in column_totals(field, listed):
        text = display_value(column, format(total, "f"), locale)
        label = column.label.get(locale)
        parts.append(f"{label}合计 {text}" if zh else f"{label} total {text}")
    return ("；" if zh else "; ").join(parts)


def column_totals(field: FieldSpec, rows: list[object]) -> list[tuple[FieldSpec, Decimal]]:
    """Each money column of a sub-table, and each row formula giving a number, with the
    sum of its rows (exact Decimal)."""
    totals: list[tuple[FieldSpec, Decimal]] = []
    for column in field.columns:
        summed = column.type is FieldType.MONEY or (
            column.type is FieldType.FORMULA and column.result == "number"
        )
        if not summed:
            continue
        total = Decimal(0)
        for row in rows:
            cell = row.get(column.key) if isinstance(row, dict) else None
            if isinstance(cell, str | int) and not isinstance(cell, bool):
                total += Decimal(cell)
        totals.append((column, total))
    return totals


def _option_label(field: FieldSpec, value: str, locale: str) -> str:
    option = field.option(value)
    return option.label.get(locale) if option else value
