"""Admin repairs through the REST API (ADR 0026): jump, reassign, cancel and migrate under
/api/v1/admin/…, each refused with its stable problem code for anyone but an admin or a
process admin, for bad targets and for finished tickets; declared in the OpenAPI
document."""

from __future__ import annotations

from typing import Any

import yaml
from api_client import Api, assert_problem, loan_values

from approval_apps import CONTRACT_STEPS, line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

INVALID = "validation_failed"


def _file(api: Api, amount: str = "120000.00") -> dict[str, Any]:
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values(amount)})
    assert filed.status_code == 201, filed.text
    return dict(filed.json())


def _open(api: Api, ticket_id: str) -> list[str]:
    ticket = api.get("admin", f"/tickets/{ticket_id}").json()
    return sorted(t["node_id"] for t in ticket["tasks"] if t["state"] == "open")


def test_an_admin_jumps_a_ticket_out_of_its_parallel_reviews(api: Api) -> None:
    ticket = _file(api)
    ticket_id = ticket["id"]
    seen = [t["id"] for t in ticket["tasks"] if t["state"] == "open"]
    assert_problem(
        api.post("zhang.wei", f"/admin/tickets/{ticket_id}/jump", json={"node": "committee"}),
        403,
        "not_repair_admin",
    )
    assert_problem(
        api.post("admin", f"/admin/tickets/{ticket_id}/jump", json={"node": "legal_review"}),
        409,
        "jump_into_parallel",
    )
    assert_problem(
        api.post("admin", f"/admin/tickets/{ticket_id}/jump", json={"node": "split"}),
        422,
        "not_user_task",
    )
    assert_problem(
        api.post("admin", f"/admin/tickets/{ticket_id}/jump", json={"node": "nope"}),
        422,
        "unknown_node",
    )
    assert_problem(
        api.post("admin", f"/admin/tickets/{ticket_id}/jump", json={"node": 7}), 422, INVALID
    )
    moved = api.post(
        "admin",
        f"/admin/tickets/{ticket_id}/jump",
        json={"node": "committee", "comment": "线下已审", "open_tasks": seen},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "running" and len(moved.json()["opened_task_ids"]) == 1
    assert _open(api, ticket_id) == ["committee"]
    timeline = api.get("admin", f"/tickets/{ticket_id}").json()["timeline"]
    jumped = next(e for e in timeline if e["kind"] == "ticket_jumped")
    assert jumped["node_id"] == "committee" and jumped["comment"] == "线下已审"
    # the tasks the admin saw are gone: a second jump from the same view is refused
    assert_problem(
        api.post(
            "admin",
            f"/admin/tickets/{ticket_id}/jump",
            json={"node": "disburse", "open_tasks": seen},
        ),
        409,
        "ticket_changed",
    )


def test_an_admin_reassigns_a_task_and_maker_checker_still_holds(api: Api) -> None:
    ticket = _file(api, "30000.00")
    task_id = next(t["id"] for t in ticket["tasks"] if t["state"] == "open")
    assert_problem(
        api.post("admin", f"/admin/tasks/{task_id}/reassign", json={"to": ["zhang.wei"]}),
        403,
        "self_approval",
    )
    assert_problem(
        api.post("admin", f"/admin/tasks/{task_id}/reassign", json={"to": []}), 422, INVALID
    )
    assert_problem(
        api.post("li.na", f"/admin/tasks/{task_id}/reassign", json={"to": ["chen.jing"]}),
        403,
        "not_repair_admin",
    )
    given = api.post(
        "admin", f"/admin/tasks/{task_id}/reassign", json={"to": ["chen.jing"], "comment": "休假"}
    )
    assert given.status_code == 200, given.text
    [new_task] = given.json()["opened_task_ids"]
    assert api.post("chen.jing", f"/tasks/{new_task}/approve", json={}).status_code == 200
    assert _open(api, ticket["id"]) == ["disburse"]
    assert_problem(
        api.post("admin", f"/admin/tasks/{task_id}/reassign", json={"to": ["chen.jing"]}),
        409,
        "task_not_open",
    )


def test_an_admin_cancels_only_with_a_reason(api: Api) -> None:
    ticket_id = _file(api)["id"]
    assert_problem(api.post("admin", f"/admin/tickets/{ticket_id}/cancel", json={}), 422, INVALID)
    cancelled = api.post(
        "admin", f"/admin/tickets/{ticket_id}/cancel", json={"comment": "客户撤回"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["status"] == "cancelled"
    assert_problem(
        api.post("admin", f"/admin/tickets/{ticket_id}/cancel", json={"comment": "again"}),
        409,
        "ticket_not_running",
    )


def _publish_v2(ctx: ServiceContext) -> int:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] == "committee":
            node["id"] = "credit_committee"
    for flow in definition["process"]["flows"]:
        for end in ("from", "to"):
            if flow[end] == "committee":
                flow[end] = "credit_committee"
    return apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True)).version


def test_an_admin_migrates_tickets_after_the_whole_mapping_was_checked(
    api: Api, demo_ctx: ServiceContext
) -> None:
    first = _file(api)["id"]
    second = _file(api, "130000.00")["id"]
    version = _publish_v2(demo_ctx)
    refused = api.post(
        "admin",
        "/admin/tickets/migrate",
        json={"ticket_ids": [first, second], "version": version, "mapping": {"legal_review": "x"}},
    )
    assert_problem(refused, 422, "migration_invalid")
    assert sorted((e["path"], e["code"]) for e in refused.json()["errors"]) == [
        ("mapping.finance_review", "node_not_mapped"),
        ("mapping.finance_review", "node_not_mapped"),
        ("mapping.legal_review", "unknown_node"),
        ("mapping.legal_review", "unknown_node"),
    ]
    assert api.get("admin", f"/tickets/{first}").json()["app_version"] == version - 1
    assert_problem(
        api.post(
            "li.na",
            "/admin/tickets/migrate",
            json={"ticket_ids": [first], "version": version, "mapping": {}},
        ),
        403,
        "not_repair_admin",
    )
    assert_problem(
        api.post(
            "admin",
            "/admin/tickets/migrate",
            json={"ticket_ids": [first], "version": version, "mapping": {}, "status": "x"},
        ),
        422,
        "validation_failed",
    )
    mapping = {"legal_review": "legal_review", "finance_review": "finance_review"}
    migrated = api.post(
        "admin",
        "/admin/tickets/migrate",
        json={"ticket_ids": [first, second], "version": version, "mapping": mapping},
    )
    assert migrated.status_code == 200, migrated.text
    assert migrated.json() == {"version": version, "moved": [first, second], "left": []}
    ticket = api.get("admin", f"/tickets/{first}").json()
    assert ticket["app_version"] == version
    assert any(e["kind"] == "ticket_migrated" for e in ticket["timeline"])
    assert _open(api, first) == ["finance_review", "legal_review"]


def test_the_repairs_are_declared_in_the_openapi_document(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/admin/tickets/{ticket_id}/jump",
        "/admin/tasks/{task_id}/reassign",
        "/admin/tickets/{ticket_id}/cancel",
        "/admin/tickets/migrate",
    ):
        operation = paths[path]["post"]
        for status in ("403", "409", "422"):
            assert "application/problem+json" in operation["responses"][status]["content"]


def test_an_admin_removes_a_pending_countersigner(
    api: Api, demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    """APPROVALS.md edge case 12 (ADR 0041): POST /admin/tasks/{id}/remove-approver."""
    apps.publish_yaml(demo_ctx, yaml_of(line_app("contract", CONTRACT_STEPS)))
    filed = api.post("zhang.wei", "/apps/contract/tickets", json={"values": loan_values()})
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]
    names = {a.user_id: name for name, a in actors.items()}
    tasks = {names[t["assignees"][0]["id"]]: t["id"] for t in filed.json()["tasks"]}
    for who in ("wang.fang", "liu.yang"):
        assert api.post(who, f"/tasks/{tasks[who]}/approve", json={}).status_code == 200
    url = f"/admin/tasks/{tasks['ma.li']}/remove-approver"
    assert_problem(api.post("li.na", url, json={}), 403, "not_repair_admin")
    removed = api.post("admin", url, json={"comment": "已离职"})
    assert removed.status_code == 200, removed.text
    assert _open(api, ticket_id) == ["deputies", "deputies"]
    deputy = next(
        t["id"]
        for t in api.get("admin", f"/tickets/{ticket_id}").json()["tasks"]
        if t["state"] == "open"
    )
    assert_problem(
        api.post("admin", f"/admin/tasks/{deputy}/remove-approver", json={}),
        409,
        "not_a_countersign",
    )
