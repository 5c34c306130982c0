"""The bundled loan template: loads, routes by amount, and runs on the process engine."""

from collections.abc import Mapping, Sequence

import pytest

from flowdesk.engines.apps import (
    ConditionEvaluator,
    bundled_template_names,
    load_bundled_template,
)
from flowdesk.engines.forms import FieldType, validate_submission
from flowdesk.engines.process import AssigneeRule, CompleteTask, Start, TaskOpened, step
from flowdesk.kernel.errors import NotFound


def test_loan_is_bundled() -> None:
    assert "loan" in bundled_template_names()


def test_unknown_template() -> None:
    with pytest.raises(NotFound):
        load_bundled_template("../secrets")


def test_loan_template_shape() -> None:
    app = load_bundled_template("loan")
    assert app.key == "loan"
    assert (app.name.en, app.name.zh) == ("Loan approval", "贷款审批")
    assert app.category == "credit"
    assert app.form.keys() == (
        "applicant_name",
        "amount",
        "term_months",
        "credit_rating",
        "region",
        "purpose",
    )
    assert all(field.required for field in app.form.fields)
    amount = app.form.field("amount")
    assert (amount.type, amount.currency) == (FieldType.MONEY, "CNY")
    assert app.form.field("applicant_name").max_length == 100
    assert app.form.field("purpose").max_length == 1000
    region = app.form.field("region")
    assert [(o.value, o.label.zh) for o in region.options] == [
        ("north", "华北"),
        ("south", "华南"),
        ("east", "华东"),
        ("west", "西部"),
        ("central", "华中"),
    ]
    rating = app.form.field("credit_rating").option("A")
    assert rating is not None and rating.label.zh == "A 级（优）"
    nodes = app.process.nodes
    assert nodes["branch_review"].assignee == AssigneeRule(kind="applicant_manager")
    assert nodes["legal_review"].assignee == AssigneeRule(
        kind="department_head", department="legal"
    )
    assert nodes["committee"].name["zh"] == "信贷审批委员会"
    assert nodes["disburse"].assignee == AssigneeRule(kind="role", role="disbursement")
    assert app.process.conditions() == [("process.flows[1].condition", "amount <= 50000")]


def stored(amount: str) -> dict[str, object]:
    app = load_bundled_template("loan")
    return validate_submission(
        app.form,
        {
            "applicant_name": "王伟",
            "amount": amount,
            "term_months": 36,
            "credit_rating": "A",
            "region": "east",
            "purpose": "经营周转",
        },
        source="json",
    )


@pytest.mark.parametrize(("amount", "small"), [("50000.00", True), ("50000.01", False)])
def test_condition_evaluator_on_stored_values(amount: str, small: bool) -> None:
    evaluator = ConditionEvaluator(load_bundled_template("loan"))
    values = stored(amount)
    assert values["amount"] == amount
    assert evaluator.evaluate("amount <= 50000", values) is small


def test_absent_value_does_not_satisfy_a_condition() -> None:
    evaluator = ConditionEvaluator(load_bundled_template("loan"))
    assert evaluator.evaluate("amount <= 50000", {}) is False


class LoanContext:
    """Conditions from the app's evaluator, assignees from a tiny org chart."""

    def __init__(self, evaluator: ConditionEvaluator) -> None:
        self.evaluator = evaluator
        self.issued = 0

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self.evaluator.evaluate(condition, values)

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        return [f"{rule.kind}:{rule.role or rule.department or starter}"]

    def new_id(self) -> str:
        self.issued += 1
        return f"t{self.issued}"


def opened(effects: Sequence[object]) -> list[str]:
    return [e.node_id for e in effects if isinstance(e, TaskOpened)]


@pytest.mark.parametrize(
    ("amount", "first"),
    [("50000.00", ["branch_review"]), ("50000.01", ["legal_review", "finance_review"])],
)
def test_loan_runs_on_the_process_engine(amount: str, first: list[str]) -> None:
    app = load_bundled_template("loan")
    ctx = LoanContext(ConditionEvaluator(app))
    values = stored(amount)
    result = step(app.process, None, Start("alice", values), ctx)
    assert sorted(opened(result.effects)) == sorted(first)
    state = result.state
    seen = list(first)
    while state.tasks:
        task = next(iter(state.tasks.values()))
        command = CompleteTask(task.task_id, task.assignees[0], "approve", values=values)
        result = step(app.process, state, command, ctx)
        state = result.state
        seen += opened(result.effects)
    assert state.status == "approved"
    assert seen[-1] == "disburse"
    assert ("committee" in seen) is (first != ["branch_review"])
