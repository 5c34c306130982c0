"""Service tasks' webhooks through the services and the worker, on SQLite and PostgreSQL,
against a real HTTP receiver on 127.0.0.1 (ADR 0024): queued with the step, delivered
after commit with its body, signature and idempotency key, retried with back-off under
the same key, given up visibly, refused for private addresses (at publish and at send,
redirects too), and never lost to a crash between the commit and the send."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import sys
import threading
import time
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import select

from approval_apps import yaml_of
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed
from flowdesk.services import apps, jobs, tickets
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext
from flowdesk.services.webhook_http import DeliveryFailed, checked_addresses
from flowdesk.services.webhook_policy import WebhookPolicy
from flowdesk.store.tables import Job, TicketNote
from webhook_apps import (
    LOOPBACK_ALLOWED,
    SECRET,
    closed_port,
    publish_webhook_app,
    receiver,
    webhook_definition,
)

jobs_t = Job.__table__


@pytest.fixture
def hooked(desk: Desk) -> Desk:
    desk.ctx.clock = FrozenClock()
    desk.ctx.webhooks = LOOPBACK_ALLOWED
    return desk


def _submit(desk: Desk) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="hooked", values=loan_values("8800.50")
    ).ticket_id


def _webhook_jobs(ctx: ServiceContext) -> list[Any]:
    with ctx.db.read() as conn:
        return list(conn.execute(select(jobs_t).where(jobs_t.c.kind == "webhook")))


def _timeline(desk: Desk, ticket_id: str) -> list[tuple[str, str | None]]:
    return [
        (e.kind, e.node_id)
        for e in desk.view(ticket_id).timeline
        if e.kind.startswith("webhook") or e.kind == "task_opened"
    ]


def _run(ctx: ServiceContext) -> jobs.RunStats:
    return jobs.run_due(ctx, owner="worker")


def _later(ctx: ServiceContext, seconds: int = 3600) -> None:
    clock = ctx.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(seconds=seconds))


def test_a_service_task_queues_its_call_with_the_step_and_the_worker_delivers_it(
    hooked: Desk,
) -> None:
    desk = hooked
    with receiver() as hook:
        publish_webhook_app(desk.ctx, hook.url)
        ticket_id = _submit(desk)
        # the token passed on at once (fire-and-forget): the review is open, nothing sent yet
        assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["review"]
        assert hook.received == []
        (job,) = _webhook_jobs(desk.ctx)
        assert job.state == "queued"
        assert _run(desk.ctx).done >= 1
        (request,) = hook.received
    view = desk.view(ticket_id)
    assert request.path == "/hook"
    assert request.json == {
        "amount": "8800.50",
        "applicant": "张三",
        "serial": view.serial,
        "ticket": ticket_id,
        "app": "hooked",
    }
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Source"] == "flowdesk-tests"
    key = request.headers["Idempotency-Key"]
    assert key.startswith("fd-") and key == job.payload["key"]
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Flowdesk-Signature"] == f"sha256={expected}"
    assert SECRET not in str(job.payload)  # the secret is configuration, never stored
    assert _timeline(desk, ticket_id) == [
        ("webhook_queued", "tell_core"),
        ("task_opened", "review"),
        ("webhook_sent", "tell_core"),
    ]
    (sent,) = [e for e in view.timeline if e.kind == "webhook_sent"]
    assert sent.data is not None and sent.data["status"] == 200
    assert sent.data["host"] == "127.0.0.1"
    (done,) = _webhook_jobs(desk.ctx)
    assert done.state == "done"


def test_a_500_is_retried_with_back_off_under_the_same_key(hooked: Desk) -> None:
    desk = hooked
    with receiver() as hook:
        hook.answer(500, body=b"busy")
        publish_webhook_app(desk.ctx, hook.url)
        ticket_id = _submit(desk)
        _run(desk.ctx)
        (job,) = _webhook_jobs(desk.ctx)
        assert (job.state, job.attempts) == ("queued", 1)
        assert "answered 500" in job.last_error
        assert job.due_at > desk.ctx.clock.now()  # backs off: not again at once
        _run(desk.ctx)
        assert len(hook.received) == 1
        _later(desk.ctx, 11)
        _run(desk.ctx)
        first, second = hook.received
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.body == second.body
    (job,) = _webhook_jobs(desk.ctx)
    assert (job.state, job.attempts) == ("done", 2)
    assert [k for k, _ in _timeline(desk, ticket_id)].count("webhook_sent") == 1


def test_a_receiver_that_is_down_uses_up_the_attempts_then_the_delivery_is_dead(
    hooked: Desk,
) -> None:
    desk = hooked
    publish_webhook_app(desk.ctx, f"http://127.0.0.1:{closed_port()}/hook")
    ticket_id = _submit(desk)
    for _ in range(20):
        _run(desk.ctx)
        _later(desk.ctx)
    (job,) = _webhook_jobs(desk.ctx)
    assert (job.state, job.attempts) == ("dead", 8)
    assert "connection_failed" in job.last_error
    failed = [e for e in desk.view(ticket_id).timeline if e.kind == "webhook_failed"]
    assert len(failed) == 1 and failed[0].node_id == "tell_core"
    assert "connection_failed" in failed[0].data["error"]  # type: ignore[index]


def test_an_address_that_is_not_allowed_is_refused_at_send_without_retrying(
    hooked: Desk,
) -> None:
    desk = hooked
    with receiver() as hook:
        publish_webhook_app(desk.ctx, hook.url)  # allowed when published
        ticket_id = _submit(desk)
        desk.ctx.webhooks = WebhookPolicy(secrets=LOOPBACK_ALLOWED.secrets)  # no longer
        _run(desk.ctx)
        assert hook.received == []  # nothing went out
    (job,) = _webhook_jobs(desk.ctx)
    assert (job.state, job.attempts) == ("dead", 1)  # refused for good, at once
    assert "address_refused" in job.last_error and "loopback" in job.last_error
    assert [k for k, _ in _timeline(desk, ticket_id)][-1] == "webhook_failed"


def test_a_redirect_to_a_private_address_is_refused(hooked: Desk) -> None:
    desk = hooked
    with receiver() as hook:
        hook.answer(307, {"Location": "http://169.254.169.254/latest/meta-data/"})
        publish_webhook_app(desk.ctx, hook.url)
        _submit(desk)
        _run(desk.ctx)
        assert len(hook.received) == 1
    (job,) = _webhook_jobs(desk.ctx)
    assert job.state == "dead"
    assert "address_refused" in job.last_error and "link-local" in job.last_error


def test_an_answer_over_the_size_limit_fails_the_delivery(hooked: Desk) -> None:
    desk = hooked
    with receiver() as hook:
        hook.answer(200, body=b"x" * 5000)  # the limit here is 4096 bytes
        publish_webhook_app(desk.ctx, hook.url)
        _submit(desk)
        _run(desk.ctx)
    (job,) = _webhook_jobs(desk.ctx)
    assert job.state == "dead" and "response_too_large" in job.last_error


def test_a_name_is_resolved_and_each_of_its_addresses_checked() -> None:
    with pytest.raises(DeliveryFailed) as refused:
        checked_addresses("localhost", 80, WebhookPolicy())
    assert refused.value.code == "address_refused" and refused.value.permanent
    for literal in ("10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1", "100.100.100.200"):
        with pytest.raises(DeliveryFailed):
            checked_addresses(literal, 80, WebhookPolicy())
    allowed = WebhookPolicy(allow_networks=(ip_network("10.0.0.0/8"),))
    assert [str(a) for a in checked_addresses("10.1.2.3", 80, allowed)] == ["10.1.2.3"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://10.0.0.8/hook", "private"),
        ("http://169.254.169.254/latest", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
    ],
)
def test_publishing_refuses_a_private_address_written_in_the_url(
    ctx: ServiceContext, url: str, reason: str
) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(ctx, yaml_of(webhook_definition(url, secret=None)))
    (error,) = refused.value.errors
    assert (error.path, error.code) == ("process.nodes[1].webhook.url", "private_address")
    assert reason in error.message


def test_publishing_refuses_a_secret_name_that_is_not_configured(ctx: ServiceContext) -> None:
    ctx.webhooks = WebhookPolicy(secrets={"other": "x"})
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(ctx, yaml_of(webhook_definition("https://hooks.example.com/a")))
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("process.nodes[1].webhook.secret", "unknown_secret")
    ]


def test_a_step_that_rolls_back_queues_no_call(hooked: Desk) -> None:
    desk = hooked
    with receiver() as hook:
        publish_webhook_app(desk.ctx, hook.url)
        with pytest.raises(ValidationFailed):  # the form refuses it
            tickets.submit(
                desk.ctx,
                actor=desk.actors["zhang.wei"],
                app_key="hooked",
                values=loan_values("-1"),
            )
        assert _webhook_jobs(desk.ctx) == []


def _submit_then_die(url: str, ready: int) -> None:
    """The child: files a ticket (its outbox row commits with it), says so, and waits to be
    killed before any worker could send."""
    ctx = build_context(url)
    ctx.webhooks = LOOPBACK_ALLOWED
    from flowdesk.services import auth
    from flowdesk.store import org as org_store

    with ctx.db.read() as conn:
        actor = auth.actor_from_row(conn, org_store.user_by_username(conn, "zhang.wei"))
    tickets.submit(ctx, actor=actor, app_key="hooked", values=loan_values())
    os.write(ready, b"1")
    time.sleep(60)


def _claim_and_die(url: str, ready: int) -> None:
    """The child: a worker that claims the delivery and is killed while the request is on
    its way (the receiver holds its answer; the parent kills once it has arrived)."""
    ctx = build_context(url)
    ctx.webhooks = LOOPBACK_ALLOWED
    os.write(ready, b"1")
    jobs.run_due(ctx, owner="doomed")
    time.sleep(60)


def _in_child(target: Any, url: str, until: Any = None) -> None:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child never returns
        try:
            target(url, write_end)
        finally:
            os._exit(1)
    os.close(write_end)
    assert os.read(read_end, 1) == b"1"
    os.close(read_end)
    for _ in range(200):  # until the child is where it should die
        if until is None or until():
            break
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")
def test_a_crash_between_commit_and_send_loses_no_delivery(hooked: Desk, db_url: str) -> None:
    desk = hooked
    desk.ctx.clock = FrozenClock()
    with receiver() as hook:
        publish_webhook_app(desk.ctx, hook.url)
        desk.ctx.db.dispose()  # no pooled connection is inherited by the children
        _in_child(_submit_then_die, db_url)  # killed after the commit, before any send
        (job,) = _webhook_jobs(desk.ctx)
        assert job.state == "queued"  # the outbox row survived the crash
        hook.hold = threading.Event()
        desk.ctx.db.dispose()
        # killed with the request in flight (the receiver has it, its answer held back)
        _in_child(_claim_and_die, db_url, until=lambda: len(hook.received) == 1)
        hook.hold.set()
        hook.hold = None
        (job,) = _webhook_jobs(desk.ctx)
        assert (job.state, job.owner) == ("running", "doomed")
        # the lease runs out; the next worker takes it over as another attempt
        desk.ctx.clock = FrozenClock(job.lease_until + timedelta(seconds=1))
        assert _run(desk.ctx).done == 1
        for _ in range(50):  # the doomed request may still be landing in the receiver
            if len(hook.received) >= 2:
                break
            time.sleep(0.05)
        keys = {r.headers["Idempotency-Key"] for r in hook.received}
    assert len(hook.received) == 2 and len(keys) == 1  # delivered again, recognisably
    (job,) = _webhook_jobs(desk.ctx)
    assert (job.state, job.attempts) == ("done", 2)
    with desk.ctx.db.read() as conn:
        notes = TicketNote.__table__
        kinds = list(conn.execute(select(notes.c.kind)).scalars())
    assert kinds == ["webhook_sent"]


def test_the_ticket_diagram_shows_the_service_task_passed(hooked: Desk) -> None:
    from flowdesk.services import ticket_diagram

    desk = hooked
    publish_webhook_app(desk.ctx, "http://127.0.0.1:9/hook")
    ticket_id = _submit(desk)
    diagram = ticket_diagram.ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket_id)
    assert "tell_core" in diagram.passed and diagram.current == ("review",)
    assert "serviceTask" in diagram.bpmn


def test_a_receiver_that_does_not_answer_in_time_is_retried(hooked: Desk) -> None:
    desk = hooked
    desk.ctx.webhooks = WebhookPolicy(
        secrets=LOOPBACK_ALLOWED.secrets,
        allow_networks=LOOPBACK_ALLOWED.allow_networks,
        timeout_seconds=0.3,
    )
    with receiver() as hook:
        hook.hold = threading.Event()  # answers only once released
        publish_webhook_app(desk.ctx, hook.url)
        _submit(desk)
        _run(desk.ctx)
        hook.hold.set()
        hook.hold = None
        (job,) = _webhook_jobs(desk.ctx)
        assert (job.state, job.attempts) == ("queued", 1)
        assert "timeout" in job.last_error
        _later(desk.ctx, 11)
        _run(desk.ctx)
        first, second = hook.received
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    (job,) = _webhook_jobs(desk.ctx)
    assert job.state == "done"


def test_a_ticket_returned_and_resubmitted_makes_a_new_delivery(hooked: Desk) -> None:
    from flowdesk.services import task_returns

    desk = hooked
    with receiver() as hook:
        publish_webhook_app(desk.ctx, hook.url)
        ticket_id = _submit(desk)
        task = desk.task(ticket_id, "review")
        task_returns.return_task(
            desk.ctx,
            actor=desk.actors["wang.fang"],
            task_id=task.id,
            target=task_returns.APPLICANT,
            comment="金额有误",
        )
        task_returns.resubmit(
            desk.ctx,
            actor=desk.actors["zhang.wei"],
            ticket_id=ticket_id,
            values={"amount": "9100.00"},
        )
        _run(desk.ctx)
        first, second = sorted(hook.received, key=lambda r: r.json["amount"])
    assert (first.json["amount"], second.json["amount"]) == ("8800.50", "9100.00")
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert [k for k, _ in _timeline(desk, ticket_id)].count("webhook_sent") == 2
