"""Forms as the form builder sends them (ADR 0039): the bundled loan form's `form:` as
JSON, with more fields after its own, for the service, API and web tests of the publish
path."""

from __future__ import annotations

from typing import Any

from flowdesk.engines.apps import load_bundled_template


def loan_form_with(*fields: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = load_bundled_template("loan").form.to_dict()
    form["fields"].extend(fields)
    return form


def text_field(key: str, en: str, zh: str, **settings: Any) -> dict[str, Any]:
    return {"key": key, "type": "text", "label": {"en": en, "zh": zh}, **settings}


def formula_field(key: str, en: str, zh: str, formula: str) -> dict[str, Any]:
    return {"key": key, "type": "formula", "label": {"en": en, "zh": zh}, "formula": formula}
