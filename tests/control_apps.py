"""An app whose process runs an embedded sub-process with an error end caught by a
boundary event (ADR 0022), for the web and browser tests of the ticket page."""

from __future__ import annotations

from typing import Any

from approval_apps import line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.services import apps, tickets, views
from flowdesk.services.context import ServiceContext


def _user(who: str) -> dict[str, Any]:
    return {"kind": "user", "user": who}


def checks_app() -> str:
    """A KYC sub-process whose large-amount check throws LIMIT_EXCEEDED, caught by a
    boundary event that sends the ticket to rework; an AML check runs beside it."""
    definition = line_app("kyc", (), name={"en": "KYC", "zh": "客户尽调"}, serial_prefix="KYC")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "checks", "type": "sub_process", "name": {"en": "Checks", "zh": "核查"}},
            {"id": "c_start", "type": "start", "scope": "checks"},
            {"id": "c_split", "type": "parallel_gateway", "scope": "checks"},
            {
                "id": "kyc",
                "type": "user_task",
                "scope": "checks",
                "assignee": _user("wang.fang"),
                "name": {"en": "KYC check", "zh": "尽职调查"},
            },
            {
                "id": "aml",
                "type": "user_task",
                "scope": "checks",
                "assignee": _user("liu.yang"),
                "name": {"en": "AML check", "zh": "反洗钱核查"},
            },
            {"id": "limit", "type": "exclusive_gateway", "scope": "checks"},
            {
                "id": "too_large",
                "type": "error_end",
                "scope": "checks",
                "error_code": "LIMIT_EXCEEDED",
                "name": {"en": "Over the limit", "zh": "超出限额"},
            },
            {"id": "c_join", "type": "parallel_gateway", "scope": "checks"},
            {"id": "c_end", "type": "end", "scope": "checks"},
            {
                "id": "on_limit",
                "type": "boundary_error",
                "attached_to": "checks",
                "error_code": "LIMIT_EXCEEDED",
            },
            {
                "id": "rework",
                "type": "user_task",
                "assignee": _user("ma.li"),
                "name": {"en": "Rework", "zh": "整改"},
            },
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "c_start", "to": "c_split"},
            {"from": "c_split", "to": "kyc"},
            {"from": "c_split", "to": "aml"},
            {"from": "kyc", "to": "limit"},
            {"from": "limit", "to": "too_large", "condition": "amount > 1000000"},
            {"from": "limit", "to": "c_join", "default": True},
            {"from": "aml", "to": "c_join"},
            {"from": "c_join", "to": "c_end"},
            {"from": "start", "to": "checks"},
            {"from": "checks", "to": "end"},
            {"from": "on_limit", "to": "rework"},
            {"from": "rework", "to": "end"},
        ],
    }
    return yaml_of(definition)


def error_ticket(ctx: ServiceContext, actors: dict[str, Actor]) -> str:
    """A KYC ticket whose KYC check wang.fang approved over the limit: the error closed
    liu.yang's AML check and the ticket waits for ma.li's rework."""
    apps.publish_yaml(ctx, checks_app())
    ticket_id = tickets.submit(
        ctx,
        actor=actors["zhang.wei"],
        app_key="kyc",
        values={
            "applicant_name": "李雷",
            "amount": "2000000.00",
            "term_months": 36,
            "credit_rating": "A",
            "region": "north",
            "purpose": "经营周转",
        },
    ).ticket_id
    view = views.ticket(ctx, actors["wang.fang"], ticket_id)
    (task,) = [t for t in view.open_tasks if t.node_id == "kyc"]
    tickets.approve(ctx, actor=actors["wang.fang"], task_id=task.id)
    return ticket_id
