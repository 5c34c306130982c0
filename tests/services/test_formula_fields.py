"""Formula fields, conditional requiredness and defaults run on the server (ADR 0031), on
both databases: a formula is recomputed on submit and on an approver's edit, a hidden field
is neither required nor stored, and a circle of formulas is refused at publish."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from loan_desk import Desk, loan_values

from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed
from flowdesk.services import apps, tickets
from flowdesk.store import org as org_store

LABEL = {"en": "Field", "zh": "字段"}


def _loan(*extra: dict[str, Any], editable: list[str] | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    definition["form"]["fields"] += [{"label": dict(LABEL), **field} for field in extra]
    if editable:
        for node in definition["process"]["nodes"]:
            if node["id"] == "branch_review":
                node["editable"] = editable
    return definition


FORMULA_FIELDS = (
    {"key": "monthly", "type": "formula", "formula": "ROUND(amount / term_months, 2)"},
    {"key": "large", "type": "formula", "formula": "amount >= 100000"},
    # asked for only for a large loan; hidden (and so not required) otherwise
    {
        "key": "guarantor",
        "type": "text",
        "required": True,
        "visible_when": "large or term_months > 60",
    },
    {"key": "filed_on", "type": "date", "default": "TODAY()"},
    {"key": "department", "type": "text", "default": "applicant.department"},
)


@pytest.fixture
def formula_desk(desk: Desk) -> Desk:
    definition = _loan(*FORMULA_FIELDS, editable=["term_months"])
    apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    return desk


def test_a_formula_is_computed_on_submit_and_a_client_value_is_refused(
    formula_desk: Desk,
) -> None:
    desk = formula_desk
    ticket_id = desk.submit("1000.00", guarantor="someone")  # hidden: not stored
    values = desk.view(ticket_id).values
    assert values["monthly"] == "27.78"  # 1000 / 36, ROUND_HALF_UP
    assert values["large"] is False
    assert "guarantor" not in values
    today = desk.ctx.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert values["filed_on"] == today.isoformat()
    with desk.ctx.db.read() as conn:
        _level, department = org_store.job_level_and_department(
            conn, desk.actors["zhang.wei"].user_id
        )
    assert department and values["department"] == department

    with pytest.raises(ValidationFailed) as refused:
        desk.submit("1000.00", monthly="1.00")
    assert [(e.path, e.code) for e in refused.value.errors] == [("monthly", "computed_field")]


def test_a_visible_required_field_is_required_and_a_hidden_one_is_not(formula_desk: Desk) -> None:
    desk = formula_desk
    with pytest.raises(ValidationFailed) as refused:
        desk.submit("200000.00")
    assert [(e.path, e.code) for e in refused.value.errors] == [("guarantor", "required")]
    ticket_id = desk.submit("200000.00", guarantor="Li Si")
    values = desk.view(ticket_id).values
    assert values["guarantor"] == "Li Si" and values["large"] is True
    assert values["monthly"] == "5555.56"


def test_an_approvers_edit_recomputes_the_formulas_and_keeps_every_change(
    formula_desk: Desk,
) -> None:
    desk = formula_desk
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(
        desk.ctx, actor=desk.actors["li.na"], task_id=task.id, values={"term_months": 10}
    )
    view = desk.view(ticket_id)
    assert view.values["term_months"] == 10
    assert view.values["monthly"] == "100.00"
    [changed] = [e for e in view.timeline if e.kind == "values_changed"]
    assert changed.data["fields"] == ["term_months", "monthly"]
    assert {"field": "monthly", "old": "27.78", "new": "100.00"} in changed.data["changes"]


def test_an_edit_that_shows_a_required_field_must_fill_it(formula_desk: Desk) -> None:
    desk = formula_desk
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(ValidationFailed) as refused:
        tickets.approve(
            desk.ctx, actor=desk.actors["li.na"], task_id=task.id, values={"term_months": 72}
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [("guarantor", "required")]
    assert desk.view(ticket_id).values["term_months"] == 36  # nothing was written


def test_a_field_a_condition_reads_through_a_formula_is_not_editable(desk: Desk) -> None:
    definition = _loan(*FORMULA_FIELDS, editable=["monthly"])
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    assert [e.code for e in refused.value.errors] == ["editable_formula"]


def test_a_circle_of_formulas_is_refused_at_publish_naming_its_fields(desk: Desk) -> None:
    definition = _loan(
        {"key": "fee", "type": "formula", "formula": "total * 0.01"},
        {"key": "total", "type": "formula", "formula": "amount + fee"},
        {"key": "note", "type": "text", "visible_when": "LEN(nte) > 0"},
    )
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    errors = [(e.path, e.code) for e in refused.value.errors]
    assert ("form.fields[6].formula", "formula_cycle") in errors
    [cycle] = [e for e in refused.value.errors if e.code == "formula_cycle"]
    assert "fee → total → fee" in cycle.message


def test_type_errors_point_at_the_attribute_and_the_character(desk: Desk) -> None:
    definition = _loan(
        {"key": "monthly", "type": "formula", "formula": "amount / term_months", "result": "text"},
        {"key": "note", "type": "text", "visible_when": "LEN(nte) > 0"},
        {"key": "tag", "type": "text", "default": "UPPER(amount)"},
    )
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    found = {e.path: (e.code, e.message) for e in refused.value.errors}
    assert found["form.fields[6].formula"][0] == "type_mismatch"
    assert found["form.fields[7].visible_when"][0] == "unknown_field"
    assert "did you mean 'note'" in found["form.fields[7].visible_when"][1]
    assert found["form.fields[8].default"] == (
        "type_mismatch",
        "argument 1 of UPPER must be text, but this is number (at character 7)",
    )


def test_values_without_expressions_are_stored_as_sent(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    assert desk.view(ticket_id).values == loan_values("1000.00")


def test_field_errors_and_conditional_requiredness_come_back_together(formula_desk: Desk) -> None:
    desk = formula_desk
    with pytest.raises(ValidationFailed) as refused:
        desk.submit("200000.00", credit_rating="Z")
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("credit_rating", "invalid_choice"),
        ("guarantor", "required"),
    ]


def test_a_hidden_fields_bad_value_is_dropped_not_judged(formula_desk: Desk) -> None:
    desk = formula_desk
    ticket_id = desk.submit("1000.00", guarantor=12345)  # not text, but hidden: dropped
    assert "guarantor" not in desk.view(ticket_id).values
