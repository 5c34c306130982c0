"""Through the API (ADR 0036): a ticket with a sub-table is filed with its rows, its row
formulas and sums computed by the server and routed on the sum; every bad cell comes back
in problem+json errors[] as `lines[row].column` (rows from 1), nothing echoed; personal
columns come back masked."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import yaml
from api_client import Api, assert_problem
from sqlalchemy import text

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext
from table_forms import LINES_COLUMNS, table_app
from table_forms import text as text_of

ID = "11010519491231002X"


@pytest.fixture
def expenses(api: Api, demo_ctx: ServiceContext) -> Api:
    apps.publish_yaml(demo_ctx, yaml.safe_dump(table_app(), allow_unicode=True))
    return api


def line(**cells: Any) -> dict[str, Any]:
    return {"date": "2026-12-01", "type": "travel", "qty": 1, "price": "100.00", **cells}


def test_a_ticket_with_lines_is_computed_routed_on_the_sum_and_masked(expenses: Api) -> None:
    values = {"purpose": "Client visit", "lines": [line(qty=2), line(price="4900.00", payee_id=ID)]}
    filed = expenses.post("zhang.wei", "/apps/expenses/tickets", json={"values": values})
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert [row["amount"] for row in ticket["values"]["lines"]] == ["200.00", "4900.00"]
    assert ticket["values"]["total"] == "5100.00"
    assert ticket["values"]["travel_lines"] == "2"
    assert ticket["values"]["lines"][1]["payee_id"] == "110***********002X"
    assert ID not in filed.text
    assert [t["node_id"] for t in ticket["open_tasks"]] == ["finance"]  # 5,100 > 5,000
    again = expenses.get("zhang.wei", f"/tickets/{ticket['id']}")
    assert ID not in again.text and again.json()["values"]["total"] == "5100.00"

    small = {"purpose": "Lunch", "lines": [line(type="meal", price="80.00")]}
    filed = expenses.post("zhang.wei", "/apps/expenses/tickets", json={"values": small})
    assert [t["node_id"] for t in filed.json()["open_tasks"]] == ["manager"]


def test_every_bad_cell_is_named_by_row_and_column_at_once(expenses: Api) -> None:
    wrong_id = ID[:-1] + "1"
    values = {
        "lines": [
            line(),
            line(date="2026-13-01", price=12.5),
            line(qty="3", payee_id=wrong_id, amount="1"),
        ],
    }
    refused = expenses.post(
        "zhang.wei",
        "/apps/expenses/tickets",
        json={"values": values},
        headers={"Accept-Language": "zh-CN"},
    )
    problem = assert_problem(refused, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("purpose", "required"),
        ("lines[2].date", "invalid_date"),
        ("lines[2].price", "float_not_allowed"),
        ("lines[3].qty", "invalid_type"),
        ("lines[3].amount", "computed_field"),
        ("lines[3].payee_id", "resident_id_check_digit"),
    ]
    assert problem["errors"][5]["message"] == "身份证号校验位错误"
    assert wrong_id not in refused.text
    listed = expenses.get("zhang.wei", "/tickets", params={"scope": "mine"}).json()
    assert all(t["app"] != "expenses" for t in listed["items"])  # nothing half-written


def test_too_many_rows_is_refused_at_the_table(expenses: Api) -> None:
    values = {"purpose": "x", "lines": [line()] * 21}
    refused = expenses.post("zhang.wei", "/apps/expenses/tickets", json={"values": values})
    problem = assert_problem(refused, 422, "validation_failed")
    assert problem["errors"] == [
        {"path": "lines", "code": "too_many_rows", "message": "At most 20 rows"}
    ]


def test_an_export_shows_a_table_as_its_row_count_and_totals_masked(expenses: Api) -> None:
    values = {"purpose": "Trip", "lines": [line(qty=2, payee_id=ID), line(price="0.50")]}
    assert expenses.post("zhang.wei", "/apps/expenses/tickets", json={"values": values}).is_success
    answer = expenses.get(
        "zhang.wei",
        "/tickets/export",
        params={"scope": "mine", "app": "expenses", "format": "csv"},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200, answer.text
    text = answer.content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))[:2]
    cell = row[header.index("Expense lines")]
    # 2 × 100.00 + 1 × 0.50: unit prices 100.50, amounts 200.50
    assert cell == "2 rows; Unit price total 100.50 CNY; Amount total 200.50"
    assert ID not in text


def test_an_import_refuses_a_sub_table_with_a_clear_message(expenses: Api) -> None:
    sheet = io.StringIO()
    csv.writer(sheet).writerows([["Purpose", "Expense lines"], ["Trip", "2 rows"]])
    answer = expenses.post(
        "zhang.wei",
        "/apps/expenses/imports",
        content=sheet.getvalue().encode(),
        headers={"Content-Type": "text/csv"},
    )
    problem = assert_problem(answer, 422, "invalid_mapping")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("columns.B", "table_not_importable")
    ]
    assert "sub-table" in problem["errors"][0]["message"]
    sheet = io.StringIO()
    csv.writer(sheet).writerows([["Purpose"], ["Trip"]])
    answer = expenses.post(
        "zhang.wei",
        "/apps/expenses/imports",
        content=sheet.getvalue().encode(),
        headers={"Content-Type": "text/csv"},
    )
    problem = assert_problem(answer, 422, "table_not_importable")
    assert [e["path"] for e in problem["errors"]] == ["columns.lines"]


def test_lines_a_condition_routes_on_cannot_be_editable(api: Api, demo_ctx: ServiceContext) -> None:
    definition = table_app()
    definition["process"]["nodes"][3]["editable"] = ["lines"]
    answer = api.post(
        "admin",
        "/admin/apps",
        content=yaml.safe_dump(definition, allow_unicode=True).encode(),
        headers={"content-type": "application/yaml"},
    )
    problem = assert_problem(answer, 422, "definition_invalid")
    assert [e["code"] for e in problem["errors"]] == ["editable_field_routes"]


def test_an_approver_edits_lines_row_by_row_and_masked_numbers_stay(
    api: Api, demo_ctx: ServiceContext
) -> None:
    definition = table_app()
    definition["process"]["flows"][1]["condition"] = "purpose = 'finance'"
    definition["process"]["nodes"][3]["editable"] = ["lines"]
    apps.publish_yaml(demo_ctx, yaml.safe_dump(definition, allow_unicode=True))
    values = {"purpose": "Trip", "lines": [line(payee_id=ID), line(qty=2)]}
    ticket = api.post("zhang.wei", "/apps/expenses/tickets", json={"values": values}).json()
    tasks = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).json()
    (task_id,) = [t["id"] for t in tasks["items"] if t["ticket_id"] == ticket["id"]]
    shown = api.get("li.na", f"/tickets/{ticket['id']}").json()["values"]["lines"]
    edited = [{k: v for k, v in row.items() if k != "amount"} for row in shown]
    edited[1]["qty"] = 3  # the approver corrects the second line; the first comes back masked
    approved = api.post(
        "li.na", f"/tasks/{task_id}/approve", json={"comment": "ok", "values": {"lines": edited}}
    )
    assert approved.status_code == 200, approved.text
    after = api.get("zhang.wei", f"/tickets/{ticket['id']}")
    assert after.json()["values"]["total"] == "400.00"  # 100.00 + 3 × 100.00
    assert ID not in after.text
    with demo_ctx.db.read() as conn:
        stored = conn.execute(
            text('SELECT t."values" FROM tickets t WHERE t.id = :id'), {"id": ticket["id"]}
        ).scalar_one()
        kept = [str(row[0]) for row in conn.execute(text("SELECT a.details FROM audit_log a"))] + [
            str(row[0])
            for row in conn.execute(
                text("SELECT s.events FROM ticket_steps s WHERE s.ticket_id = :id"),
                {"id": ticket["id"]},
            )
        ]
    stored_values = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored_values["lines"][0]["payee_id"] == ID  # the masked echo kept the number
    assert stored_values["lines"][1]["amount"] == "300.00"
    assert any("values_changed" in entry for entry in kept)
    assert not any(ID in entry for entry in kept)  # the timeline and audit keep it masked


def test_the_lines_text_is_searched(api: Api, demo_ctx: ServiceContext) -> None:
    columns = [*LINES_COLUMNS, {"key": "note", "type": "text", "label": text_of("Note")}]
    apps.publish_yaml(demo_ctx, yaml.safe_dump(table_app(columns=columns), allow_unicode=True))
    values = {"purpose": "Trip", "lines": [line(), line(note="Hangzhou ferry")]}
    filed = api.post("zhang.wei", "/apps/expenses/tickets", json={"values": values})
    assert filed.status_code == 201, filed.text
    found = api.get("zhang.wei", "/tickets", params={"scope": "mine", "q": "ferry"}).json()
    assert [t["id"] for t in found["items"]] == [filed.json()["id"]]
