"""The one query builder behind every list of tickets and tasks (ADR 0010).

A list is a filter (`ListFilter`, ids already resolved by the service), an order and
a keyset position: the rows after the last one seen in that order, so a page is found
by an index range, not by counting past the earlier ones, and rows filed meanwhile do
not shift the pages. "created" is the id order: ids are UUIDv7, time-ordered, and the
tickets and tasks tables are kept in id order, so the newest first is a walk backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)

from flowdesk.kernel.search_terms import QueryTerm
from flowdesk.store.sql import Sql
from flowdesk.store.tables import Task, TaskAssignee, Ticket, TicketTerm, table_of

tickets = table_of(Ticket)
tasks = table_of(Task)
assignees = table_of(TaskAssignee)
terms = table_of(TicketTerm)

# The last code point: every term starting with a prefix sorts below prefix + this.
_AFTER_ALL = "\U0010ffff"
OrderKey = Literal["id", "ticket_updated", "task_completed"]


@dataclass(frozen=True)
class ListFilter:
    app_id: str | None = None
    status: str | None = None
    node_id: str | None = None
    assignee_id: str | None = None  # tickets with an open task of this user
    requester_id: str | None = None
    department_id: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    finished_from: datetime | None = None
    finished_before: datetime | None = None
    terms: tuple[QueryTerm, ...] = ()
    serial_prefix: str | None = None  # LN-2026-0001…: through the serial's unique index


@dataclass(frozen=True)
class Order:
    key: OrderKey
    descending: bool
    # The (order value, id) of the last row of the previous page; for "id" both are the id.
    after: tuple[Any, str] | None = None


def _matches(term: QueryTerm) -> ColumnElement[bool]:
    """Tickets having the term (or a term with that prefix)."""
    found: ColumnElement[bool]
    if term.prefix:
        found = terms.c.term.between(term.text, term.text + _AFTER_ALL)
    else:
        found = terms.c.term == term.text
    return tickets.c.id.in_(select(terms.c.ticket_id).where(found))


def _has_term(term: QueryTerm, ticket_id: Any) -> ColumnElement[bool]:
    """The ticket has this exact term: one primary-key look-up per candidate row."""
    other = terms.alias()
    return exists().where(other.c.term == term.text, other.c.ticket_id == ticket_id)


# Counting a term's postings stops here: past it, a term is "common" and any of them
# will do as the one walked.
_COUNT_CAP = 2000


def _rarest(conn: Connection, candidates: list[QueryTerm]) -> QueryTerm | None:
    """The exact term with the fewest tickets (counted in the index, capped)."""
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    counts = []
    for term in candidates:
        capped = select(terms.c.ticket_id).where(terms.c.term == term.text).limit(_COUNT_CAP)
        counts.append(
            (conn.execute(select(func.count()).select_from(capped.subquery())).scalar_one(), term)
        )
    return min(counts, key=lambda c: c[0])[1]


def _ticket_conditions(
    f: ListFilter, *, driving: QueryTerm | None = None, ticket_id: Any = None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.serial_prefix is not None:
        where.append(tickets.c.serial.between(f.serial_prefix, f.serial_prefix + _AFTER_ALL))
    if f.app_id is not None:
        where.append(tickets.c.app_id == f.app_id)
    if f.status is not None:
        where.append(tickets.c.status == f.status)
    if f.requester_id is not None:
        where.append(tickets.c.requester_id == f.requester_id)
    if f.department_id is not None:
        where.append(tickets.c.department_id == f.department_id)
    if f.created_from is not None:
        where.append(tickets.c.created_at >= f.created_from)
    if f.created_before is not None:
        where.append(tickets.c.created_at < f.created_before)
    if f.finished_from is not None:
        where.append(tickets.c.finished_at >= f.finished_from)
    if f.finished_before is not None:
        where.append(tickets.c.finished_at < f.finished_before)
    for term in f.terms:
        if term is driving:
            continue
        where.append(
            _matches(term)
            if term.prefix
            else _has_term(term, tickets.c.id if ticket_id is None else ticket_id)
        )
    return where


def _open_task_at(f: ListFilter) -> ColumnElement[bool] | None:
    """Tickets with an open task at the node and/or held by the assignee."""
    if f.node_id is None and f.assignee_id is None:
        return None
    held = select(tasks.c.id).where(tasks.c.ticket_id == tickets.c.id, tasks.c.state == "open")
    if f.node_id is not None:
        held = held.where(tasks.c.node_id == f.node_id)
    if f.assignee_id is not None:
        held = held.where(
            exists().where(
                assignees.c.task_id == tasks.c.id,
                assignees.c.user_id == f.assignee_id,
                assignees.c.is_open.is_(True),
            )
        )
    return exists(held)


def _ordered(query: Select[Any], value: Any, row_id: Any, order: Order, limit: int) -> Select[Any]:
    if order.after is not None:
        after_value, after_id = order.after
        if order.key == "id":
            query = query.where(row_id < after_id if order.descending else row_id > after_id)
        elif order.descending:
            query = query.where(
                or_(value < after_value, and_(value == after_value, row_id < after_id))
            )
        else:
            query = query.where(
                or_(value > after_value, and_(value == after_value, row_id > after_id))
            )
    columns = [row_id] if order.key == "id" else [value, row_id]
    return query.order_by(*(c.desc() if order.descending else c.asc() for c in columns)).limit(
        limit
    )


def ticket_rows(
    conn: Connection, f: ListFilter, *, visible_to: str | None, order: Order, limit: int
) -> list[Row[Any]]:
    """Tickets matching the filter; `visible_to` keeps those the user filed or works on."""
    # Newest first with a search: walk one exact term's postings backwards (they are in
    # ticket-id order) and check the rest per row, so the first page stops after its
    # rows instead of fetching and sorting every match (ADR 0010).
    # The other terms are checked against the posting, before its ticket row is read.
    driving = None
    if order.key == "id":
        driving = _rarest(conn, [t for t in f.terms if not t.prefix])
    row_id: Any = tickets.c.id
    if driving is None:
        query = select(tickets).where(*_ticket_conditions(f))
    else:
        posting = terms.alias("posting")
        row_id = posting.c.ticket_id
        query = (
            select(tickets)
            .select_from(posting)
            .join(tickets, tickets.c.id == posting.c.ticket_id)
            .where(
                posting.c.term == driving.text,
                *_ticket_conditions(f, driving=driving, ticket_id=posting.c.ticket_id),
            )
        )
    held = _open_task_at(f)
    if held is not None:
        query = query.where(held)
    if visible_to is not None:
        involved = (
            select(tasks.c.ticket_id)
            .join(assignees, assignees.c.task_id == tasks.c.id)
            .where(assignees.c.user_id == visible_to)
        )
        query = query.where((tickets.c.requester_id == visible_to) | tickets.c.id.in_(involved))
    value = tickets.c.updated_at if order.key == "ticket_updated" else row_id
    return list(conn.execute(_ordered(query, value, row_id, order, limit)))


def task_rows(
    conn: Connection, f: ListFilter, *, user_id: str, done: bool, order: Order, limit: int
) -> list[Row[Any]]:
    """The user's open tasks, or (done) the tasks the user decided, with their ticket.

    Open tasks are read from the user's range of task_assignees, in task id order: the
    newest (or oldest) first page stops after its rows instead of sorting them all."""
    columns = (
        tasks,
        tickets.c.serial,
        tickets.c.title,
        tickets.c.app_id,
        tickets.c.app_version_id,
        tickets.c["values"],
        tickets.c.status.label("ticket_status"),
        tickets.c.requester_id,
        tickets.c.created_at.label("ticket_created_at"),
        tickets.c.updated_at.label("ticket_updated_at"),
    )
    row_id: Any = tasks.c.id
    if done:
        query = (
            select(*columns)
            .join(tickets, tickets.c.id == tasks.c.ticket_id)
            .where(tasks.c.completed_by == user_id, tasks.c.state.in_(("approved", "rejected")))
        )
    else:
        row_id = assignees.c.task_id  # the index's order, so the planner walks it
        query = (
            select(*columns)
            .select_from(assignees)
            .join(tasks, tasks.c.id == assignees.c.task_id)
            .join(tickets, tickets.c.id == tasks.c.ticket_id)
            .where(assignees.c.user_id == user_id, assignees.c.is_open.is_(True))
        )
    query = query.where(*_ticket_conditions(f))
    if f.node_id is not None:
        query = query.where(tasks.c.node_id == f.node_id)
    if order.key == "ticket_updated":
        value: Any = tickets.c.updated_at
    elif order.key == "task_completed":
        value = tasks.c.completed_at
    else:
        value = row_id
    return list(conn.execute(_ordered(query, value, row_id, order, limit)))


def open_tasks_of(conn: Connection, ticket_ids: list[str]) -> list[Row[Any]]:
    """The open tasks of the listed tickets with each assignee: (ticket_id, node_id,
    name_en, name_zh, created_at, user_id) rows, for "current step and who holds it"."""
    if not ticket_ids:
        return []
    return list(conn.execute(_OPEN_TASKS_OF, {"ticket_ids": ticket_ids}))


# Built once with bound parameters (store/auth_lookup.py says why).
_OPEN_TASKS_OF = (
    select(
        tasks.c.ticket_id,
        tasks.c.id,
        tasks.c.node_id,
        tasks.c.name_en,
        tasks.c.name_zh,
        tasks.c.created_at,
        assignees.c.user_id,
    )
    .join(assignees, assignees.c.task_id == tasks.c.id)
    .where(tasks.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)), tasks.c.state == "open")
    .order_by(tasks.c.id)
)


# Every page's badges: one statement, through the driver (store/sql.py), each count
# stopping at `up_to` so a user holding thousands of rows costs no more than one holding
# a hundred.
_BADGE_COUNTS = Sql(
    "SELECT"
    " (SELECT count(*) FROM (SELECT 1 FROM task_assignees"
    "   WHERE user_id = :user_id AND is_open = :open LIMIT :up_to) AS held),"
    " (SELECT count(*) FROM (SELECT 1 FROM notifications"
    "   WHERE user_id = :user_id AND read_at IS NULL LIMIT :up_to) AS unread)"
)


def badge_counts(conn: Connection, user_id: str, *, up_to: int) -> tuple[int, int]:
    """(open tasks, unread notifications) of the user, each counted up to `up_to`."""
    held, unread = _BADGE_COUNTS.run(
        conn, {"user_id": user_id, "open": True, "up_to": up_to}
    ).fetchone()
    return int(held), int(unread)
