"""Every bundled template parses, survives YAML and its plain-dict form, and the contract
review and reimbursement templates route as their descriptions say (on the pure engine,
with the app's own condition evaluator)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import pytest

from flowdesk.engines.apps import (
    ConditionEvaluator,
    bundled_template_names,
    dump_app_yaml,
    load_app_yaml,
    load_bundled_template,
    parse_app,
)
from flowdesk.engines.apps.applicant import Applicant
from flowdesk.engines.forms import validate_submission
from flowdesk.engines.process import (
    AssigneeRule,
    CompleteTask,
    InstanceState,
    NodeSkipped,
    Start,
    TaskOpened,
    step,
)

PEOPLE: dict[tuple[str, str | None], list[str]] = {
    ("applicant_department_head", None): ["dept.head"],
    ("applicant_manager", None): ["manager"],
    ("role", "contract_reviewer"): ["xu.ming", "fu.qiang"],
    ("role", "deputy_head"): ["xiao.yun"],
    ("role", "finance_reviewer"): ["liu.yang", "ma.li"],
    ("department_head", "finance"): ["gao.feng"],
}


class TemplateContext:
    def __init__(self, evaluator: ConditionEvaluator, applicant: Applicant) -> None:
        self._evaluator = evaluator
        self._applicant = applicant
        self.issued = 0

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self._evaluator.evaluate(condition, values, self._applicant)

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]:
        return PEOPLE[(rule.kind, rule.role or rule.department)]

    def new_id(self) -> str:
        self.issued += 1
        return f"t{self.issued}"


@pytest.mark.parametrize("name", ["loan", "contract_review", "reimbursement"])
def test_the_templates_are_bundled(name: str) -> None:
    assert name in bundled_template_names()


@pytest.mark.parametrize("name", bundled_template_names())
def test_every_template_parses_and_round_trips(name: str) -> None:
    app = load_bundled_template(name)
    assert app.key == name
    assert app.name.en and app.name.zh and app.description
    assert parse_app(app.to_dict()) == app
    assert load_app_yaml(dump_app_yaml(app)) == app


def _run(
    name: str, values: Mapping[str, object], applicant: Applicant, approve: int
) -> tuple[InstanceState, list[str], list[str]]:
    """Files the template's ticket and approves its oldest open task `approve` times;
    the state, the nodes whose tasks were opened, and the nodes that decided themselves."""
    app = load_bundled_template(name)
    clean = validate_submission(app.form, values, source="json")
    ctx = TemplateContext(ConditionEvaluator(app), applicant)
    result = step(app.process, None, Start("applicant", clean), ctx)
    effects = list(result.effects)
    state = result.state
    for _ in range(approve):
        if state.status != "running":
            break
        task = next(iter(state.tasks.values()))
        result = step(
            app.process,
            state,
            CompleteTask(task.task_id, task.assignees[0], "approve", "", clean),
            ctx,
        )
        effects.extend(result.effects)
        state = result.state
    opened = [e.node_id for e in effects if isinstance(e, TaskOpened)]
    skipped = [e.node_id for e in effects if isinstance(e, NodeSkipped)]
    return state, list(dict.fromkeys(opened)), skipped


def _contract(amount: str) -> dict[str, object]:
    return {
        "contract_title": "营业网点装修工程合同",
        "counterparty": "北京某装饰工程有限公司",
        "contract_type": "service",
        "amount": amount,
        "term_months": 12,
        "key_terms": "分期付款，质保金 5%",
    }


@pytest.mark.parametrize(
    ("amount", "job_level", "deputy"),
    [
        ("200000.00", "P4", False),  # within everyone's authority
        ("500000.00", "P4", True),  # above staff authority
        ("500000.00", "M3", False),  # a department head's authority covers it
        ("500000.00", None, True),  # no job level: no authority beyond staff's
        ("1000000.00", "M5", False),
        ("1500000.00", "M4", True),  # above anyone's: always the deputy head
    ],
)
def test_contract_review_routes_by_amount_and_the_applicants_authority(
    amount: str, job_level: str | None, deputy: bool
) -> None:
    state, opened, _ = _run(
        "contract_review", _contract(amount), Applicant(job_level, "branch-bj"), approve=3
    )
    # department head, then legal's 会签: one task per reviewer, both must approve
    assert opened[:2] == ["department_review", "legal_review"]
    if deputy:
        assert state.status == "running"
        assert [t.node_id for t in state.tasks.values()] == ["deputy_approval"]
    else:
        assert state.status == "approved"
        assert "deputy_approval" not in opened


def _claim(amount: str) -> dict[str, object]:
    return {
        "expense_type": "travel",
        "amount": amount,
        "expense_date": "2026-11-20",
        "invoice_count": 3,
        "description": "上海分行业务培训差旅",
    }


@pytest.mark.parametrize(
    ("amount", "manager", "finance_head"),
    [("800.00", False, False), ("5000.00", True, False), ("25000.00", True, True)],
)
def test_reimbursement_skips_the_manager_for_small_claims_and_adds_the_finance_head(
    amount: str, manager: bool, finance_head: bool
) -> None:
    state, opened, skipped = _run("reimbursement", _claim(amount), Applicant(), approve=3)
    assert ("manager_approval" in opened) is manager
    assert skipped == ([] if manager else ["manager_approval"])
    assert "finance_review" in opened
    assert ("finance_head_approval" in opened) is finance_head
    assert state.status == "approved"
