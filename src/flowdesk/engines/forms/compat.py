"""Whether a ticket's stored form values fit another version's form (ADR 0026: moving a
running ticket to a newer version). Pure: the caller gives both forms and the values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .spec import FormSpec


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
