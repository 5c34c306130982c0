"""Ticket notes (urges, comments) and the per-ticket urge window (ADR 0017).

A note is written beside the steps and never touches the `tickets` row, so it cannot
make a concurrent step lose its version check. The urge window is one row per ticket,
claimed by a conditional upsert: the database decides which of two urges at the same
moment gets it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, bindparam, literal, null, select, type_coerce, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flowdesk.store.driver_select import DriverSelect
from flowdesk.store.sql import is_postgres
from flowdesk.store.tables import (
    JsonDoc,
    Task,
    TaskAssignee,
    TicketNote,
    TicketStep,
    TicketUrgeMark,
    table_of,
)
from flowdesk.store.tickets import TimelineEvent

notes = table_of(TicketNote)
urge_marks = table_of(TicketUrgeMark)
steps = table_of(TicketStep)

# How a note reads in the timeline, beside the steps' event kinds.
EVENT_KINDS = {"urge": "ticket_urged", "comment": "comment_added", "copy": "ticket_copied"}
WEBHOOK_KINDS = ("webhook_sent", "webhook_failed")  # the worker's notes, no actor


def insert_note(
    conn: Connection,
    *,
    note_id: str,
    ticket_id: str,
    at: datetime,
    kind: str,
    actor_id: str | None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        notes.insert().values(
            id=note_id,
            ticket_id=ticket_id,
            at=at,
            kind=kind,
            actor_id=actor_id,
            comment=comment,
            data=data,
        )
    )


def claim_urge_window(conn: Connection, ticket_id: str, now: datetime, interval: timedelta) -> bool:
    """Marks the ticket urged at `now` unless it was urged less than `interval` ago.

    One statement: on PostgreSQL a concurrent claim waits for this row's lock, then
    re-checks the condition against the committed row and gets nothing back; SQLite
    runs one writer at a time. The claim rolls back with the caller's transaction.
    """
    insert = pg_insert if is_postgres(conn) else sqlite_insert
    claim = insert(urge_marks).values(ticket_id=ticket_id, urged_at=now)
    statement = claim.on_conflict_do_update(
        index_elements=[urge_marks.c.ticket_id],
        set_={"urged_at": claim.excluded.urged_at},
        where=urge_marks.c.urged_at <= now - interval,
    ).returning(urge_marks.c.ticket_id)
    return conn.execute(statement).first() is not None


def last_urged_at(conn: Connection, ticket_id: str) -> datetime | None:
    return conn.execute(
        select(urge_marks.c.urged_at).where(urge_marks.c.ticket_id == ticket_id)
    ).scalar_one_or_none()


# Built once with a bound parameter: building the union and its cache key per call cost
# more than running it (store/auth_lookup.py says why).
_step_rows = select(
    literal(0).label("source"),
    steps.c.at,
    steps.c.version.label("seq"),
    steps.c.events,
    type_coerce(null(), String).label("kind"),
    type_coerce(null(), String).label("actor_id"),
    type_coerce(null(), String).label("comment"),
    type_coerce(null(), JsonDoc).label("data"),
    type_coerce(null(), String).label("note_id"),
).where(steps.c.ticket_id == bindparam("ticket_id"))
_note_rows = select(
    literal(1),
    notes.c.at,
    literal(0),
    type_coerce(null(), JsonDoc),
    notes.c.kind,
    notes.c.actor_id,
    notes.c.comment,
    notes.c.data,
    notes.c.id,
).where(notes.c.ticket_id == bindparam("ticket_id"))
_TIMELINE = DriverSelect(
    union_all(_step_rows, _note_rows).order_by("source", "seq", "at", "note_id")
)


def timeline_with_notes(conn: Connection, ticket_id: str) -> list[TimelineEvent]:
    """The ticket's timeline: its steps' events and its notes merged by time, in ONE
    statement (the ticket page's reads stay at four). Steps keep their version order;
    a note at the same instant as a step comes after the step's events."""
    from_steps: list[TimelineEvent] = []
    from_notes: list[TimelineEvent] = []
    for row in _TIMELINE.rows(conn, {"ticket_id": ticket_id}):
        if row.source == 0:
            from_steps.extend(
                TimelineEvent(
                    row.at,
                    event["kind"],
                    event.get("node_id"),
                    event.get("task_id"),
                    event.get("actor_id"),
                    event.get("comment"),
                    event.get("data"),
                )
                for event in row.events
            )
        else:
            kind = EVENT_KINDS.get(row.kind, row.kind)
            # a webhook's delivery (ADR 0024) names the service task it was sent for
            node_id = row.data.get("node_id") if kind in WEBHOOK_KINDS and row.data else None
            from_notes.append(
                TimelineEvent(row.at, kind, node_id, None, row.actor_id, row.comment, row.data)
            )
    return merged(from_steps, from_notes)


def merged(
    steps_events: Iterable[TimelineEvent], notes_events: Iterable[TimelineEvent]
) -> list[TimelineEvent]:
    """Both in time order; on a tie the step's events come first."""
    return list(heapq.merge(steps_events, notes_events, key=lambda event: event.at))


def pending_holders(conn: Connection, ticket_id: str) -> list[tuple[str, str]]:
    """(task id, user id) of each holder still to act on an open task of the ticket, in
    the order the tasks were opened: whom an urge reaches."""
    tasks, assignees = table_of(Task), table_of(TaskAssignee)
    rows = conn.execute(
        select(assignees.c.task_id, assignees.c.user_id)
        .join(tasks, tasks.c.id == assignees.c.task_id)
        .where(tasks.c.ticket_id == ticket_id, tasks.c.state == "open", assignees.c.is_open)
        .order_by(tasks.c.created_at, tasks.c.id, assignees.c.user_id)
    )
    return [(task_id, user_id) for task_id, user_id in rows]
