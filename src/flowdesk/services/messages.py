"""Messages that resume waiting tickets (ADR 0023): POST /api/v1/messages.

A ticket whose token rests at a message catch event (or receive task) waits for message
`name` with the correlation key its form gave when the token arrived; a user task with a
boundary message listens for one while it is open (ADR 0035). Receiving one is a
step like any other: the wait's row, the ticket's new state, the timeline, the audit
and the message's receipt commit together. The sender's message id makes it idempotent:
the same id again gets the first answer and changes nothing. 404: no ticket ever waited
for this name and key; 409: the ones that did have received theirs already; 422: bad
input (the variables are checked as form values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.forms import validate_edits
from flowdesk.engines.process import ReceiveMessage, load_state, step
from flowdesk.kernel.errors import (
    Conflict,
    ErrorDetail,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.services.context import ServiceContext
from flowdesk.services.message_starts import file_by_message, starting_app
from flowdesk.services.task_steps import (
    RACE_RETRIES,
    new_step_context,
    task_step,
    value_changes,
    write_step,
)
from flowdesk.store import tickets as tickets_store
from flowdesk.store import waits as waits_store
from flowdesk.store.steps import AuditRecord

MAX_NAME = 100
MAX_KEY = 200
MAX_MESSAGE_ID = 200


@dataclass(frozen=True)
class Received:
    message_id: str
    ticket_id: str
    node_id: str
    status: str
    duplicate: bool = False  # the same message id was received before: nothing changed
    started: bool = False  # no ticket waited: it filed one of the app it starts (ADR 0035)


def _text(value: object, field: str, limit: int, errors: list[ErrorDetail]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(ErrorDetail(field, "required", "Non-empty text"))
        return ""
    if len(value) > limit:
        errors.append(ErrorDetail(field, "too_long", f"At most {limit} characters"))
    return value.strip()


def receive(
    ctx: ServiceContext,
    *,
    actor: Actor,
    name: object,
    key: object,
    message_id: object,
    variables: object = None,
    locale: str = "en",
) -> Received:
    if not decide(actor, "message.send"):
        raise Forbidden(
            "Only administrators and message senders send messages", "not_message_sender"
        )
    errors: list[ErrorDetail] = []
    clean_name = _text(name, "name", MAX_NAME, errors)
    clean_key = _text(key, "key", MAX_KEY, errors)
    clean_id = _text(message_id, "message_id", MAX_MESSAGE_ID, errors)
    if variables is not None and not isinstance(variables, Mapping):
        errors.append(ErrorDetail("variables", "wrong_type", "An object of form values"))
    if errors:
        raise ValidationFailed("The message is invalid", errors)
    given = dict(variables) if isinstance(variables, Mapping) else {}
    for _ in range(RACE_RETRIES):
        with ctx.db.write() as conn:
            outcome, written = _receive_once(
                ctx, conn, actor, clean_name, clean_key, clean_id, given, locale
            )
        if written is None or written.applied:
            return outcome
    raise Conflict("The ticket is changing too fast; send the message again", "ticket_busy")


def _earlier(conn: Any, message_id: str, name: str, key: str) -> Received | None:
    found = waits_store.receipt(conn, message_id)
    if found is None:
        return None
    _message_id, found_name, found_key, ticket_id, _at = found
    if (found_name, found_key) != (name, key):
        raise Conflict("This message id was already used for another message", "message_id_reused")
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    status = ticket.status if ticket is not None else ""
    return Received(message_id, ticket_id, "", status, duplicate=True)


def _receive_once(
    ctx: ServiceContext,
    conn: Any,
    actor: Actor,
    name: str,
    key: str,
    message_id: str,
    variables: dict[str, Any],
    locale: str,
) -> tuple[Received, Any]:
    earlier = _earlier(conn, message_id, name, key)
    if earlier is not None:
        return earlier, None
    rows = waits_store.by_message(conn, name, key)
    if not rows:
        return _start_or_404(ctx, conn, actor, name, key, message_id, variables, locale), None
    now = ctx.clock.now()
    for candidate in rows:
        if candidate.state != "pending":
            continue
        row = waits_store.lock(conn, candidate.id)  # a concurrent receipt waits here
        if row is None or row.state != "pending":
            continue
        ticket = tickets_store.ticket_for_step(conn, row.ticket_id)
        state = load_state(ticket.ticket_state) if ticket is not None else None
        # live: a token waits at the row's catch event, or the node instance its boundary
        # message listens on is still open (ADR 0035)
        live = state is not None and (
            row.id in state.waits
            or (bool(row.activation_id) and row.activation_id in state.activations)
        )
        if ticket is None or state is None or not live:
            waits_store.finish(conn, row.id, row.ticket_id, "stale", now, gated=False)
            continue
        app = ctx.apps.version(conn, ticket.app_version_id)
        current: dict[str, Any] = dict(ticket.values)
        changes = validate_edits(
            app.spec.form,
            variables,
            editable=[f.key for f in app.spec.form.fields],
            current=current,
            source="json",
            locale=locale,
        )
        for change in changes:
            if change.new is None:
                current.pop(change.field, None)
            else:
                current[change.field] = change.new
        first_event, changed, recorded = value_changes(actor.user_id, ticket, "", changes)
        if first_event is not None:
            first_event.pop("task_id", None)
            first_event.pop("node_id", None)
        try:
            result = step(
                app.spec.process,
                state,
                ReceiveMessage(
                    name,
                    key,
                    current,
                    row.id,
                    row.activation_id,
                    row.node_id if row.activation_id else "",
                ),
                new_step_context(ctx, conn, app, ticket.requester_id, ticket.org_generation),
            )
        except NotFound:  # the row outlived what it listened for (a repair moved the task)
            waits_store.finish(conn, row.id, row.ticket_id, "stale", now, gated=False)
            continue
        write, _ = task_step(
            app,
            ticket,
            result,
            now,
            AuditRecord(
                actor.username,
                "message.receive",
                {
                    "ticket": ticket.ticket_id,
                    "message": name,
                    "message_id": message_id,
                    "node": row.node_id,
                    # what ReceiveMessage was given, so a replay rebuilds the command
                    "key": key,
                    "wait": row.id,
                    "activation": row.activation_id,
                    "changed_fields": changed,
                    "changes": recorded,
                },
            ),
            first_event=first_event,
            values=current if changed else None,
        )
        for entry in write.events:
            if entry["kind"] == "message_received":
                entry["actor_id"] = actor.user_id
                entry.setdefault("data", {})["message_id"] = message_id
        written = write_step(conn, write)
        waits_store.finish_after_step(conn, written, row.id, row.ticket_id, "received", now)
        waits_store.receipt_after_step(
            conn,
            written,
            message_id=message_id,
            name=name,
            key=key,
            ticket_id=row.ticket_id,
            at=now,
        )
        received = Received(message_id, row.ticket_id, row.node_id, result.state.status)
        return received, written
    earlier = _earlier(conn, message_id, name, key)  # a twin of this message got in first
    if earlier is not None:
        return earlier, None
    if any(r.state == "received" for r in rows):
        raise Conflict(
            f"The tickets waiting for message '{name}' with this key have received it already",
            "message_already_received",
        )
    return _start_or_404(ctx, conn, actor, name, key, message_id, variables, locale), None


def _start_or_404(
    ctx: ServiceContext,
    conn: Any,
    actor: Actor,
    name: str,
    key: str,
    message_id: str,
    variables: dict[str, Any],
    locale: str,
) -> Received:
    """No ticket waits for the message: the app whose process starts on it files one
    (a message start event, ADR 0035); none does: 404."""
    app = starting_app(ctx, conn, name)
    if app is None:
        raise NotFound(f"No ticket waits for message '{name}' with this key", "no_waiting_ticket")
    ticket_id, node_id, status = file_by_message(
        ctx,
        conn,
        actor,
        app,
        name=name,
        key=key,
        message_id=message_id,
        variables=variables,
        locale=locale,
    )
    return Received(message_id, ticket_id, node_id, status, started=True)
