"""/api/v1/admin/jobs: failed and dead jobs listed, one retried (permission-checked,
audited, 404/409 problems), on both databases; a dead webhook retried is delivered with
the same idempotency key to a real receiver."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values
from sqlalchemy import select

from approval_apps import yaml_of
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Job
from webhook_apps import LOOPBACK_ALLOWED, publish_webhook_app, receiver, webhook_definition


def _ctx(api: Api) -> ServiceContext:
    ctx: ServiceContext = api.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def _file(api: Api) -> str:
    created = api.post("zhang.wei", "/apps/hooked/tickets", json={"values": loan_values("5000")})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_dead_webhook_is_listed_and_retried_under_the_same_key(api: Api) -> None:
    ctx = _ctx(api)
    ctx.clock = FrozenClock()
    ctx.webhooks = LOOPBACK_ALLOWED
    with receiver() as hook:
        hook.answer(404)  # the receiver refuses: dead at once
        publish_webhook_app(ctx, hook.url)
        ticket_id = _file(api)
        jobs.run_due(ctx, owner="worker")
        assert api.get("admin", "/admin/jobs", params={"state": "failed"}).json()["items"] == []
        page = api.get("admin", "/admin/jobs", params={"state": "dead"})
        assert page.status_code == 200, page.text
        (dead,) = page.json()["items"]
        assert dead["kind"] == "webhook" and dead["state"] == "dead"
        assert (dead["ticket_id"], dead["node_id"], dead["target"]) == (
            ticket_id,
            "tell_core",
            "127.0.0.1",
        )
        assert "answered 404" in dead["last_error"]
        assert "payload" not in dead  # form values stay out of the listing

        retried = api.post("admin", f"/admin/jobs/{dead['id']}/retry")
        assert retried.status_code == 200, retried.text
        assert (retried.json()["state"], retried.json()["attempts"]) == ("queued", 0)
        assert_problem(api.post("admin", f"/admin/jobs/{dead['id']}/retry"), 409, "job_not_failed")
        jobs.run_due(ctx, owner="worker")
        first, second = hook.received
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    with ctx.db.read() as conn:
        state = conn.execute(
            select(Job.__table__.c.state).where(Job.__table__.c.id == dead["id"])
        ).scalar_one()
        (entry,) = [e for e in audit_store.entries(conn) if e.action == "job.retry"]
    assert state == "done"
    assert (entry.actor, entry.target_type, entry.target_id) == ("admin", "job", str(dead["id"]))
    assert entry.details["was"] == "dead" and entry.details["kind"] == "webhook"
    timeline = api.get("zhang.wei", f"/tickets/{ticket_id}").json()["timeline"]
    kinds = [e["kind"] for e in timeline if e["kind"].startswith("webhook")]
    assert kinds == ["webhook_queued", "webhook_failed", "webhook_sent"]


def test_a_failed_job_waiting_for_its_next_try_is_listed_and_made_due(api: Api) -> None:
    ctx = _ctx(api)
    ctx.clock = FrozenClock()
    ctx.webhooks = LOOPBACK_ALLOWED
    with receiver() as hook:
        hook.answer(503)
        publish_webhook_app(ctx, hook.url)
        _file(api)
        jobs.run_due(ctx, owner="worker")
        (failed,) = api.get("admin", "/admin/jobs", params={"state": "failed"}).json()["items"]
        assert (failed["state"], failed["attempts"]) == ("queued", 1)
        retried = api.post("admin", f"/admin/jobs/{failed['id']}/retry").json()
        assert retried["attempts"] == 1 and retried["due_at"] < failed["due_at"]
        jobs.run_due(ctx, owner="worker")  # due now: no need to wait out the back-off
        assert len(hook.received) == 2


def test_only_administrators_and_known_jobs(api: Api) -> None:
    assert_problem(api.get("zhang.wei", "/admin/jobs"), 403, "not_admin")
    assert_problem(api.post("zhang.wei", "/admin/jobs/1/retry"), 403, "not_admin")
    assert_problem(api.post("admin", "/admin/jobs/999999/retry"), 404, "job_not_found")
    assert api.get("admin", "/admin/jobs", params={"state": "running"}).status_code == 422
    with _ctx(api).db.read() as conn:
        assert [e for e in audit_store.entries(conn) if e.action == "job.retry"] == []


def test_publishing_a_webhook_to_a_private_address_is_422_at_its_path(api: Api) -> None:
    text = yaml_of(webhook_definition("http://169.254.169.254/latest/meta-data/", secret=None))
    headers = {**api.headers("admin"), "Content-Type": "application/yaml"}
    for params in ({"dry_run": "true"}, {}):
        answer = api.client.post(
            "/api/v1/admin/apps", params=params, content=text.encode(), headers=headers
        )
        problem = assert_problem(answer, 422, "definition_invalid")
        assert [(e["path"], e["code"]) for e in problem["errors"]] == [
            ("process.nodes[1].webhook.url", "private_address")
        ]
    assert api.get("admin", "/admin/apps/hooked/versions").status_code == 404


def test_a_bpmn_import_with_a_private_webhook_names_the_element(api: Api) -> None:
    ctx = _ctx(api)
    ctx.webhooks = LOOPBACK_ALLOWED
    publish_webhook_app(ctx, "https://hooks.example.com/loans")
    exported = api.get("admin", "/admin/apps/hooked/export", params={"format": "bpmn"}).text
    private = exported.replace("https://hooks.example.com/loans", "http://10.0.0.7/x")
    headers = {**api.headers("admin"), "Content-Type": "application/bpmn+xml"}
    answer = api.client.put(
        "/api/v1/admin/apps/hooked/process", content=private.encode(), headers=headers
    )
    problem = assert_problem(answer, 422, "definition_invalid")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("bpmn[tell_core].webhook.url", "private_address")
    ]
