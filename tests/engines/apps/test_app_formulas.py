"""Formula fields, visibility, requiredness and defaults in the pure engines (ADR 0031):
publish-time checks with paths, result inference, cycles, the evaluation order, and the YAML
round trip of every new attribute."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml

from flowdesk.engines.apps import load_bundled_template, parse_app
from flowdesk.engines.apps.applicant import Applicant
from flowdesk.engines.apps.formulas import FormComputer
from flowdesk.engines.apps.yaml_io import dump_app_yaml, load_app_yaml
from flowdesk.engines.calendar import BusinessCalendar, CalendarSpec
from flowdesk.engines.expr import EvalContext
from flowdesk.engines.forms import parse_form, validate_submission
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed

LABEL = {"en": "Field", "zh": "字段"}
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def _app(*extra: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(dump_app_yaml(load_bundled_template("loan")))
    definition["form"]["fields"] += [{"label": dict(LABEL), **field} for field in extra]
    return definition


def _errors(definition: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_app(definition)
    return [(e.path, e.code) for e in refused.value.errors]


LOAN = {
    "applicant_name": "张三",
    "amount": "120000.00",
    "term_months": 36,
    "credit_rating": "A",
    "region": "north",
    "purpose": "Oven",
}


def test_results_are_inferred_in_dependency_order_and_conditions_can_read_them() -> None:
    definition = _app(
        # declared before what it reads: the order of evaluation is not the form's order
        {"key": "label_text", "type": "formula", "formula": "IF(large, 'large', 'small')"},
        {"key": "large", "type": "formula", "formula": "monthly > 3000"},
        {"key": "monthly", "type": "formula", "formula": "ROUND(amount / term_months, 2)"},
        {"key": "due", "type": "formula", "formula": "DATE('2026-12-31')"},
    )
    spec = parse_app(definition)
    results = {f.key: f.result for f in spec.form.fields if f.type == "formula"}
    assert results == {"label_text": "text", "large": "bool", "monthly": "number", "due": "date"}
    values = FormComputer(spec.form).complete(validate_submission(spec.form, LOAN, source="json"))
    assert values["monthly"] == "3333.33"
    assert values["large"] is True and values["label_text"] == "large"
    assert values["due"] == "2026-12-31"


def test_every_new_attribute_round_trips_through_yaml() -> None:
    spec = parse_app(
        _app(
            {"key": "monthly", "type": "formula", "formula": "amount / term_months"},
            {"key": "note", "type": "text", "visible_when": "amount > 1000", "required": True},
            {"key": "why", "type": "long_text", "required_when": "monthly > 100"},
            {"key": "filed", "type": "date", "default": "TODAY()"},
            {"key": "flag", "type": "formula", "formula": "null", "result": "bool"},
        )
    )
    again = load_app_yaml(dump_app_yaml(spec))
    assert again == spec
    form = spec.form
    assert parse_form(form.to_dict()) == form
    assert form.field("monthly").to_dict()["result"] == "number"  # inferred, then written


def test_cycles_are_refused_naming_their_fields() -> None:
    errors = _errors(
        _app(
            {"key": "a", "type": "formula", "formula": "b + 1"},
            {"key": "b", "type": "formula", "formula": "c + 1"},
            {"key": "c", "type": "formula", "formula": "a + amount"},
            {"key": "d", "type": "text", "visible_when": "LEN(d) > 0"},  # reads itself
        )
    )
    assert errors == [
        ("form.fields[6].formula", "formula_cycle"),
        ("form.fields[9].visible_when", "formula_cycle"),
    ]
    with pytest.raises(DefinitionInvalid) as refused:
        parse_app(
            _app(
                {"key": "a", "type": "formula", "formula": "b"},
                {"key": "b", "type": "formula", "formula": "a"},
            )
        )
    assert "a → b → a" in refused.value.errors[0].message
    assert "形成循环" in refused.value.errors[0].message


def test_form_level_rules_of_formula_fields() -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_form(
            {
                "fields": [
                    {"key": "a", "type": "formula", "label": LABEL},
                    {
                        "key": "b",
                        "type": "formula",
                        "label": LABEL,
                        "formula": "1",
                        "required": True,
                    },
                    {
                        "key": "c",
                        "type": "formula",
                        "label": LABEL,
                        "formula": "1",
                        "result": "money",
                    },
                    {"key": "d", "type": "formula", "label": LABEL, "formula": "1", "default": "1"},
                    {"key": "e", "type": "text", "label": LABEL, "visible_when": ""},
                    {"key": "f", "type": "text", "label": LABEL, "formula": "1"},
                ]
            }
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("form.fields[0].formula", "required"),
        ("form.fields[1].required", "invalid_rule"),
        ("form.fields[2].result", "invalid_choice"),
        ("form.fields[3].default", "invalid_rule"),
        ("form.fields[4].visible_when", "invalid_type"),
        ("form.fields[5].formula", "unknown_key"),
    ]


def test_a_declared_result_must_match_and_an_untyped_one_must_be_declared() -> None:
    assert _errors(
        _app({"key": "m", "type": "formula", "formula": "amount * 2", "result": "text"})
    ) == [("form.fields[6].formula", "type_mismatch")]
    assert _errors(_app({"key": "m", "type": "formula", "formula": "null"})) == [
        ("form.fields[6].result", "required")
    ]


def test_hidden_fields_are_dropped_and_not_required_visible_ones_are() -> None:
    spec = parse_app(
        _app(
            {
                "key": "guarantor",
                "type": "text",
                "required": True,
                "visible_when": "amount > 100000",
            },
            {"key": "reason", "type": "text", "required_when": "credit_rating = 'C'"},
        )
    )
    computer = FormComputer(spec.form)
    small = validate_submission(
        spec.form, {**LOAN, "amount": "1000.00", "guarantor": "x"}, source="json"
    )
    assert "guarantor" not in computer.complete(small)
    with pytest.raises(ValidationFailed) as refused:
        computer.complete(
            validate_submission(spec.form, {**LOAN, "credit_rating": "C"}, source="json"),
            locale="zh",
        )
    assert [(e.path, e.code, e.message) for e in refused.value.errors] == [
        ("guarantor", "required", "此项为必填"),
        ("reason", "required", "此项为必填"),
    ]
    state = computer.state(small)
    assert state.hidden == {"guarantor"} and "reason" not in state.required


def test_defaults_read_the_applicant_the_clock_and_the_calendar() -> None:
    spec = parse_app(
        _app(
            {"key": "department", "type": "text", "default": "applicant.department"},
            {"key": "filed", "type": "date", "default": "TODAY()"},
            {"key": "fee", "type": "money", "currency": "CNY", "default": "amount * 0.001"},
            {
                "key": "days_left",
                "type": "formula",
                "formula": "WORKDAYS(TODAY(), DATE('2026-12-31'))",
            },
        )
    )
    computer = FormComputer(spec.form)
    assert computer.reads_applicant and computer.reads_calendar and computer.reads_clock
    calendar = BusinessCalendar(CalendarSpec())
    values = computer.complete(
        validate_submission(spec.form, {**LOAN, "amount": "123456.78"}, source="json"),
        context=EvalContext(now=NOW, calendar=calendar),
        applicant=Applicant("M3", "branch-bj"),
    )
    assert values["department"] == "branch-bj"
    assert values["filed"] == "2026-12-03"
    assert values["fee"] == "123.46"  # the money field's decimals
    expected = calendar.workdays(date(2026, 12, 3), date(2026, 12, 31))
    assert Decimal(str(values["days_left"])) == expected
    # a value given is kept; no defaults on an edit
    kept = computer.complete(
        {**validate_submission(spec.form, LOAN, source="json"), "department": "hq"},
        context=EvalContext(now=NOW),
    )
    assert kept["department"] == "hq"
    assert "filed" not in computer.complete(
        validate_submission(spec.form, LOAN, source="json"), defaults=False
    )
