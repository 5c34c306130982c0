"""Apps with boundary messages and an event-based gateway (ADR 0035), for the service,
web and browser tests."""

from __future__ import annotations

from typing import Any

from approval_apps import line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.services import apps, messages, tickets, views
from flowdesk.services.context import ServiceContext

XU = {"kind": "user", "user": "xu.ming"}
WANG = {"kind": "user", "user": "wang.fang"}


def _race_nodes() -> list[dict[str, Any]]:
    return [
        {"id": "wait", "type": "event_gateway", "name": {"en": "First of", "zh": "先到者"}},
        {
            "id": "paid",
            "type": "message_catch",
            "name": {"en": "Paid", "zh": "已付款"},
            "message": {"name": "payment_received", "key": "applicant_name"},
        },
        {
            "id": "expired",
            "type": "timer_catch",
            "name": {"en": "Three days", "zh": "三天"},
            "timer": {"after": "P3D"},
        },
        {
            "id": "ship",
            "type": "user_task",
            "assignee": {**XU},
            "name": {"en": "Ship", "zh": "发货"},
        },
        {
            "id": "chase",
            "type": "user_task",
            "assignee": {**WANG},
            "name": {"en": "Chase", "zh": "催款"},
        },
    ]


def _race_flows() -> list[dict[str, Any]]:
    return [
        {"from": "wait", "to": "paid"},
        {"from": "wait", "to": "expired"},
        {"from": "paid", "to": "ship"},
        {"from": "expired", "to": "chase"},
        {"from": "ship", "to": "end"},
        {"from": "chase", "to": "end"},
    ]


def boundary_app(key: str, interrupting: bool) -> str:
    """handle (xu.ming) -> end; a message `order_cancelled` keyed by the applicant's
    name on handle leads to refund (wang.fang) -> end."""
    definition = line_app(key, (), name={"en": key, "zh": key}, serial_prefix=key.upper()[:4])
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "handle", "type": "user_task", "assignee": {**XU}},
            {
                "id": "cancelled",
                "type": "boundary_message",
                "attached_to": "handle",
                "interrupting": interrupting,
                "message": {"name": "order_cancelled", "key": "applicant_name"},
            },
            {"id": "refund", "type": "user_task", "assignee": {**WANG}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "handle"},
            {"from": "handle", "to": "end"},
            {"from": "cancelled", "to": "refund"},
            {"from": "refund", "to": "end"},
        ],
    }
    return yaml_of(definition)


def race_app() -> str:
    """An event-based gateway: payment_received -> ship (xu.ming), or after 3 days
    -> chase (wang.fang)."""
    definition = line_app("race", (), name={"en": "Race", "zh": "竞速"}, serial_prefix="RACE")
    definition["process"] = {
        "nodes": [{"id": "start", "type": "start"}, *_race_nodes(), {"id": "end", "type": "end"}],
        "flows": [{"from": "start", "to": "wait"}, *_race_flows()],
    }
    return yaml_of(definition)


def order_app() -> str:
    """Both on one ticket: handle (xu.ming), interrupted by order_cancelled, goes to
    refund (wang.fang); then the first of payment_received and three days."""
    definition = line_app("order", (), name={"en": "Order", "zh": "订单"}, serial_prefix="ORDE")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "handle",
                "type": "user_task",
                "assignee": {**XU},
                "name": {"en": "Handle", "zh": "处理"},
            },
            {
                "id": "cancelled",
                "type": "boundary_message",
                "attached_to": "handle",
                "name": {"en": "Order cancelled", "zh": "订单取消"},
                "message": {"name": "order_cancelled", "key": "applicant_name"},
            },
            {
                "id": "refund",
                "type": "user_task",
                "assignee": {**WANG},
                "name": {"en": "Refund", "zh": "退款"},
            },
            *_race_nodes(),
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "handle"},
            {"from": "handle", "to": "wait"},
            {"from": "cancelled", "to": "refund"},
            {"from": "refund", "to": "wait"},
            *_race_flows(),
        ],
    }
    return yaml_of(definition)


def interrupted_ticket(ctx: ServiceContext, actors: dict[str, Actor]) -> str:
    """An order whose handling a cancellation interrupted; refunded, then paid: the
    timeline shows the interruption and the three-day wait cancelled. It waits at ship."""
    apps.publish_yaml(ctx, order_app())
    values = {
        "applicant_name": "PO-77",
        "amount": "2000.00",
        "term_months": 12,
        "credit_rating": "A",
        "region": "north",
        "purpose": "订单",
    }
    ticket_id = tickets.submit(
        ctx, actor=actors["zhang.wei"], app_key="order", values=values
    ).ticket_id
    admin = actors["admin"]
    messages.receive(ctx, actor=admin, name="order_cancelled", key="PO-77", message_id="e2e-1")
    view = views.ticket(ctx, actors["wang.fang"], ticket_id)
    (task,) = [t for t in view.open_tasks if t.node_id == "refund"]
    tickets.approve(ctx, actor=actors["wang.fang"], task_id=task.id)
    messages.receive(ctx, actor=admin, name="payment_received", key="PO-77", message_id="e2e-2")
    return ticket_id
