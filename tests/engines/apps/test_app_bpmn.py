"""An app's process imported from BPMN and exported to it: the form stays, conditions
are type-checked against it, and every problem names the BPMN element id."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_permission_app import field_permission_yaml
from flowdesk.engines.apps import (
    AppSpec,
    dump_app_bpmn,
    dump_app_yaml,
    load_app_bpmn,
    load_app_yaml,
    load_bundled_template,
)
from flowdesk.engines.process import AssigneeRule
from flowdesk.kernel.errors import DefinitionInvalid

LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
FILES = Path(__file__).parents[1] / "process" / "bpmn_files"
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FLOWDESK = "https://flowdesk.dev/schema/bpmn"


@pytest.fixture(scope="module")
def loan() -> AppSpec:
    return load_bundled_template("loan")


def gateway_file(condition: str, editable: str = "") -> str:
    return f"""<definitions xmlns="{MODEL}" xmlns:flowdesk="{FLOWDESK}" id="d">
  <process id="p" isExecutable="true">
    <startEvent id="Start"/>
    <userTask id="Task_Check">
      <extensionElements><flowdesk:assignee kind="role" role="clerk"/>{editable}</extensionElements>
    </userTask>
    <exclusiveGateway id="Gateway_1" default="Flow_Else"/>
    <endEvent id="End"/>
    <sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_Check"/>
    <sequenceFlow id="Flow_2" sourceRef="Task_Check" targetRef="Gateway_1"/>
    <sequenceFlow id="Flow_If" sourceRef="Gateway_1" targetRef="End">
      <conditionExpression><![CDATA[{condition}]]></conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Flow_Else" sourceRef="Gateway_1" targetRef="End"/>
  </process>
</definitions>"""


def problems(data: str, base: AppSpec) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as caught:
        load_app_bpmn(data, base)
    return [(error.path, error.code) for error in caught.value.errors]


def test_loan_bpmn_replaces_the_process_and_keeps_the_form(loan: AppSpec) -> None:
    imported = load_app_bpmn(LOAN_BPMN.read_bytes(), loan)
    app = imported.spec
    assert (app.key, app.name, app.form, app.summary) == (
        loan.key,
        loan.name,
        loan.form,
        loan.summary,
    )
    assert "Task_CreditCommittee" in app.process.nodes
    # same-named tasks of the current version lend their assignees; the rest is warned about
    tasks = app.process.nodes
    assert tasks["Task_LegalReview"].assignee == AssigneeRule("department_head", department="legal")
    assert tasks["Task_CreditCommittee"].assignee == AssigneeRule("role", role="credit_committee")
    assert tasks["Task_Apply"].assignee == AssigneeRule("applicant_manager")
    assert {(w.path, w.code) for w in imported.warnings} == {
        ("bpmn[Task_Apply]", "default_assignee"),
        ("bpmn[Task_BranchReview]", "default_assignee"),
        ("bpmn[Task_LegalReview]", "assignee_from_current_version"),
        ("bpmn[Task_FinanceReview]", "assignee_from_current_version"),
        ("bpmn[Task_CreditCommittee]", "assignee_from_current_version"),
        ("bpmn[Task_Disburse]", "assignee_from_current_version"),
    }
    assert app.diagram is not None and app.diagram.shapes["Task_Apply"] == (240, 190, 100, 80)


def test_export_then_import_gives_the_same_app(loan: AppSpec) -> None:
    app = load_app_bpmn(LOAN_BPMN.read_bytes(), loan).spec
    again = load_app_bpmn(dump_app_bpmn(app), loan)
    assert again.spec == app
    assert again.warnings == ()
    # a template never drawn exports with a computed diagram, and re-imports to itself
    from_template = load_app_bpmn(dump_app_bpmn(loan), loan).spec
    assert from_template.process == loan.process
    assert from_template.diagram is not None


def test_the_diagram_travels_in_the_app_yaml(loan: AppSpec) -> None:
    app = load_app_bpmn(LOAN_BPMN.read_bytes(), loan).spec
    text = dump_app_yaml(app)
    assert "Task_Apply: [240, 190, 100, 80]" in text
    assert load_app_yaml(text) == app


def test_a_yaml_diagram_keeps_only_entries_of_the_process(loan: AppSpec) -> None:
    data = loan.to_dict()
    data["diagram"] = {"shapes": {"committee": [1, 2, 3, 4], "gone": [5, 6, 7, 8]}, "edges": {}}
    from flowdesk.engines.apps import parse_app

    parsed = parse_app(data)
    assert parsed.diagram is not None and set(parsed.diagram.shapes) == {"committee"}
    data["diagram"] = {"shapes": {"committee": [1, 2, "x", 4]}, "edges": {"a": [[1, 2]]}}
    with pytest.raises(DefinitionInvalid) as caught:
        parse_app(data)
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("diagram.shapes.committee", "invalid_bounds"),
        ("diagram.edges.a", "invalid_waypoints"),
    ]


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("${amount > 'many'}", "expr_type_mismatch"),
        ("${score > 1}", "expr_unknown_field"),
        ("${execution.getVariable('amount') > 5}", "expr_syntax"),
        ("${a} and ${b}", "expr_syntax"),
        ("amount.compareTo(5) > 0", "expr_syntax"),
        ("=size(items) > 2", "expr_unknown_function"),
    ],
)
def test_conditions_flowdesk_cannot_express_are_refused_at_the_flow(
    loan: AppSpec, condition: str, code: str
) -> None:
    assert problems(gateway_file(condition), loan) == [("bpmn[Flow_If].conditionExpression", code)]


@pytest.mark.parametrize(
    "condition",
    [
        "${amount gt 50000 && credit_rating == 'A'}",
        "#{term_months ge 12 or region eq 'north'}",
        '=amount > 100 and not(credit_rating = "C")',
        "amount <= 50000",
        "${region in ('north', 'south')}",
    ],
)
def test_simple_juel_feel_and_python_conditions_type_check(loan: AppSpec, condition: str) -> None:
    app = load_app_bpmn(gateway_file(condition), loan).spec
    assert app.process.conditions()


def test_editable_fields_are_checked_against_the_form_at_the_task(loan: AppSpec) -> None:
    editable = '<flowdesk:editable field="amount"/><flowdesk:editable field="purpse"/>'
    assert problems(gateway_file("amount > 5", editable), loan) == [
        ("bpmn[Task_Check].fields.amount", "editable_field_routes"),
        ("bpmn[Task_Check].fields.purpse", "unknown_field"),
    ]


def test_all_problems_come_back_together(loan: AppSpec) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        load_app_bpmn((FILES / "unsupported.bpmn").read_bytes(), loan)
    assert len(caught.value.errors) == 10


def test_field_permissions_travel_as_flowdesk_field_elements() -> None:
    """Per-node field permissions (ADR 0037): `<flowdesk:field key= access=>` on a task and
    the start event, written and read back; the old `<flowdesk:editable>` still reads."""
    app = load_app_yaml(field_permission_yaml())
    exported = dump_app_bpmn(app)
    assert '<flowdesk:field key="private_note" access="hidden"' in exported
    assert '<flowdesk:field key="approved_amount" access="hidden"' in exported  # the start
    again = load_app_bpmn(exported, app).spec
    assert again.process == app.process
    review = again.process.nodes["branch_review"]
    assert review.access("private_note") == "hidden"
    assert review.access("approved_amount") == "editable"
    assert review.access("amount") == "read_only"


def test_a_field_permission_names_a_known_access(loan: AppSpec) -> None:
    wrong = '<flowdesk:field key="purpose" access="secret"/>'
    assert problems(gateway_file("amount > 5", wrong), loan) == [
        ("bpmn[Task_Check].fields.purpose", "unknown_access")
    ]
