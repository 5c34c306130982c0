"""Message start events (ADR 0035): a message no ticket waits for files a ticket of the
published app whose process starts on it.

The start node of such an app names a message and a form field (`message: {name, key}`):
`POST /api/v1/messages` with that name, when no ticket waits for it, files a ticket for
the sender's account (its applicant), with the message's `variables` as the form's
values and its `key` written into the field. The ticket and the message's receipt are
written in one transaction, so the same `message_id` again answers with the same ticket
(`duplicate: true`) and never files a second one. Two published apps starting on one
message is the sender's 409 `message_start_ambiguous`: flowdesk does not guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import Conflict
from flowdesk.services.context import ServiceContext
from flowdesk.services.form_values import submitted_values
from flowdesk.services.registry import PublishedApp
from flowdesk.services.tickets import file_ticket
from flowdesk.store import apps as apps_store
from flowdesk.store import waits as waits_store
from flowdesk.store.steps import StepWritten


def starting_app(ctx: ServiceContext, conn: Connection, name: str) -> PublishedApp | None:
    """The one published app whose process starts on message `name` (None: none)."""
    found = [
        app
        for app in (ctx.apps.current(conn, row.key) for row in apps_store.list_apps(conn))
        if app.spec.process.start_message == name
    ]
    if len(found) > 1:
        keys = ", ".join(app.spec.key for app in found)
        raise Conflict(
            f"Several apps start on message '{name}' ({keys}); give each its own message",
            "message_start_ambiguous",
        )
    return found[0] if found else None


def file_by_message(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    app: PublishedApp,
    *,
    name: str,
    key: str,
    message_id: str,
    variables: Mapping[str, Any],
    locale: str,
) -> tuple[str, str, str]:
    """Files the ticket message `name` starts, in the caller's transaction, with its
    receipt: (ticket id, start node id, status)."""
    start = app.spec.process.start
    assert start.message is not None  # starting_app found its start message
    raw = {**variables, start.message.key: key} if start.message.key else dict(variables)
    clean = submitted_values(
        ctx, conn, app, raw, source="json", requester_id=actor.user_id, locale=locale
    )
    _current, generation = ctx.apps.current_and_org_generation(conn, app.spec.key)

    def receipt(written: StepWritten, ticket_id: str) -> None:  # gated on PostgreSQL
        waits_store.receipt_after_step(
            conn,
            written,
            message_id=message_id,
            name=name,
            key=key,
            ticket_id=ticket_id,
            at=ctx.clock.now(),
        )

    outcome = file_ticket(
        ctx,
        conn,
        actor,
        app,
        generation,
        clean,
        audit_details={"message": name, "message_id": message_id, "key": key},
        after=receipt,
    )
    return outcome.ticket_id, start.id, outcome.status
