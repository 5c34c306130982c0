"""Tickets, their tasks, assignees and timeline events.

State changes are conditional updates (`WHERE version = :v`, `WHERE state = 'open'`)
so the database, not luck, decides which of two concurrent actions wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, and_, func, select, update

from flowdesk.store.tables import Event, Task, TaskAssignee, Ticket, table_of

tickets = table_of(Ticket)
tasks = table_of(Task)
assignees = table_of(TaskAssignee)
events = table_of(Event)


def insert_ticket(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(tickets.insert(), row)


def ticket_by_id(conn: Connection, ticket_id: str) -> Row[Any] | None:
    return conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()


def task_with_ticket(conn: Connection, task_id: str) -> Row[Any] | None:
    """The task and the ticket fields a step needs, in one round trip."""
    query = (
        select(
            tasks.c.id,
            tasks.c.ticket_id,
            tasks.c.node_id,
            tasks.c.state,
            tickets.c.app_version_id,
            tickets.c.status.label("ticket_status"),
            tickets.c["values"],
            tickets.c.state.label("ticket_state"),
            tickets.c.version,
            tickets.c.requester_id,
            tickets.c.title,
        )
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .where(tasks.c.id == task_id)
    )
    return cast("Row[Any] | None", conn.execute(query).first())


def update_ticket(
    conn: Connection,
    *,
    ticket_id: str,
    expected_version: int,
    values: dict[str, Any],
    state: dict[str, Any],
    status: str,
    updated_at: datetime,
    finished_at: datetime | None,
) -> bool:
    """Writes the new state only if nobody else did since we read `expected_version`."""
    result = conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket_id, tickets.c.version == expected_version)
        .values(
            values=values,
            state=state,
            status=status,
            version=expected_version + 1,
            updated_at=updated_at,
            finished_at=finished_at,
        )
    )
    return result.rowcount == 1


def insert_tasks(
    conn: Connection, rows: Sequence[dict[str, Any]], assignee_rows: Sequence[dict[str, Any]]
) -> None:
    if rows:
        conn.execute(tasks.insert(), list(rows))
    if assignee_rows:
        conn.execute(assignees.insert(), list(assignee_rows))


def close_tasks(conn: Connection, closings: Sequence[dict[str, Any]]) -> int:
    """Closes open tasks; returns how many were still open (the caller checks all were)."""
    closed = 0
    for closing in closings:
        result = conn.execute(
            update(tasks)
            .where(tasks.c.id == closing["id"], tasks.c.state == "open")
            .values(
                state=closing["state"],
                completed_at=closing["at"],
                completed_by=closing["by"],
                comment=closing["comment"],
            )
        )
        closed += result.rowcount
    ids = [c["id"] for c in closings]
    if ids:
        conn.execute(update(assignees).where(assignees.c.task_id.in_(ids)).values(is_open=False))
    return closed


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(events.insert(), list(rows))


def timeline(conn: Connection, ticket_id: str) -> list[Row[Any]]:
    return list(
        conn.execute(select(events).where(events.c.ticket_id == ticket_id).order_by(events.c.id))
    )


def tasks_of_ticket(conn: Connection, ticket_id: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(tasks)
            .where(tasks.c.ticket_id == ticket_id)
            .order_by(tasks.c.created_at, tasks.c.id)
        )
    )


def assignees_of(conn: Connection, task_ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(task_ids)
    found: dict[str, list[str]] = {task_id: [] for task_id in ids}
    if not ids:
        return found
    rows = conn.execute(
        select(assignees.c.task_id, assignees.c.user_id).where(assignees.c.task_id.in_(ids))
    )
    for row in rows:
        found[row.task_id].append(row.user_id)
    return found


def participant_ids(conn: Connection, ticket_id: str) -> frozenset[str]:
    rows = conn.execute(
        select(assignees.c.user_id)
        .join(tasks, tasks.c.id == assignees.c.task_id)
        .where(tasks.c.ticket_id == ticket_id)
    ).scalars()
    return frozenset(rows)


def open_tasks_for_user(
    conn: Connection, user_id: str, *, limit: int, before_id: str | None = None
) -> list[Row[Any]]:
    query = (
        select(
            tasks,
            tickets.c.title,
            tickets.c.app_id,
            tickets.c.requester_id,
            tickets.c.created_at.label("ticket_created_at"),
        )
        .join(
            assignees,
            and_(
                assignees.c.task_id == tasks.c.id,
                assignees.c.user_id == user_id,
                assignees.c.is_open.is_(True),
            ),
        )
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .order_by(tasks.c.id.desc())
        .limit(limit)
    )
    if before_id:
        query = query.where(tasks.c.id < before_id)
    return list(conn.execute(query))


def count_open_tasks(conn: Connection, user_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(assignees)
            .where(assignees.c.user_id == user_id, assignees.c.is_open.is_(True))
        ).scalar_one()
    )


def list_tickets(
    conn: Connection,
    *,
    app_id: str | None,
    status: str | None,
    requester_id: str | None,
    visible_to: str | None,
    limit: int,
    before_id: str | None,
) -> list[Row[Any]]:
    """Newest first; ids are time-ordered so the cursor is simply the last id seen."""
    query = select(tickets).order_by(tickets.c.id.desc()).limit(limit)
    if app_id:
        query = query.where(tickets.c.app_id == app_id)
    if status:
        query = query.where(tickets.c.status == status)
    if requester_id:
        query = query.where(tickets.c.requester_id == requester_id)
    if visible_to:
        involved = (
            select(tasks.c.ticket_id)
            .join(assignees, assignees.c.task_id == tasks.c.id)
            .where(assignees.c.user_id == visible_to)
        )
        query = query.where((tickets.c.requester_id == visible_to) | tickets.c.id.in_(involved))
    if before_id:
        query = query.where(tickets.c.id < before_id)
    return list(conn.execute(query))
