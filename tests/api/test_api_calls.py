"""GET /api/v1/tickets/{id} links a call activity's parent and child both ways (ADR 0033)."""

from __future__ import annotations

from typing import Any

from api_client import Api, loan_values

from call_apps import child_app, parent_app
from flowdesk.services import apps, calls, tickets
from flowdesk.services.context import ServiceContext


def test_the_ticket_answer_names_its_parent_and_children(
    api: Api, demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    apps.publish_yaml(demo_ctx, child_app())
    apps.publish_yaml(demo_ctx, parent_app())
    parent = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="credit_order", values=loan_values()
    ).ticket_id
    assert calls.run_due(demo_ctx).started == 1
    answer = api.get("zhang.wei", f"/tickets/{parent}").json()
    assert answer["parent"] is None
    (child,) = answer["children"]
    assert (child["app"], child["status"], child["node_id"]) == ("credit_check", "running", "call")
    assert child["serial"].startswith("CHK-")
    back = api.get("zhang.wei", f"/tickets/{child['id']}").json()
    assert back["parent"]["id"] == parent and back["children"] == []
