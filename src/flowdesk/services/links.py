"""The search a link field's picker runs (ADR 0038): the linked app's live records or
tickets the person may see, matching what they type, with the look-ups to tell them apart."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import NotFound
from flowdesk.services import views
from flowdesk.services.context import ServiceContext
from flowdesk.services.link_values import (
    DEAD_STATUSES,
    LinkedRecord,
    link_fields,
    live_records,
    lookup_values,
)
from flowdesk.services.list_query import parse_list_query
from flowdesk.services.record_access import may_list

MAX_OPTIONS = 20


def options(
    ctx: ServiceContext,
    actor: Actor,
    app_key: str,
    field_key: str,
    q: str,
    *,
    locale: str = "en",
) -> tuple[LinkedRecord, ...]:
    """What a link picker offers: the linked app's live records (or tickets) the actor may
    see, matching `q` (the lists' search), newest first, with their look-ups."""
    with ctx.db.read() as conn:
        field = _link_field(ctx, conn, app_key, field_key)
        target = ctx.apps.current(conn, str(field.link_app))
    query = parse_list_query(
        {"q": q, "limit": str(MAX_OPTIONS)} if q.strip() else {"limit": str(MAX_OPTIONS)}
    )
    if target.spec.is_records:
        if not may_list(actor, target):
            return ()
        page = views.ticket_list(
            ctx,
            actor,
            replace(query, app=target.spec.key, status="record"),
            scope="app",
            locale=locale,
        )
    else:
        page = views.ticket_list(
            ctx, actor, replace(query, app=target.spec.key), scope="visible", locale=locale
        )
    return tuple(
        LinkedRecord(
            t.id,
            t.serial,
            t.subject,
            t.status,
            lookup_values(target.spec.form, field.lookup, t.stored_values, locale),
        )
        for t in page.items
        if t.status not in DEAD_STATUSES
    )


def chosen(
    ctx: ServiceContext,
    actor: Actor,
    app_key: str,
    field_key: str,
    ids: list[str],
    *,
    locale: str = "en",
) -> tuple[LinkedRecord, ...]:
    """The records a picker shows as chosen: those of `ids` that are live records of the
    field's app, with their look-ups (an id of anything else is dropped)."""
    del actor  # what is chosen was the person's to choose: shown as the ticket shows it
    with ctx.db.read() as conn:
        return live_records(ctx, conn, _link_field(ctx, conn, app_key, field_key), ids, locale)


def _link_field(ctx: ServiceContext, conn: Connection, app_key: str, field_key: str) -> Any:
    app = ctx.apps.current(conn, app_key)
    field = next((f for f in link_fields(app.spec.form) if f.key == field_key), None)
    if field is None:
        raise NotFound(f"No link field {field_key!r}", "link_field_not_found")
    return field
