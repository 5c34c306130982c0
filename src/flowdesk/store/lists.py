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
from functools import lru_cache
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
    literal,
    or_,
    select,
)

from flowdesk.kernel.search_terms import QueryTerm
from flowdesk.store.driver_select import DriverSelect
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
    # True: leave out record apps' records (ADR 0038), which live in their app's grid
    no_records: bool | None = None


@dataclass(frozen=True)
class Order:
    key: OrderKey
    descending: bool
    # The (order value, id) of the last row of the previous page; for "id" both are the id.
    after: tuple[Any, str] | None = None


# A list's statement is built once per shape (which filters are set, the search terms'
# kinds, the order) with named parameters, and kept: building a statement and deriving
# SQLAlchemy's cache key from it cost more than running it (~0.2 ms of an inbox page's
# 0.35 ms). The values travel as parameters: the same names everywhere below.
_FILTER_FIELDS = (
    "serial_prefix",
    "app_id",
    "status",
    "requester_id",
    "department_id",
    "created_from",
    "created_before",
    "finished_from",
    "finished_before",
    "node_id",
    "assignee_id",
    "no_records",
)
# statuses of records, not tickets (engines/apps/records.py)
_RECORD_STATUSES = ("record", "deleted")
_SHAPES_KEPT = 512


@dataclass(frozen=True)
class _Shape:
    """What a list statement's SQL depends on; never the values themselves."""

    fields: frozenset[str]  # the filters that are set
    terms: tuple[bool, ...]  # each search term: a prefix?
    driving: int | None  # the term whose postings are walked (ticket lists)
    order: OrderKey
    descending: bool
    after: bool


def _shape(f: ListFilter, order: Order, driving: int | None = None) -> _Shape:
    return _Shape(
        frozenset(name for name in _FILTER_FIELDS if getattr(f, name) is not None),
        tuple(t.prefix for t in f.terms),
        driving,
        order.key,
        order.descending,
        order.after is not None,
    )


def _params(f: ListFilter, order: Order, limit: int) -> dict[str, Any]:
    values: dict[str, Any] = {"limit": limit}
    for name in _FILTER_FIELDS:
        value = getattr(f, name)
        if value is not None and name != "no_records":
            values[name] = value
    if f.serial_prefix is not None:
        values["serial_end"] = f.serial_prefix + _AFTER_ALL
    for i, term in enumerate(f.terms):
        values[f"term_{i}"] = term.text
        values[f"term_{i}_end"] = term.text + _AFTER_ALL
    if order.after is not None:
        values["after_value"], values["after_id"] = order.after
    return values


def _matches(i: int, prefix: bool) -> ColumnElement[bool]:
    """Tickets having search term `i` (or, for a prefix, a term starting with it)."""
    found: ColumnElement[bool]
    if prefix:
        found = terms.c.term.between(bindparam(f"term_{i}"), bindparam(f"term_{i}_end"))
    else:
        found = terms.c.term == bindparam(f"term_{i}")
    return tickets.c.id.in_(select(terms.c.ticket_id).where(found))


def _has_term(i: int, ticket_id: Any) -> ColumnElement[bool]:
    """The ticket has exact term `i`: one primary-key look-up per candidate row."""
    other = terms.alias()
    return exists().where(other.c.term == bindparam(f"term_{i}"), other.c.ticket_id == ticket_id)


# Counting a term's postings stops here: past it, a term is "common" and any of them
# will do as the one walked.
_COUNT_CAP = 2000
_POSTINGS = select(func.count()).select_from(
    select(terms.c.ticket_id).where(terms.c.term == bindparam("term")).limit(_COUNT_CAP).subquery()
)


def _rarest(conn: Connection, f: ListFilter) -> int | None:
    """The exact search term with the fewest tickets (counted in the index, capped)."""
    candidates = [i for i, term in enumerate(f.terms) if not term.prefix]
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    counts = [
        (conn.execute(_POSTINGS, {"term": f.terms[i].text}).scalar_one(), i) for i in candidates
    ]
    return min(counts)[1]


def _ticket_conditions(shape: _Shape, ticket_id: Any = None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    fields = shape.fields
    if "serial_prefix" in fields:
        where.append(tickets.c.serial.between(bindparam("serial_prefix"), bindparam("serial_end")))
    for name, column in (
        ("app_id", tickets.c.app_id),
        ("status", tickets.c.status),
        ("requester_id", tickets.c.requester_id),
        ("department_id", tickets.c.department_id),
    ):
        if name in fields:
            where.append(column == bindparam(name))
    if "no_records" in fields:
        where.append(tickets.c.status.not_in(_RECORD_STATUSES))
    if "created_from" in fields:
        where.append(tickets.c.created_at >= bindparam("created_from"))
    if "created_before" in fields:
        where.append(tickets.c.created_at < bindparam("created_before"))
    if "finished_from" in fields:
        where.append(tickets.c.finished_at >= bindparam("finished_from"))
    if "finished_before" in fields:
        where.append(tickets.c.finished_at < bindparam("finished_before"))
    for i, prefix in enumerate(shape.terms):
        if i == shape.driving:
            continue
        where.append(
            _matches(i, prefix)
            if prefix
            else _has_term(i, tickets.c.id if ticket_id is None else ticket_id)
        )
    return where


def _open_task_at(shape: _Shape) -> ColumnElement[bool] | None:
    """Tickets with an open task at the node and/or held by the assignee."""
    if "node_id" not in shape.fields and "assignee_id" not in shape.fields:
        return None
    held = select(tasks.c.id).where(tasks.c.ticket_id == tickets.c.id, tasks.c.state == "open")
    if "node_id" in shape.fields:
        held = held.where(tasks.c.node_id == bindparam("node_id"))
    if "assignee_id" in shape.fields:
        held = held.where(
            exists().where(
                assignees.c.task_id == tasks.c.id,
                assignees.c.user_id == bindparam("assignee_id"),
                assignees.c.is_open.is_(True),
            )
        )
    return exists(held)


def _ordered(query: Select[Any], value: Any, row_id: Any, shape: _Shape) -> Select[Any]:
    if shape.after:
        after_value: Any = bindparam("after_value")
        after_id: Any = bindparam("after_id")
        if shape.order == "id":
            query = query.where(row_id < after_id if shape.descending else row_id > after_id)
        elif shape.descending:
            query = query.where(
                or_(value < after_value, and_(value == after_value, row_id < after_id))
            )
        else:
            query = query.where(
                or_(value > after_value, and_(value == after_value, row_id > after_id))
            )
    columns = [row_id] if shape.order == "id" else [value, row_id]
    return query.order_by(*(c.desc() if shape.descending else c.asc() for c in columns)).limit(
        bindparam("limit")
    )


def ticket_rows(
    conn: Connection, f: ListFilter, *, visible_to: str | None, order: Order, limit: int
) -> list[Row[Any]]:
    """Tickets matching the filter; `visible_to` keeps those the user filed or works on."""
    # Newest first with a search: walk one exact term's postings backwards (they are in
    # ticket-id order) and check the rest per row, so the first page stops after its
    # rows instead of fetching and sorting every match (ADR 0010).
    driving = _rarest(conn, f) if order.key == "id" else None
    statement = _ticket_statement(_shape(f, order, driving), visible_to is not None)
    params = _params(f, order, limit)
    if visible_to is not None:
        params["visible_to"] = visible_to
    return list(conn.execute(statement, params))


def ticket_count(conn: Connection, f: ListFilter, *, visible_to: str | None, up_to: int) -> int:
    """How many tickets `ticket_rows` would give without a limit, counting at most `up_to`
    (an export checks its row cap before it writes a byte)."""
    order = Order("id", True)
    listed = _ticket_statement(_shape(f, order), visible_to is not None)
    statement = select(func.count()).select_from(listed.with_only_columns(tickets.c.id).subquery())
    params = _params(f, order, up_to)
    if visible_to is not None:
        params["visible_to"] = visible_to
    return int(conn.execute(statement, params).scalar_one())


@lru_cache(maxsize=_SHAPES_KEPT)
def _ticket_statement(shape: _Shape, visible: bool) -> Select[Any]:
    row_id: Any = tickets.c.id
    if shape.driving is None:
        query = select(tickets).where(*_ticket_conditions(shape))
    else:
        # The other terms are checked against the posting, before its ticket row is read.
        posting = terms.alias("posting")
        row_id = posting.c.ticket_id
        query = (
            select(tickets)
            .select_from(posting)
            .join(tickets, tickets.c.id == posting.c.ticket_id)
            .where(
                posting.c.term == bindparam(f"term_{shape.driving}"),
                *_ticket_conditions(shape, ticket_id=posting.c.ticket_id),
            )
        )
    held = _open_task_at(shape)
    if held is not None:
        query = query.where(held)
    if visible:
        involved = (
            select(tasks.c.ticket_id)
            .join(assignees, assignees.c.task_id == tasks.c.id)
            .where(assignees.c.user_id == bindparam("visible_to"))
        )
        query = query.where(
            (tickets.c.requester_id == bindparam("visible_to")) | tickets.c.id.in_(involved)
        )
    value = tickets.c.updated_at if shape.order == "ticket_updated" else row_id
    return _ordered(query, value, row_id, shape)


def task_rows(
    conn: Connection, f: ListFilter, *, user_id: str, done: bool, order: Order, limit: int
) -> list[Any]:
    """The user's open tasks, or (done) the tasks the user decided, with their ticket.

    Open tasks are read from the user's range of task_assignees, in task id order: the
    newest (or oldest) first page stops after its rows instead of sorting them all."""
    params = _params(f, order, limit)
    params["user_id"] = user_id
    return _task_statement(_shape(f, order), done).rows(conn, params)


# 已办: what the user did to a task (a return, a resubmission and a 转交 too); a task the engine
# cancelled has no completed_by and was nobody's action (APPROVALS.md edge case 2).
DONE_STATES = ("approved", "rejected", "returned", "resubmitted", "transferred", "resolved")


@lru_cache(maxsize=_SHAPES_KEPT)
def _task_statement(shape: _Shape, done: bool) -> DriverSelect:
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
    user_id: Any = bindparam("user_id")
    if done:
        query = (
            select(*columns)
            .join(tickets, tickets.c.id == tasks.c.ticket_id)
            .where(
                tasks.c.completed_by == user_id,
                tasks.c.state.in_([literal(s) for s in DONE_STATES]),
            )
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
    query = query.where(*_ticket_conditions(shape))
    if "node_id" in shape.fields:
        query = query.where(tasks.c.node_id == bindparam("node_id"))
    if shape.order == "ticket_updated":
        value: Any = tickets.c.updated_at
    elif shape.order == "task_completed":
        value = tasks.c.completed_at
    else:
        value = row_id
    return DriverSelect(_ordered(query, value, row_id, shape))


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
