"""POST /api/v1/messages resumes a ticket waiting at a message event (ADR 0023), on both
databases: 404 when nobody waits, 409 when it was received already, 422 for bad input,
idempotent by the message id; the timeline and the audit record it."""

from __future__ import annotations

from typing import Any

import pytest
from api_client import Api, assert_problem, loan_values

from approval_apps import line_app, yaml_of
from flowdesk.services import apps, org, tickets, views
from flowdesk.services.context import ServiceContext
from flowdesk.services.demo import DEMO_PASSWORD


def _app() -> str:
    definition = line_app("paywait", (), name={"en": "Pay", "zh": "付款"}, serial_prefix="PAYW")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "paid",
                "type": "message_catch",
                "message": {"name": "payment_received", "key": "applicant_name"},
            },
            {"id": "check", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "paid"},
            {"from": "paid", "to": "check"},
            {"from": "check", "to": "end"},
        ],
    }
    return yaml_of(definition)


@pytest.fixture
def waiting(demo_ctx: ServiceContext, actors: dict[str, Any]) -> str:
    apps.publish_yaml(demo_ctx, _app())
    org.ensure_role(demo_ctx, key="message_sender", name_en="Message sender", name_zh="消息发送方")
    org.create_user(
        demo_ctx,
        username="erp.bot",
        display_name="ERP",
        password=DEMO_PASSWORD,
        department_code="finance",
        roles=("message_sender",),
    )
    outcome = tickets.submit(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="paywait",
        values=loan_values(applicant_name="PO-2026-7"),
    )
    assert outcome.status == "running" and outcome.opened_task_ids == ()
    return outcome.ticket_id


def _send(api: Api, who: str = "erp.bot", **fields: Any) -> Any:
    message = {"name": "payment_received", "key": "PO-2026-7", "message_id": "m-1", **fields}
    return api.post(who, "/messages", json=message)


def test_a_message_resumes_the_waiting_ticket_once(
    api: Api, waiting: str, demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    answer = _send(api, variables={"purpose": "Paid in full"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "message_id": "m-1",
        "ticket_id": waiting,
        "status": "running",
        "duplicate": False,
        "started": False,
    }
    view = views.ticket(demo_ctx, actors["admin"], waiting)
    assert [t.node_id for t in view.open_tasks] == ["check"]
    assert view.values["purpose"] == "Paid in full"
    kinds = [e.kind for e in view.timeline]
    assert "message_awaited" in kinds and "message_received" in kinds

    again = _send(api, variables={"purpose": "Paid in full"})  # a retry of the same message
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    view = views.ticket(demo_ctx, actors["admin"], waiting)
    assert [e.kind for e in view.timeline].count("message_received") == 1

    other = _send(api, message_id="m-2")
    assert_problem(other, 409, "message_already_received")
    reused = _send(api, key="PO-other")
    assert_problem(reused, 409, "message_id_reused")


def test_no_ticket_waits_bad_input_and_who_may_send(api: Api, waiting: str) -> None:
    assert_problem(_send(api, key="PO-nobody", message_id="m-9"), 404, "no_waiting_ticket")
    assert _send(api, message_id="").status_code == 422
    assert _send(api, variables={"amount": "not money"}).status_code == 422
    assert_problem(_send(api, who="zhang.wei"), 403, "not_message_sender")
    assert _send(api, who="admin", message_id="m-admin").status_code == 200


def test_a_tickets_pending_timers_are_in_its_detail(api: Api, demo_ctx: ServiceContext) -> None:
    created = api.post(
        "zhang.wei",
        "/apps/complaint/tickets",
        json={
            "values": {
                "customer_name": "王女士",
                "channel": "online",
                "severity": "normal",
                "description": "App login fails",
            }
        },
    )
    assert created.status_code == 201, created.text
    ticket = api.get("zhang.wei", f"/tickets/{created.json()['id']}").json()
    assert [(t["node_id"], t["action"]) for t in ticket["timers"]] == [
        ("remind_handler", "remind"),
        ("escalate_to_manager", "escalate"),
        ("back_to_applicant", "return"),
    ]
    assert {t["attached_to"] for t in ticket["timers"]} == {"first_response"}


def _orders_app() -> str:
    """A process started by a message (ADR 0035): order_placed, its key the applicant
    name field."""
    definition = line_app("orders", (), name={"en": "Orders", "zh": "订单"}, serial_prefix="ORDR")
    definition["process"] = {
        "nodes": [
            {
                "id": "start",
                "type": "start",
                "message": {"name": "order_placed", "key": "applicant_name"},
            },
            {"id": "check", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
    }
    return yaml_of(definition)


def test_a_message_nobody_waits_for_files_a_ticket_of_the_app_it_starts(
    api: Api, waiting: str, demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    apps.publish_yaml(demo_ctx, _orders_app())
    values = {k: v for k, v in loan_values().items() if k != "applicant_name"}
    message = {"name": "order_placed", "key": "PO-88", "message_id": "m-88", "variables": values}
    answer = api.post("erp.bot", "/messages", json=message)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["started"], body["duplicate"], body["status"]) == (True, False, "running")
    view = views.ticket(demo_ctx, actors["admin"], body["ticket_id"])
    assert view.app_key == "orders"
    assert view.values["applicant_name"] == "PO-88"  # the key, written into its field
    assert view.requester.name == "ERP"  # filed for the sender's account
    assert [t.node_id for t in view.open_tasks] == ["check"]
    again = api.post("erp.bot", "/messages", json=message)  # never a second ticket
    assert again.json()["ticket_id"] == body["ticket_id"]
    assert again.json()["duplicate"] is True
    bad = api.post(
        "erp.bot",
        "/messages",
        json={**message, "message_id": "m-89", "variables": {**values, "amount": "lots"}},
    )
    problem = assert_problem(bad, 422, "validation_failed")
    assert any(e["path"] == "amount" for e in problem["errors"])
