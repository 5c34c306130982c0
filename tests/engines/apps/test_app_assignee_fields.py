"""Assignee rules that read a form field (issue 8) are checked against the app's form:
the field exists and has the type the rule reads; user, users and department fields
parse, clean and survive export."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.engines.apps import dump_app_yaml, load_app_yaml, parse_app
from flowdesk.engines.forms import validate_submission
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed


def _label(text: str) -> dict[str, str]:
    return {"en": text, "zh": text}


def _app(rule: dict[str, Any], fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "review", "type": "user_task", "assignee": rule}
    if fallback is not None:
        node["on_empty"] = {"action": "assign", "assignee": fallback}
    return {
        "key": "purchase",
        "name": _label("Purchase"),
        "form": {
            "fields": [
                {"key": "title", "type": "text", "label": _label("Title")},
                {"key": "reviewer", "type": "user", "label": _label("Reviewer")},
                {"key": "panel", "type": "users", "label": _label("Panel")},
                {"key": "cost_centre", "type": "department", "label": _label("Cost centre")},
            ]
        },
        "process": {
            "nodes": [{"id": "start", "type": "start"}, node, {"id": "end", "type": "end"}],
            "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
        },
    }


def _errors(definition: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_app(definition)
    return [(e.path, e.code) for e in refused.value.errors]


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "field_user", "field": "reviewer"},
        {"kind": "field_user", "field": "panel"},
        {"kind": "field_department_head", "field": "cost_centre"},
    ],
)
def test_rules_reading_a_field_of_the_right_type_publish(rule: dict[str, Any]) -> None:
    spec = parse_app(_app(rule))
    assert load_app_yaml(dump_app_yaml(spec)) == spec


@pytest.mark.parametrize(
    ("rule", "fallback", "expected"),
    [
        (
            {"kind": "field_user", "field": "reviewr"},
            None,
            [("process.nodes[1].assignee.field", "unknown_field")],
        ),
        (
            {"kind": "field_user", "field": "cost_centre"},
            None,
            [("process.nodes[1].assignee.field", "assignee_field_wrong_type")],
        ),
        (
            {"kind": "user", "user": "bob"},
            {"kind": "field_department_head", "field": "title"},
            [("process.nodes[1].on_empty.assignee.field", "assignee_field_wrong_type")],
        ),
    ],
)
def test_a_rule_reading_a_missing_or_wrong_field_is_refused(
    rule: dict[str, Any], fallback: dict[str, Any] | None, expected: list[tuple[str, str]]
) -> None:
    assert _errors(_app(rule, fallback)) == expected


def test_people_and_department_fields_clean_to_usernames_and_a_code() -> None:
    form = parse_app(_app({"kind": "field_user", "field": "panel"})).form
    clean = validate_submission(
        form,
        {"reviewer": " Li.Na ", "panel": "amy，ben amy", "cost_centre": "FIN-01"},
        source="html",
    )
    assert clean == {"reviewer": "li.na", "panel": "amy,ben", "cost_centre": "FIN-01"}
    assert validate_submission(form, {"panel": ["amy", "ben"]}, source="json") == {
        "panel": "amy,ben"
    }
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(
            form, {"reviewer": "li na", "panel": "amy,B@d", "cost_centre": "-x"}, source="json"
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("reviewer", "invalid_username"),
        ("panel", "invalid_username"),
        ("cost_centre", "invalid_department"),
    ]
