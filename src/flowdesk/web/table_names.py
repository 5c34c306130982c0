"""The names a sub-table's cells post under (`lines[2].amount`, ADR 0036) and what the
web does with them: grouped into the engine's rows, renumbered when a card is added or
removed, and named in the error summary by table, row and column."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flowdesk.engines.forms import FieldType, FormSpec
from flowdesk.web.i18n import Locale

CELL_NAME = re.compile(r"([a-z][a-z0-9_]{0,62})\[([0-9]{1,4})\]\.([a-z][a-z0-9_]{0,62})")


def table_row_numbers(table: str, raw: Mapping[str, object]) -> list[int]:
    """The row numbers a sub-table's cells were posted under, in order."""
    found: set[int] = set()
    for name in raw:
        match = CELL_NAME.fullmatch(name)
        if match and match[1] == table:
            found.add(int(match[2]))
    return sorted(found)


def with_row_action(form: FormSpec, raw: Mapping[str, str], action: str) -> dict[str, str]:
    """What was typed with a sub-table's row added ("add:lines") or removed
    ("remove:lines:2", the rows after it moving up), for the form's server round trip."""
    verb, _, rest = action.partition(":")
    table, _, number_text = rest.partition(":")
    try:
        field = form.field(table)
    except KeyError:
        return dict(raw)
    if field.type is not FieldType.TABLE:
        return dict(raw)
    numbers = table_row_numbers(table, raw) or list(range(1, max(field.min_rows, 1) + 1))
    kept = [n for n in numbers if not (verb == "remove" and str(n) == number_text)]
    out = {k: v for k, v in raw.items() if not in_table(k, table)}
    for position, number in enumerate(kept, start=1):
        for column in field.columns:
            typed = raw.get(f"{table}[{number}].{column.key}")
            if typed is not None:
                out[f"{table}[{position}].{column.key}"] = typed
    if verb == "add" and len(kept) < (field.max_rows or len(kept) + 1):
        for column in field.columns:
            out[f"{table}[{len(kept) + 1}].{column.key}"] = ""
    elif verb == "remove" and not kept:  # the last card goes: an empty one stays
        for column in field.columns:
            out[f"{table}[1].{column.key}"] = ""
    return out


def error_labels(form: FormSpec, paths: list[str], locale: Locale) -> dict[str, str]:
    """What the error summary calls each path: the field's label, or for a sub-table's
    cell the table, the row and the column ("Expense lines · row 2 · Amount")."""
    labels = {f.key: f.label.get(locale) for f in form.fields}
    for path in paths:
        match = CELL_NAME.fullmatch(path)
        if match is None or match[1] not in labels:
            continue
        column = form.field(match[1]).column(match[3])
        if column is None:
            continue
        row = f"第 {match[2]} 行" if locale == "zh" else f"row {match[2]}"
        labels[path] = f"{labels[match[1]]} · {row} · {column.label.get(locale)}"
    return labels


def in_table(name: str, table: str) -> bool:
    match = CELL_NAME.fullmatch(name)
    return match is not None and match[1] == table


def grouped_rows(values: Mapping[str, object]) -> dict[str, object]:
    """Posted names as the engine reads them: each sub-table's cells (`lines[2].amount`)
    gathered into its list of rows, in the order of their numbers."""
    out: dict[str, object] = {}
    tables: dict[str, dict[int, dict[str, object]]] = {}
    for name, value in values.items():
        match = CELL_NAME.fullmatch(name)
        if match is None:
            out[name] = value
            continue
        tables.setdefault(match[1], {}).setdefault(int(match[2]), {})[match[3]] = value
    for table, rows in tables.items():
        out[table] = [rows[number] for number in sorted(rows)]
    return out
