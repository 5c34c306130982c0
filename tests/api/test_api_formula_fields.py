"""Through the API (ADR 0031): a form whose expressions are wrong is refused at publish with
every problem in problem+json errors[] at its attribute's path; a filed ticket carries its
computed formula, and a client may not send one."""

from __future__ import annotations

from typing import Any

import yaml
from api_client import Api, assert_problem

from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps


def _loan_yaml(*extra: dict[str, Any]) -> bytes:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    definition["form"]["fields"] += [
        {"label": {"en": "Field", "zh": "字段"}, **field} for field in extra
    ]
    return yaml.safe_dump(definition, allow_unicode=True).encode()


def _publish(api: Api, body: bytes) -> Any:
    return api.post(
        "admin", "/admin/apps", content=body, headers={"content-type": "application/yaml"}
    )


def test_expression_errors_come_back_at_once_with_their_paths(api: Api) -> None:
    body = _loan_yaml(
        {"key": "monthly", "type": "formula", "formula": "amount / "},
        {"key": "tag", "type": "text", "visible_when": "REGEXMATCH(purpose, '[0-9')"},
        {"key": "due", "type": "date", "default": "TODAY() + 1"},
        {"key": "x", "type": "formula", "formula": "y"},
        {"key": "y", "type": "formula", "formula": "x"},
    )
    problem = assert_problem(_publish(api, body), 422, "definition_invalid")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("form.fields[9].formula", "formula_cycle"),
        ("form.fields[6].formula", "syntax"),
        ("form.fields[7].visible_when", "invalid_pattern"),
        ("form.fields[8].default", "type_mismatch"),
    ]
    assert problem["errors"][2]["message"].endswith("(at character 21)")


def test_a_ticket_carries_its_formula_and_a_sent_one_is_refused(api: Api) -> None:
    body = _loan_yaml({"key": "monthly", "type": "formula", "formula": "ROUND(amount / 12, 2)"})
    assert _publish(api, body).status_code in (200, 201)
    values = {
        "applicant_name": "张三",
        "amount": "1000.00",
        "term_months": 12,
        "credit_rating": "A",
        "region": "north",
        "purpose": "Oven",
    }
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": values})
    assert filed.status_code == 201, filed.text
    assert filed.json()["values"]["monthly"] == "83.33"
    refused = api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        json={"values": {**values, "monthly": "1"}},
        headers={"Accept-Language": "zh-CN"},
    )
    problem = assert_problem(refused, 422, "validation_failed")
    assert problem["errors"] == [
        {"path": "monthly", "code": "computed_field", "message": "此项由公式计算得出，不能填写"}
    ]
