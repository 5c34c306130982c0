"""Whether a ticket's stored form values fit another version's form (ADR 0026: moving a
running ticket to a newer version). Pure: the caller gives both forms and the values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .spec import FieldSpec, FieldType, FormSpec


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    code: str
    message: str


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []


def form_problems(old: FormSpec, new: FormSpec, values: Mapping[str, object]) -> list[FieldProblem]:
    """Each way `values` (kept under `old`) would not fit `new`: a field with a value that
    the new form drops (it would be hidden) or gives another type (it would be misread), a
    choice value the new field no longer offers, and a new required field left empty."""
    problems: list[FieldProblem] = []
    new_fields = {f.key: f for f in new.fields}
    for field in old.fields:
        value = values.get(field.key)
        if _empty(value):
            continue
        now = new_fields.get(field.key)
        if now is None:
            problems.append(
                FieldProblem(
                    field.key,
                    "field_removed",
                    f"'{field.key}' has a value but the new version has no such field",
                )
            )
        elif now.type != field.type:
            problems.append(
                FieldProblem(
                    field.key,
                    "field_type_changed",
                    f"'{field.key}' is a {field.type.value} field here and a "
                    f"{now.type.value} field in the new version",
                )
            )
        elif now.type is FieldType.TABLE:
            problems.extend(_column_problems(field, now, value))
        elif now.options:
            chosen = value if isinstance(value, list) else [value]
            missing = [str(v) for v in chosen if now.option(str(v)) is None]
            if missing:
                problems.append(
                    FieldProblem(
                        field.key,
                        "option_removed",
                        f"'{field.key}' has the choice {', '.join(missing)}, which the new "
                        "version does not offer",
                    )
                )
    for key, field in new_fields.items():
        if field.required and _empty(values.get(key)):
            problems.append(
                FieldProblem(
                    key,
                    "field_required",
                    f"The new version requires '{key}', which the ticket has no value for",
                )
            )
    return problems


def _column_problems(old: FieldSpec, new: FieldSpec, rows: object) -> list[FieldProblem]:
    """A sub-table's columns with values in some row that the new version drops or
    retypes (ADR 0036), named `lines.amount`; a formula column is recomputed, not kept."""
    listed = rows if isinstance(rows, list) else []
    problems: list[FieldProblem] = []
    for column in old.columns:
        if column.type is FieldType.FORMULA:
            continue
        if not any(isinstance(r, dict) and not _empty(r.get(column.key)) for r in listed):
            continue
        now = new.column(column.key)
        name = f"{old.key}.{column.key}"
        if now is None:
            problems.append(
                FieldProblem(
                    name,
                    "field_removed",
                    f"'{name}' has values but the new version has no such column",
                )
            )
        elif now.type != column.type:
            problems.append(
                FieldProblem(
                    name,
                    "field_type_changed",
                    f"'{name}' is a {column.type.value} column here and a "
                    f"{now.type.value} column in the new version",
                )
            )
    return problems
