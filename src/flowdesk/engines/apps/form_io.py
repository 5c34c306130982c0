"""An app with its form replaced: what the form builder publishes (ADR 0039).

The builder edits the form and nothing else, so the rest of the app (its process, name,
serial prefix, diagram) is kept, and the whole app is checked again as an app YAML is:
the fields, their formulas and rules (ADR 0031), and the process's conditions, editable
fields and assignee fields against the new form. Every problem comes back at once, each
at its path (`form.fields[2].formula`). List columns (`summary`) that name a field the
builder removed are dropped, since the builder cannot edit them.
"""

from __future__ import annotations

from collections.abc import Mapping

from .parse import parse_app
from .spec import AppSpec


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
    return parse_app(definition)


def _field_keys(form: object) -> set[str]:
    fields = form.get("fields") if isinstance(form, Mapping) else None
    if not isinstance(fields, list):
        return set()
    return {f["key"] for f in fields if isinstance(f, Mapping) and isinstance(f.get("key"), str)}
