"""An app with its form replaced: what the form builder publishes (ADR 0039).

The builder edits the form and nothing else, so the rest of the app (its process, name,
serial prefix, diagram) is kept, and the whole app is checked again as an app YAML is:
the fields, their formulas and rules (ADR 0031), and the process's conditions, editable
fields and assignee fields against the new form. Every problem comes back at once, each
at its path (`form.fields[2].formula`). List columns (`summary`) that name a field the
builder removed are dropped, since the builder cannot edit them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from flowdesk.engines.forms import FormSpec, parse_form
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

from .formulas import check_form_expressions
from .parse import parse_app
from .spec import AppSpec

_FIELD_AT = re.compile(r"^form\.fields\[(\d+)\]")


def with_form(base: AppSpec, form: object) -> AppSpec:
    """`base` with `form` (a form definition `{fields: [...]}`) in place of its form;
    DefinitionInvalid lists every problem."""
    definition = base.to_dict()
    definition["form"] = form
    keys = _field_keys(form)
    summary = [key for key in base.summary if key in keys]
    if summary:
        definition["summary"] = summary
    else:
        definition.pop("summary", None)
    try:
        return parse_app(definition)
    except DefinitionInvalid as exc:
        more = _expression_problems(form, exc.errors)
        if not more:
            raise
        raise DefinitionInvalid([*exc.errors, *more]) from None


def parseable_fields(
    form: object, errors: Sequence[ErrorDetail]
) -> tuple[list[int], FormSpec | None]:
    """The fields of `form` that none of `errors` names, parsed on their own, with their
    positions in `form`; None when they do not parse alone (one refers to a field left
    out) or there are none."""
    raw = form.get("fields") if isinstance(form, Mapping) else None
    if not isinstance(raw, list):
        return [], None
    bad = {int(found.group(1)) for e in errors if (found := _FIELD_AT.match(e.path))}
    kept = [i for i in range(len(raw)) if i not in bad]
    try:
        return kept, parse_form({"fields": [raw[i] for i in kept]})
    except DefinitionInvalid:
        return kept, None


def _expression_problems(form: object, errors: Sequence[ErrorDetail]) -> list[ErrorDetail]:
    """The problems of the expressions of the fields that parse, when others do not:
    `parse_app` checks expressions only on a form that parses, and the builder must list
    every problem at once. A reference to a field that did not parse (or to a column of a
    sub-table that did not) is no problem of its own (that field's error is)."""
    if not any(_FIELD_AT.match(e.path) for e in errors):
        return []
    kept, partial = parseable_fields(form, errors)
    if partial is None:
        return []
    # 'lines' or a column of it, 'lines.amount'
    gone = [
        mark for key in _field_keys(form) - set(partial.keys()) for mark in (f"'{key}'", f"'{key}.")
    ]
    more = []
    for error in check_form_expressions(partial)[1]:
        found = _FIELD_AT.match(error.path)
        if found is None or (
            error.code == "unknown_field" and any(key in error.message for key in gone)
        ):
            continue
        path = f"form.fields[{kept[int(found.group(1))]}]{error.path[found.end() :]}"
        more.append(ErrorDetail(path, error.code, error.message))
    return more


def _field_keys(form: object) -> set[str]:
    fields = form.get("fields") if isinstance(form, Mapping) else None
    if not isinstance(fields, list):
        return set()
    return {f["key"] for f in fields if isinstance(f, Mapping) and isinstance(f.get("key"), str)}
