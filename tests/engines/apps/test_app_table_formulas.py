"""Formulas over sub-tables (ADR 0036): row formulas recomputed on the server, SUM, COUNT,
AVERAGE, MIN, MAX and COUNTIF over a column, checked at publish with their position, and
a branch condition reading the sum. Results are computed by hand below each case."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flowdesk.engines.apps.conditions import ConditionEvaluator
from flowdesk.engines.apps.formulas import FormComputer, check_form_expressions
from flowdesk.engines.apps.parse import parse_app
from flowdesk.engines.forms import parse_form, validate_submission
from flowdesk.kernel.errors import DefinitionInvalid
from table_forms import table_app, table_form, text


def formula(key: str, expression: str) -> dict[str, Any]:
    return {"key": key, "type": "formula", "label": text(key), "formula": expression}


def computed(extra: list[dict[str, Any]], lines: list[dict[str, Any]]) -> dict[str, object]:
    definition = table_form()
    definition["fields"].extend(extra)
    form, errors = check_form_expressions(parse_form(definition))
    assert errors == []
    clean = validate_submission(form, {"purpose": "x", "lines": lines}, source="json")
    return FormComputer(form).complete(clean)


def row(kind: str, qty: int, price: str) -> dict[str, Any]:
    return {"date": "2026-12-01", "type": kind, "qty": qty, "price": price}


LINES = [row("travel", 3, "0.34"), row("meal", 1, "1200.00"), row("travel", 2, "2.50")]


def test_row_formulas_and_the_sums_over_them() -> None:
    values = computed(
        [
            formula("n", "COUNT(lines.amount)"),
            formula("mean", "ROUND(AVERAGE(lines.amount), 2)"),
            formula("low", "MIN(lines.amount)"),
            formula("high", "MAX(lines.price)"),
            formula("big", 'COUNTIF(lines.amount, ">1000")'),
            formula("not_travel", 'COUNTIF(lines.type, "<>TRAVEL")'),
            formula("with_fee", "SUM(lines.amount, 10)"),
        ],
        LINES,
    )
    # 3 × 0.34 = 1.02; 1 × 1200.00 = 1200.00; 2 × 2.50 = 5.00
    assert [r["amount"] for r in values["lines"]] == ["1.02", "1200.00", "5.00"]  # type: ignore[attr-defined]
    assert values["total"] == "1206.02"  # 1.02 + 1200.00 + 5.00
    assert values["travel_lines"] == "2"
    assert values["n"] == "3"
    assert values["mean"] == "402.01"  # 1206.02 / 3 = 402.00666… → 402.01
    assert (values["low"], values["high"]) == ("1.02", "1200.00")
    assert values["big"] == "1"  # only 1200.00
    assert values["not_travel"] == "1"  # text compares case-insensitively, as in Excel
    assert values["with_fee"] == "1216.02"


def test_money_is_rounded_half_up_per_row() -> None:
    # 3 × 0.335 would need a third decimal the price cannot have; 1 × 0.005 cannot either,
    # so the half case is made by the quantity: 5 × 0.01 × … — use price 0.05 and a
    # formula halving it: 0.025 → 0.03 half up (0.02 by banker's rounding)
    definition = table_form()
    columns = definition["fields"][1]["columns"]
    columns[4]["formula"] = "ROUND(qty * price / 2, 2)"
    form, errors = check_form_expressions(parse_form(definition))
    assert errors == []
    clean = validate_submission(
        form,
        {"purpose": "x", "lines": [row("meal", 1, "0.05"), row("meal", 1, "0.07")]},
        source="json",
    )
    values = FormComputer(form).complete(clean)
    # 0.05 / 2 = 0.025 → 0.03; 0.07 / 2 = 0.035 → 0.04; total 0.07
    assert [r["amount"] for r in values["lines"]] == ["0.03", "0.04"]  # type: ignore[attr-defined]
    assert values["total"] == "0.07"


def test_a_formula_column_sent_by_a_client_is_recomputed_not_kept() -> None:
    form, _ = check_form_expressions(parse_form(table_form()))
    posted = {"date": "2026-12-01", "type": "meal", "qty": "2", "price": "1.00", "amount": "9"}
    clean = validate_submission(form, {"purpose": "x", "lines": [posted]}, source="html")
    assert FormComputer(form).complete(clean)["lines"] == [
        {**row("meal", 2, "1.00"), "amount": "2.00"}
    ]


def test_an_empty_optional_table_sums_to_zero() -> None:
    definition = table_form(required=False)
    form, _ = check_form_expressions(parse_form(definition))
    values = FormComputer(form).complete({"purpose": "x"})
    assert (values["total"], values["travel_lines"]) == ("0", "0")


def publish_errors(extra: list[dict[str, Any]], **column: Any) -> list[tuple[str, str, str]]:
    definition = table_form()
    definition["fields"].extend(extra)
    if column:
        definition["fields"][1]["columns"].append(
            {"key": "extra", "type": "formula", "label": text("Extra"), **column}
        )
    _form, errors = check_form_expressions(parse_form(definition))
    return [(e.path, e.code, e.message) for e in errors]


def test_formulas_over_tables_are_type_checked_at_publish_with_positions() -> None:
    assert publish_errors(
        [
            formula("a", "SUM(lines.amout)"),
            formula("b", 'COUNTIF(lines.amount, ">lots")'),
            formula("c", "lines.amount * 2"),
            formula("d", "SUM(lines.type)"),
            formula("e", "COUNTIF(purpose, 'x')"),
        ]
    ) == [
        (
            "form.fields[4].formula",
            "unknown_field",
            "unknown field 'lines.amout'; did you mean 'lines.amount'? (at character 5)",
        ),
        (
            "form.fields[5].formula",
            "invalid_argument",
            "the criterion's value is not a number, as the column's values are (at character 23)",
        ),
        (
            "form.fields[6].formula",
            "type_mismatch",
            "a sub-table's column holds one value per row; use SUM, COUNT, AVERAGE, MIN, "
            "MAX or COUNTIF on it (at character 1)",
        ),
        (
            "form.fields[7].formula",
            "type_mismatch",
            "argument 1 of SUM must be number, but this is text_list (at character 5)",
        ),
        (
            "form.fields[8].formula",
            "type_mismatch",
            "COUNTIF counts the rows of a sub-table's column, such as COUNTIF(lines.type, "
            "'travel') (at character 9)",
        ),
    ]


def test_a_row_formula_reads_its_own_row_only_and_circles_are_refused() -> None:
    assert publish_errors([], formula="total + 1") == [
        (
            "form.fields[1].columns[6].formula",
            "unknown_field",
            "unknown field 'total' (at character 1)",
        )
    ]
    definition = table_form()
    columns = definition["fields"][1]["columns"]
    columns[3] = {"key": "price", "type": "formula", "label": text("P"), "formula": "amount / qty"}
    _form, errors = check_form_expressions(parse_form(definition))
    assert [(e.path, e.code) for e in errors] == [
        ("form.fields[1].columns[3].formula", "formula_cycle")
    ]
    assert "price → amount → price" in errors[0].message


def test_a_branch_condition_reads_the_sum_of_the_lines() -> None:
    app = parse_app(table_app())
    conditions = ConditionEvaluator(app)
    condition = "SUM(lines.amount) > 5000"
    assert conditions.evaluate(condition, {"lines": [{"amount": "5000.00"}]}) is False
    assert (
        conditions.evaluate(condition, {"lines": [{"amount": "4999.99"}, {"amount": "0.02"}]})
        is True
    )
    assert conditions.evaluate(condition, {}) is False  # no lines: the sum is 0


def test_a_condition_on_a_column_itself_is_refused_at_publish() -> None:
    definition = table_app()
    definition["process"]["flows"][1]["condition"] = "lines.amount > 5000"
    with pytest.raises(DefinitionInvalid) as caught:
        parse_app(definition)
    assert [e.code for e in caught.value.errors] == ["expr_type_mismatch"]


def test_the_yaml_round_trip_keeps_the_table_and_its_inferred_results() -> None:
    from flowdesk.engines.apps.yaml_io import dump_app_yaml, load_app_yaml

    app = parse_app(table_app())
    again = load_app_yaml(dump_app_yaml(app))
    assert again.form == app.form
    assert again.form.field("lines").column("amount").result == "number"  # type: ignore[union-attr]
    assert Decimal(1)  # keep Decimal imported for readers of the hand computations
