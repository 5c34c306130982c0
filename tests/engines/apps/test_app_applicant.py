"""Conditions on the applicant (applicant.job_level, applicant.department): typed at publish
like form fields, evaluated on the attributes the caller passes, never editable."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flowdesk.engines.apps import ConditionEvaluator, load_bundled_template, parse_app
from flowdesk.engines.apps.applicant import (
    APPLICANT_FIELDS,
    NOBODY_KNOWN,
    Applicant,
    applicant_values,
    reads_applicant,
)
from flowdesk.engines.expr import ExprError, ExprType, compile_expression, parse
from flowdesk.engines.expr.nodes import FieldRef
from flowdesk.kernel.errors import DefinitionInvalid


def _loan_with(condition: str, **node_settings: Any) -> dict[str, Any]:
    """The loan template with the amount gateway's condition replaced, and settings
    added to the branch review node."""
    data: dict[str, Any] = copy.deepcopy(load_bundled_template("loan").to_dict())
    for flow in data["process"]["flows"]:
        if "condition" in flow:
            flow["condition"] = condition
    for node in data["process"]["nodes"]:
        if node["id"] == "branch_review":
            node.update(node_settings)
    return data


def _problems(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_app(data)
    return [(e.path, e.code, e.message) for e in caught.value.errors]


def test_the_applicant_attributes_are_text() -> None:
    assert APPLICANT_FIELDS == {
        "applicant.job_level": ExprType.TEXT,
        "applicant.department": ExprType.TEXT,
    }
    assert applicant_values(Applicant("M3", "legal")) == {
        "applicant.job_level": "M3",
        "applicant.department": "legal",
    }


def test_a_dotted_name_is_one_field_reference() -> None:
    tree = parse("applicant.job_level = 'M3'")
    assert isinstance(tree.left, FieldRef)  # type: ignore[attr-defined]
    assert tree.left.name == "applicant.job_level"  # type: ignore[attr-defined]
    # a number's '.' is still a number's, and a dotted name is never a method
    assert compile_expression("amount > 0.5", {"amount": ExprType.NUMBER}).fields_used == {"amount"}
    with pytest.raises(ExprError) as caught:
        parse("applicant.job_level(1)")
    assert caught.value.code == "syntax"


def test_conditions_on_the_applicant_publish() -> None:
    app = parse_app(
        _loan_with(
            "amount <= 50000 and applicant.job_level in ('M3', 'M4')",
            auto={"when": "applicant.department = 'branch-bj'", "action": "approve"},
        )
    )
    assert app.process.conditions()


@pytest.mark.parametrize(
    ("condition", "code", "hint"),
    [
        ("applicant.job_levl = 'M3'", "expr_unknown_field", "applicant.job_level"),
        ("applicant.salary > 5", "expr_unknown_field", ""),
        ("applicant.job_level > 5", "expr_type_mismatch", ""),
    ],
)
def test_a_wrong_applicant_condition_is_refused_at_publish(
    condition: str, code: str, hint: str
) -> None:
    ((path, found, message),) = _problems(_loan_with(condition))
    assert path.startswith("process.flows[") and path.endswith("].condition")
    assert found == code
    assert hint in message


def test_an_applicant_attribute_is_never_editable() -> None:
    data = _loan_with("amount <= 50000", editable=["applicant.job_level"])
    assert [(p, c) for p, c, _ in _problems(data)] == [
        ("process.nodes[2].fields.applicant.job_level", "unknown_field")
    ]


@pytest.fixture
def evaluator() -> ConditionEvaluator:
    return ConditionEvaluator(
        parse_app(_loan_with("amount <= 50000 and applicant.job_level in ('M3', 'M4')"))
    )


def test_conditions_read_the_applicant_the_caller_passes(evaluator: ConditionEvaluator) -> None:
    condition = "amount <= 50000 and applicant.job_level in ('M3', 'M4')"
    small = {"amount": "30000.00"}
    assert evaluator.reads_applicant(condition)
    assert evaluator.evaluate(condition, small, Applicant("M3", "legal"))
    assert not evaluator.evaluate(condition, small, Applicant("P5", "legal"))
    assert not evaluator.evaluate(condition, {"amount": "60000.00"}, Applicant("M4", None))
    # nobody known: the attribute is null, a comparison with null does not hold
    assert not evaluator.evaluate(condition, small)
    assert evaluator.evaluate("applicant.job_level = null", small, NOBODY_KNOWN)
    assert evaluator.evaluate("applicant.department = 'hq'", small, Applicant(None, "hq"))


def test_conditions_without_the_applicant_never_need_one(evaluator: ConditionEvaluator) -> None:
    assert not evaluator.reads_applicant("amount <= 50000")
    assert not reads_applicant({"amount", "credit_rating"})
    assert reads_applicant({"amount", "applicant.job_level"})
    assert evaluator.evaluate("amount <= 50000", {"amount": "100.00"})


def test_a_bpmn_condition_can_read_the_applicant() -> None:
    from test_app_bpmn import gateway_file

    from flowdesk.engines.apps import load_app_bpmn

    loan = load_bundled_template("loan")
    imported = load_app_bpmn(gateway_file("${applicant.job_level == 'M3'}"), loan).spec
    assert [text for _, text in imported.process.conditions()] == ["applicant.job_level == 'M3'"]
