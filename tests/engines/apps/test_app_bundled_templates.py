"""Every bundled template parses, survives YAML and its plain-dict form, and the contract
review and reimbursement templates route as issue 8 names them (on the pure engine, with
the app's own condition evaluator): contract review is a 会签 of three reviewers, then a
或签 of two deputy heads; a reimbursement is approved automatically for a department
manager's travel claim under 5,000, otherwise by the manager, then finance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import pytest

from flowdesk.engines.apps import (
    ConditionEvaluator,
    bundled_template_names,
    dump_app_bpmn,
    dump_app_yaml,
    load_app_bpmn,
    load_app_yaml,
    load_bundled_template,
    parse_app,
)
from flowdesk.engines.apps.applicant import Applicant
from flowdesk.engines.forms import validate_submission
from flowdesk.engines.process import (
    AssigneeRule,
    CompleteTask,
    Effect,
    InstanceState,
    NodeDecided,
    NodeSkipped,
    Outcome,
    ReturnTask,
    Start,
    TaskClosed,
    TaskOpened,
    step,
)

PEOPLE: dict[tuple[str, str | None], list[str]] = {
    ("applicant_manager", None): ["manager"],
    # one reviewer each in Legal, Planning & Finance and Risk Management
    ("role", "contract_reviewer"): ["xu.ming", "liu.yang", "hu.bin"],
    ("role", "deputy_head"): ["xiao.yun", "tian.ye"],
    ("role", "finance_reviewer"): ["liu.yang", "ma.li"],
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


@pytest.mark.parametrize(
    "name", ["loan", "contract_review", "reimbursement", "customers", "account_opening"]
)
def test_the_templates_are_bundled(name: str) -> None:
    assert name in bundled_template_names()


@pytest.mark.parametrize("name", bundled_template_names())
def test_every_template_parses_and_round_trips(name: str) -> None:
    app = load_bundled_template(name)
    assert app.key == name
    assert app.name.en and app.name.zh and app.description
    assert parse_app(app.to_dict()) == app
    assert load_app_yaml(dump_app_yaml(app)) == app


@pytest.mark.parametrize("name", [n for n in bundled_template_names() if n != "customers"])
def test_every_process_template_round_trips_through_bpmn(name: str) -> None:
    app = load_bundled_template(name)
    imported = load_app_bpmn(dump_app_bpmn(app), app)
    assert imported.spec.process == app.process and imported.spec.form == app.form
    assert imported.warnings == ()


def test_account_opening_locks_identity_data_at_every_approval() -> None:
    app = load_bundled_template("account_opening")
    types = {field.key: field.type.value for field in app.form.fields}
    assert types["signatories"] == "table" and types["licence"] == "attachment"
    assert types["customer"] == "link" and types["application_no"] == "auto_number"
    identity = {"company_name", "credit_code", "legal_rep_id", "legal_rep_mobile"}
    identity |= {"settlement_card", "signatories", "legal_rep_name"}
    editable = {node.id: set(node.editable) for node in app.process.user_tasks()}
    assert editable == {
        "manager_review": {"account_type"},
        "aml_review": set(),
        "operations_review": {"opening_note"},
        "branch_approval": set(),
    }
    for node in app.process.user_tasks():
        assert identity <= {key for key, access in node.fields if access == "read_only"}


def _file(
    name: str, values: Mapping[str, object], applicant: Applicant
) -> tuple[TemplateContext, Mapping[str, object], list[Effect], InstanceState]:
    app = load_bundled_template(name)
    clean = validate_submission(app.form, values, source="json")
    ctx = TemplateContext(ConditionEvaluator(app), applicant)
    result = step(app.process, None, Start("applicant", clean), ctx)
    return ctx, clean, list(result.effects), result.state


def _holders(state: InstanceState) -> list[tuple[str, str]]:
    return [(task.node_id, who) for task in state.tasks.values() for who in task.assignees]


def _decide(
    name: str,
    state: InstanceState,
    ctx: TemplateContext,
    values: Mapping[str, object],
    who: str,
    outcome: Outcome = "approve",
) -> tuple[InstanceState, list[Effect]]:
    (task,) = [t for t in state.tasks.values() if who in t.assignees]
    result = step(
        load_bundled_template(name).process,
        state,
        CompleteTask(task.task_id, who, outcome, "", values),
        ctx,
    )
    return result.state, list(result.effects)


def _contract(amount: str = "500000.00") -> dict[str, object]:
    return {
        "contract_title": "营业网点装修工程合同",
        "counterparty": "北京某装饰工程有限公司",
        "contract_type": "service",
        "amount": amount,
        "term_months": 12,
        "key_terms": "分期付款，质保金 5%",
    }


REVIEWERS = ["xu.ming", "liu.yang", "hu.bin"]
DEPUTIES = ["xiao.yun", "tian.ye"]


@pytest.mark.parametrize("amount", ["0.00", "200000.00", "1500000.00"])
def test_contract_review_is_a_countersign_of_three_then_either_deputy_head(amount: str) -> None:
    ctx, values, _, state = _file("contract_review", _contract(amount), Applicant("P6"))
    # 会签: one task each for the legal, finance and risk reviewers, whatever the amount
    assert _holders(state) == [("joint_review", who) for who in REVIEWERS]
    for done, who in enumerate(REVIEWERS[:2], start=1):
        state, _ = _decide("contract_review", state, ctx, values, who)
        # waits for every reviewer
        assert _holders(state) == [("joint_review", other) for other in REVIEWERS[done:]]
    state, effects = _decide("contract_review", state, ctx, values, REVIEWERS[2])
    assert [e for e in effects if isinstance(e, NodeDecided)] == [
        NodeDecided("joint_review", "all", "approved", 3, 0, 3, 3)
    ]
    # 或签: either deputy head; the first decision closes the other's task
    assert _holders(state) == [("deputy_approval", who) for who in DEPUTIES]
    state, effects = _decide("contract_review", state, ctx, values, "tian.ye")
    assert state.status == "approved" and not state.tasks
    (cancelled,) = [e for e in effects if isinstance(e, TaskClosed) and e.actor is None]
    assert (cancelled.reason, cancelled.decided_by) == ("node_decided", "tian.ye")


def test_one_contract_reviewers_rejection_rejects_the_contract() -> None:
    ctx, values, _, state = _file("contract_review", _contract(), Applicant("P6"))
    state, _ = _decide("contract_review", state, ctx, values, "xu.ming")
    state, _ = _decide("contract_review", state, ctx, values, "hu.bin", "reject")
    assert state.status == "rejected" and not state.tasks


def test_a_deputy_head_returns_the_contract_to_the_review_and_chooses_the_way_back() -> None:
    app = load_bundled_template("contract_review")
    assert {n.resubmit for n in app.process.user_tasks()} == {"returner_chooses"}
    assert {n.add_sign_depth for n in app.process.user_tasks()} == {2}
    ctx, values, _, state = _file("contract_review", _contract(), Applicant("P6"))
    for who in REVIEWERS:
        state, _ = _decide("contract_review", state, ctx, values, who)
    task = next(t for t in state.tasks.values() if "xiao.yun" in t.assignees)
    returned = step(
        app.process,
        state,
        ReturnTask(task.task_id, "xiao.yun", "joint_review", "请补充风险意见", "straight_back"),
        ctx,
    ).state
    assert _holders(returned) == [("joint_review", who) for who in REVIEWERS]
    for who in REVIEWERS:
        returned, _ = _decide("contract_review", returned, ctx, values, who)
    # straight back to the deputy head step that returned it: both deputies again
    assert _holders(returned) == [("deputy_approval", who) for who in DEPUTIES]


def _claim(expense_type: str, amount: str) -> dict[str, object]:
    return {
        "expense_type": expense_type,
        "amount": amount,
        "expense_date": "2026-11-20",
        "invoice_count": 3,
        "description": "上海分行业务培训差旅",
    }


AUTO = "expense_type == 'travel' and amount < 5000 and applicant.job_level in ('M3', 'M4', 'M5')"


@pytest.mark.parametrize(
    ("expense_type", "amount", "job_level", "automatic"),
    [
        ("travel", "4999.99", "M3", True),  # a department manager's travel under 5,000
        ("travel", "800.00", "M4", True),
        ("travel", "100.00", "M5", True),
        ("travel", "5000.00", "M3", False),  # 5,000 is not under 5,000
        ("travel", "800.00", "P6", False),  # below department manager
        ("travel", "800.00", None, False),  # no job level: never automatic
        ("meals", "800.00", "M3", False),  # not travel
    ],
)
def test_reimbursement_approves_a_managers_small_travel_claim_automatically(
    expense_type: str, amount: str, job_level: str | None, automatic: bool
) -> None:
    ctx, values, effects, state = _file(
        "reimbursement", _claim(expense_type, amount), Applicant(job_level, "branch-bj")
    )
    if automatic:
        assert state.status == "approved" and not state.tasks
        assert [e for e in effects if isinstance(e, NodeSkipped)] == [
            NodeSkipped("manager_approval", "auto_approved", AUTO),
            NodeSkipped("finance_review", "auto_approved", AUTO),
        ]
        assert not [e for e in effects if isinstance(e, TaskOpened)]
        return
    # otherwise the manager, then finance (或签: the first finance reviewer decides)
    assert _holders(state) == [("manager_approval", "manager")]
    state, _ = _decide("reimbursement", state, ctx, values, "manager")
    assert _holders(state) == [("finance_review", "liu.yang"), ("finance_review", "ma.li")]
    state, _ = _decide("reimbursement", state, ctx, values, "ma.li")
    assert state.status == "approved" and not state.tasks
