"""Issue 8 through the API: a ticket filed with a users field (as a list) goes to the
people it names; a second approval in one ticket is 403 `approved_before` with the
reason, and nothing changes."""

from __future__ import annotations

import yaml
from api_client import Api, assert_problem

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext


def _label(text: str) -> dict[str, str]:
    return {"en": text, "zh": text}


def test_a_second_approval_is_refused_and_a_users_field_names_the_panel(
    api: Api, demo_ctx: ServiceContext
) -> None:
    finance = {"kind": "role", "role": "finance_reviewer"}
    definition = {
        "key": "purchase",
        "name": _label("Purchase"),
        "form": {
            "fields": [
                {"key": "title", "type": "text", "label": _label("Title")},
                {"key": "panel", "type": "users", "label": _label("Panel")},
            ]
        },
        "process": {
            "once_per_ticket": True,
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "split", "type": "parallel_gateway"},
                {
                    "id": "legal",
                    "type": "user_task",
                    "assignee": {"kind": "user", "user": "liu.yang"},
                },
                {"id": "finance", "type": "user_task", "assignee": finance},
                {"id": "join", "type": "parallel_gateway"},
                {
                    "id": "panel",
                    "type": "user_task",
                    "assignee": {"kind": "field_user", "field": "panel"},
                    "approval": {"mode": "all"},
                },
                {"id": "end", "type": "end"},
            ],
            "flows": [
                {"from": "start", "to": "split"},
                {"from": "split", "to": "legal"},
                {"from": "split", "to": "finance"},
                {"from": "legal", "to": "join"},
                {"from": "finance", "to": "join"},
                {"from": "join", "to": "panel"},
                {"from": "panel", "to": "end"},
            ],
        },
    }
    apps.publish_yaml(demo_ctx, yaml.safe_dump(definition, allow_unicode=True))
    values = {"title": "Desks", "panel": ["ma.li", "xu.ming", "liu.yang"]}
    ticket = api.post("zhang.wei", "/apps/purchase/tickets", json={"values": values}).json()
    tasks = {t["node_id"]: t["id"] for t in ticket["open_tasks"]}
    assert api.post("liu.yang", f"/tasks/{tasks['legal']}/approve", json={}).status_code == 200
    refused = assert_problem(
        api.post("liu.yang", f"/tasks/{tasks['finance']}/approve", json={}), 403, "approved_before"
    )
    assert "no one approves twice" in refused["title"].lower()
    done = api.post("ma.li", f"/tasks/{tasks['finance']}/approve", json={})
    assert done.status_code == 200
    view = api.get("zhang.wei", f"/tickets/{ticket['id']}").json()
    panel = [t for t in view["open_tasks"] if t["node_id"] == "panel"]
    # liu.yang and ma.li approved earlier steps: only xu.ming of the panel is left
    assert [p["name"] for t in panel for p in t["assignees"]] == ["徐明"]
