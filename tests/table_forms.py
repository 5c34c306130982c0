"""A reimbursement-like form with a sub-table (ADR 0036), shared by the engine, service,
API and web tests of sub-tables."""

from __future__ import annotations

import copy
from typing import Any


def text(en: str, zh: str | None = None) -> dict[str, str]:
    return {"en": en, "zh": zh or en}


LINES_COLUMNS: list[dict[str, Any]] = [
    {"key": "date", "type": "date", "label": text("Date", "日期"), "required": True},
    {
        "key": "type",
        "type": "choice",
        "label": text("Type", "类别"),
        "required": True,
        "options": [
            {"value": "travel", "label": text("Travel", "差旅")},
            {"value": "meal", "label": text("Meal", "餐费")},
            {"value": "other", "label": text("Other", "其他")},
        ],
    },
    {"key": "qty", "type": "integer", "label": text("Quantity", "数量"), "min": 1},
    {"key": "price", "type": "money", "label": text("Unit price", "单价"), "min": "0.01"},
    {
        "key": "amount",
        "type": "formula",
        "label": text("Amount", "金额"),
        "formula": "ROUND(qty * price, 2)",
    },
    {"key": "payee_id", "type": "resident_id", "label": text("Payee ID", "收款人身份证号")},
]


def table_form(**table: Any) -> dict[str, Any]:
    """The form: a purpose, the expense lines and the formulas over them."""
    lines: dict[str, Any] = {
        "key": "lines",
        "type": "table",
        "label": text("Expense lines", "费用明细"),
        "required": True,
        "max_rows": 20,
        "columns": copy.deepcopy(LINES_COLUMNS),
        **table,
    }
    return {
        "fields": [
            {"key": "purpose", "type": "text", "label": text("Purpose", "事由"), "required": True},
            lines,
            {
                "key": "total",
                "type": "formula",
                "label": text("Total", "合计"),
                "formula": "SUM(lines.amount)",
            },
            {
                "key": "travel_lines",
                "type": "formula",
                "label": text("Travel lines", "差旅笔数"),
                "formula": 'COUNTIF(lines.type, "travel")',
            },
        ]
    }


def table_app(key: str = "expenses", **table: Any) -> dict[str, Any]:
    """An app over the form: a total above 5,000 goes to the finance reviewers, any other
    to the applicant's manager (the gateway reads the sum of the lines itself)."""
    return {
        "key": key,
        "name": text("Expense lines", "费用明细报销"),
        "serial_prefix": "EL",
        "summary": ["purpose", "lines"],
        "form": table_form(**table),
        "process": {
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "route", "type": "exclusive_gateway"},
                {
                    "id": "finance",
                    "type": "user_task",
                    "name": text("Finance review", "财务审核"),
                    "assignee": {"kind": "role", "role": "finance_reviewer"},
                },
                {
                    "id": "manager",
                    "type": "user_task",
                    "name": text("Manager approval", "上级审批"),
                    "assignee": {"kind": "applicant_manager"},
                },
                {"id": "end", "type": "end"},
            ],
            "flows": [
                {"from": "start", "to": "route"},
                {"from": "route", "to": "finance", "condition": "SUM(lines.amount) > 5000"},
                {"from": "route", "to": "manager", "default": True},
                {"from": "finance", "to": "end"},
                {"from": "manager", "to": "end"},
            ],
        },
    }
