"""Service tasks' webhooks (ADR 0024): checked at publish, queued by the step, delivered by
the worker after commit.

- Publish: each service task's secret name must be configured and an address written in
  its URL must be one the installation lets webhooks reach (`publish_problems`).
- Step: the engine's WebhookRequested becomes an outbox job of the step's own write
  (`outbox_job`), so the call is queued if and only if the step commits.
- Worker: `send` makes the request outside any transaction (the SQLite writer is never
  held across the network), then the job's fenced completion writes the timeline's
  "webhook sent" note; a delivery that gives up writes "webhook failed" (`gave_up`).

Every attempt of one delivery carries the same Idempotency-Key, so a receiver that saw
an attempt whose answer was lost can recognise the retry. A configured secret signs the
body: X-Flowdesk-Signature: sha256=<HMAC-SHA256 of the body, hex>.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from flowdesk.engines.apps import AppSpec
from flowdesk.engines.process import WebhookRequested
from flowdesk.kernel.errors import ErrorDetail
from flowdesk.kernel.ids import new_id
from flowdesk.services.context import ServiceContext
from flowdesk.services.jobs import handler, outbound
from flowdesk.services.webhook_http import DeliveryFailed, post
from flowdesk.services.webhook_policy import WebhookPolicy, host_refusal
from flowdesk.store import ticket_notes as notes_store
from flowdesk.store import tickets as tickets_store

KIND = "webhook"
# Tried at once, then after 10 s, 20 s, 40 s … (services/jobs.py): given up after about
# 20 minutes, then visible to administrators, who may retry it.
MAX_ATTEMPTS = 8
USER_AGENT = "flowdesk-webhook/1"


def publish_problems(
    policy: WebhookPolicy, spec: AppSpec, *, bpmn: bool = False
) -> list[ErrorDetail]:
    """What this installation refuses in the app's service tasks, each at its path (the
    BPMN element's, `bpmn[id]`, for a process read from BPMN)."""
    problems: list[ErrorDetail] = []
    for i, node in enumerate(spec.process.nodes.values()):
        webhook = node.webhook
        if webhook is None:
            continue
        path = f"bpmn[{node.id}].webhook" if bpmn else f"process.nodes[{i}].webhook"
        if webhook.secret and webhook.secret not in policy.secrets:
            problems.append(
                ErrorDetail(
                    f"{path}.secret",
                    "unknown_secret",
                    f"No secret named '{webhook.secret}' is configured "
                    "(FLOWDESK_WEBHOOKS__SECRETS)",
                )
            )
        reason = host_refusal(webhook.host, policy.allow_networks)
        if reason:
            problems.append(
                ErrorDetail(
                    f"{path}.url",
                    "private_address",
                    f"'{webhook.host}' is a {reason.replace('_', '-')} address; webhooks "
                    "go to public addresses unless FLOWDESK_WEBHOOKS__ALLOW_NETWORKS "
                    "allows it",
                )
            )
    return problems


def delivery_key(ticket_id: str, version: int, node_id: str, position: int) -> str:
    """The same for every attempt of one delivery; a node passed again (a loop, a
    resubmission) is another step version, so another delivery."""
    digest = hashlib.sha256(f"{ticket_id}|{version}|{node_id}|{position}".encode()).hexdigest()
    return f"fd-{digest[:40]}"


def outbox_job(
    effect: WebhookRequested,
    *,
    ticket_id: str,
    version: int,
    position: int,
    app_key: str,
    status: str,
) -> dict[str, Any]:
    """The job a step writes for `effect`. The body is fixed now (the form's values at
    this step); only the serial, which a submit learns as it writes, is read at send."""
    webhook = effect.webhook
    form = dict(effect.form)
    ticket = {"id": ticket_id, "app": app_key, "status": status}
    body: dict[str, Any] = {}
    serial_keys: list[str] = []
    for key, (source, name) in webhook.body:
        if source == "form":
            body[key] = form.get(name)
        elif name == "serial":
            serial_keys.append(key)
        else:
            body[key] = ticket[name]
    key = delivery_key(ticket_id, version, effect.node_id, position)
    return {
        "kind": KIND,
        "payload": json.loads(
            json.dumps(
                {
                    "ticket_id": ticket_id,
                    "node_id": effect.node_id,
                    "url": webhook.url,
                    "headers": [list(h) for h in webhook.headers],
                    "secret": webhook.secret,
                    "body": body,
                    "serial_keys": serial_keys,
                    "key": key,
                },
                default=str,  # Decimal, dates: as their text
                ensure_ascii=False,
            )
        ),
        "idempotency_key": f"{KIND}:{key}",
        "max_attempts": MAX_ATTEMPTS,
    }


def request_parts(ctx: ServiceContext, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers every attempt of the delivery sends alike."""
    body = dict(payload["body"])
    if payload["serial_keys"]:
        with ctx.db.read(snapshot=False) as conn:
            serial, _title = tickets_store.serial_and_title(conn, payload["ticket_id"])
        body.update(dict.fromkeys(payload["serial_keys"], serial))
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers: dict[str, str] = dict(payload["headers"])
    headers.update(
        {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": payload["key"],
            "X-Flowdesk-Delivery": payload["key"],
        }
    )
    secret_name = payload["secret"]
    if secret_name:
        secret = ctx.webhooks.secrets.get(secret_name)
        if secret is None:  # configured at publish, removed since
            raise DeliveryFailed(
                "unknown_secret", f"no secret named '{secret_name}' is configured", permanent=True
            )
        signature = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        headers["X-Flowdesk-Signature"] = f"sha256={signature}"
    return data, headers


def send(payload: dict[str, Any], ctx: ServiceContext) -> dict[str, Any]:
    """The request, outside any transaction; raises DeliveryFailed when it did not land."""
    data, headers = request_parts(ctx, payload)
    answer = post(payload["url"], data, headers, ctx.webhooks)
    return {**payload, "answered": answer.status}


@handler(KIND)
def sent(conn: Connection, payload: dict[str, Any], ctx: ServiceContext) -> None:
    """Commits with the job's fenced completion: the timeline says the webhook was sent."""
    notes_store.insert_note(
        conn,
        note_id=new_id(),
        ticket_id=payload["ticket_id"],
        at=ctx.clock.now(),
        kind="webhook_sent",
        actor_id=None,
        data={
            "node_id": payload["node_id"],
            "host": urlsplit(payload["url"]).hostname,
            "status": payload.get("answered"),
        },
    )


def gave_up(conn: Connection, payload: dict[str, Any], error: str, ctx: ServiceContext) -> None:
    """The delivery is dead (out of attempts, or refused for good): the timeline says so."""
    notes_store.insert_note(
        conn,
        note_id=new_id(),
        ticket_id=payload["ticket_id"],
        at=ctx.clock.now(),
        kind="webhook_failed",
        actor_id=None,
        data={
            "node_id": payload["node_id"],
            "host": urlsplit(payload["url"]).hostname,
            "error": error[:300],
        },
    )


outbound(KIND, send=send, gave_up=gave_up)
