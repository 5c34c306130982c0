"""或签 through the REST API: each deputy lists their own task; after one approves, the
other's approve is a 409 problem, and the ticket's timeline says whose decision closed it."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values

from approval_apps import DEPUTIES, Step, line_app, yaml_of
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext


def _publish_or_sign(ctx: ServiceContext) -> None:
    apps.publish_yaml(ctx, yaml_of(line_app("deputies", (Step("deputies", DEPUTIES, "any"),))))


def _own_task(api: Api, username: str, ticket_id: str) -> str:
    response = api.get(username, "/tasks", params={"assignee": "me", "state": "open"})
    assert response.status_code == 200, response.text
    (task,) = [t for t in response.json()["items"] if t["ticket_id"] == ticket_id]
    return str(task["id"])


def test_or_sign_second_decision_is_a_409(api: Api, demo_ctx: ServiceContext) -> None:
    _publish_or_sign(demo_ctx)
    created = api.post("zhang.wei", "/apps/deputies/tickets", json={"values": loan_values()})
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    chen, yang = (_own_task(api, who, ticket_id) for who in ("chen.jing", "yang.guang"))
    assert chen != yang

    won = api.post("yang.guang", f"/tasks/{yang}/approve", json={"comment": "同意"})
    assert won.status_code == 200, won.text
    assert won.json()["status"] == "approved"
    late = api.post("chen.jing", f"/tasks/{chen}/approve", json={"comment": "同意"})
    assert_problem(late, 409, "task_not_open")

    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    states = {t["id"]: t["state"] for t in ticket["tasks"]}
    assert states == {yang: "approved", chen: "cancelled"}
    (closed,) = [e for e in ticket["timeline"] if e["kind"] == "task_cancelled"]
    assert closed["task_id"] == chen and closed["actor"] is None
    assert closed["data"]["reason"] == "node_decided"
    yang_id = next(t["completed_by"]["id"] for t in ticket["tasks"] if t["id"] == yang)
    assert closed["data"]["decided_by"] == yang_id
    (decided,) = [e for e in ticket["timeline"] if e["kind"] == "node_decided"]
    assert decided["data"]["mode"] == "any" and decided["data"]["approvers"] == 2
