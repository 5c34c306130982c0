"""Apps for call activity tests (ADR 0033): credit_order calls credit_check, both on the
loan form; the child's purpose is filled by a literal and mapped back to the parent."""

from __future__ import annotations

from approval_apps import line_app, yaml_of

INPUTS = {
    "applicant_name": "applicant_name",
    "amount": "amount",
    "term_months": "term_months",
    "credit_rating": "credit_rating",
    "region": "region",
    "purpose": "=Checked by the credit desk",
}


def child_app() -> str:
    definition = line_app("credit_check", (), serial_prefix="CHK")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "check", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
    }
    return yaml_of(definition)


def parent_app(inputs: dict[str, str] | None = None) -> str:
    definition = line_app("credit_order", (), serial_prefix="ORD")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "call_activity",
                "call": {
                    "app": "credit_check",
                    "inputs": inputs if inputs is not None else INPUTS,
                    "outputs": {"purpose": "purpose"},
                },
            },
            {"id": "sign", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "call"},
            {"from": "call", "to": "sign"},
            {"from": "sign", "to": "end"},
        ],
    }
    return yaml_of(definition)


def order_values() -> dict[str, object]:
    """A valid loan form for the parent."""
    return {
        "applicant_name": "张三",
        "amount": "120000.00",
        "term_months": 36,
        "credit_rating": "A",
        "region": "north",
        "purpose": "Working capital for a bakery",
    }
