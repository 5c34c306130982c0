"""Tickets, their tasks, assignees and timeline (one row of events per step).

State changes are conditional updates (`WHERE version = :v`, `WHERE state = 'open'`)
so the database, not luck, decides which of two concurrent actions wins. The step's
hot path uses driver-level statements (`store/sql.py`); reads for pages use Core.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, and_, bindparam, func, select

from flowdesk.store.driver_select import DriverSelect
from flowdesk.store.sql import Sql, document, read_document, when
from flowdesk.store.tables import Task, TaskAssignee, Ticket, TicketCopy, TicketStep, table_of

tickets = table_of(Ticket)
tasks = table_of(Task)
assignees = table_of(TaskAssignee)
steps = table_of(TicketStep)

_INSERT_TICKET = Sql(
    'INSERT INTO tickets (id, app_id, app_version_id, serial, title, status, "values", state,'
    " version, requester_id, department_id, created_at, updated_at, finished_at) VALUES (:id,"
    " :app_id, :app_version_id, :serial, :title, :status, :values, :state, :version,"
    " :requester_id, :department_id, :created_at, :updated_at, :finished_at)"
)
_NEXT_SERIAL = Sql(
    "INSERT INTO ticket_serials (app_id, year, last) VALUES (:app_id, :year, 1)"
    " ON CONFLICT (app_id, year) DO UPDATE SET last = ticket_serials.last + 1 RETURNING last"
)
_SERIAL_AND_TITLE = Sql("SELECT serial, title FROM tickets WHERE id = :id")
_INSERT_TERM = Sql(
    "INSERT INTO ticket_terms (term, ticket_id) VALUES (:term, :ticket_id) ON CONFLICT DO NOTHING"
)
_DELETE_TERM = Sql("DELETE FROM ticket_terms WHERE term = :term AND ticket_id = :ticket_id")
_TASK_FOR_STEP = Sql(
    "SELECT t.id, t.ticket_id, t.node_id, t.state, k.app_version_id, k.status,"
    ' k."values", k.state, k.version, k.requester_id, g.generation FROM tasks t'
    " JOIN tickets k ON k.id = t.ticket_id JOIN org_generation g ON g.id = 1"
    " WHERE t.id = :task_id"
)
# A step on the ticket itself, not through one of its tasks (a timer, a message: ADR 0023);
# locked on PostgreSQL so a timer and a message on one ticket queue rather than retry.
_TICKET_FOR_STEP = Sql(
    "SELECT '', k.id, '', 'open', k.app_version_id, k.status,"
    ' k."values", k.state, k.version, k.requester_id, g.generation FROM tickets k'
    " JOIN org_generation g ON g.id = 1 WHERE k.id = :ticket_id"
)
_UPDATE_TICKET_SET = (
    'UPDATE tickets SET "values" = COALESCE(:values, "values"), state = :state,{status}'
    " version = :new_version, updated_at = :updated_at, finished_at = :finished_at"
    " WHERE id = :ticket_id AND version = :expected"
)
# SQLite rewrites the entries of every index holding a column the SET clause names,
# changed or not: most steps leave the status as it is and skip its index.
_UPDATE_TICKET = Sql(_UPDATE_TICKET_SET.format(status=" status = :status,"))
_UPDATE_TICKET_KEEP_STATUS = Sql(_UPDATE_TICKET_SET.format(status=""))
_INSERT_TASK = Sql(
    "INSERT INTO tasks (id, ticket_id, node_id, name_en, name_zh, state, created_at,"
    " completed_at, completed_by, comment, delegated_by) VALUES (:id, :ticket_id, :node_id,"
    " :name_en, :name_zh, 'open', :created_at, NULL, NULL, NULL, :delegated_by)"
)
_INSERT_ASSIGNEE = Sql(
    "INSERT INTO task_assignees (task_id, user_id, is_open) VALUES (:task_id, :user_id, :is_open)"
)
_CLOSE_TASK = Sql(
    "UPDATE tasks SET state = :state, completed_at = :at, completed_by = :by, comment = :comment"
    " WHERE id = :id AND state = 'open'"
)
_CLOSE_ASSIGNMENTS = Sql("UPDATE task_assignees SET is_open = :closed WHERE task_id = :id")
_INSERT_STEP = Sql(
    'INSERT INTO ticket_steps (ticket_id, version, at, events, "values")'
    " VALUES (:ticket_id, :version, :at, :events, :values)"
)


class TimelineEvent(NamedTuple):
    """One event of the timeline, with the instant of the step that made it."""

    at: datetime
    kind: str
    node_id: str | None
    task_id: str | None
    actor_id: str | None
    comment: str | None
    data: dict[str, Any] | None


class TaskForStep(NamedTuple):
    """The task and the ticket fields a step needs, read in one round trip."""

    id: str
    ticket_id: str
    node_id: str
    state: str
    app_version_id: str
    ticket_status: str
    values: dict[str, Any]
    ticket_state: dict[str, Any]
    version: int
    requester_id: str
    org_generation: int


def _ticket_params(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "values": document(conn, row["values"]),
        "state": document(conn, row["state"]),
        "created_at": when(conn, row["created_at"]),
        "updated_at": when(conn, row["updated_at"]),
        "finished_at": when(conn, row["finished_at"]),
    }


def insert_ticket(conn: Connection, row: dict[str, Any]) -> None:
    _INSERT_TICKET.run(conn, _ticket_params(conn, row))


_RESERVE_SERIALS = Sql(
    "INSERT INTO ticket_serials (app_id, year, last) VALUES (:app_id, :year, :count)"
    " ON CONFLICT (app_id, year) DO UPDATE SET last = ticket_serials.last + :count"
    " RETURNING last"
)


def reserve_serials(conn: Connection, app_id: str, year: int, count: int) -> int:
    """Takes `count` numbers of the app's sequence for `year` at once; returns the first.
    The counter row is held until the transaction ends (a rollback gives them back)."""
    last = int(
        _RESERVE_SERIALS.run(conn, {"app_id": app_id, "year": year, "count": count}).fetchone()[0]
    )
    return last - count + 1


def insert_tickets(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_ticket` for many rows in one executemany."""
    _INSERT_TICKET.run_many(conn, [_ticket_params(conn, row) for row in rows])


def insert_steps(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_step` for many: rows of ticket_id, version, at, events and, optionally,
    values (the form values the step set)."""
    _INSERT_STEP.run_many(
        conn,
        [
            {
                **row,
                "at": when(conn, row["at"]),
                "events": document(conn, row["events"]),
                "values": None if row.get("values") is None else document(conn, row["values"]),
            }
            for row in rows
        ],
    )


def insert_many_terms(conn: Connection, rows: Sequence[dict[str, str]]) -> None:
    """Search terms of many tickets: rows of term, ticket_id."""
    _INSERT_TERM.run_many(conn, rows)


def next_serial(conn: Connection, app_id: str, year: int) -> int:
    """The next number of the app's sequence for `year`, counted in this transaction."""
    return int(_NEXT_SERIAL.run(conn, {"app_id": app_id, "year": year}).fetchone()[0])


def serial_and_title(conn: Connection, ticket_id: str) -> tuple[str, str]:
    found = _SERIAL_AND_TITLE.run(conn, {"id": ticket_id}).fetchone()
    return ("", "") if found is None else (str(found[0]), str(found[1]))


def insert_terms(conn: Connection, ticket_id: str, terms: Iterable[str]) -> None:
    _INSERT_TERM.run_many(conn, [{"term": t, "ticket_id": ticket_id} for t in sorted(terms)])


def delete_terms(conn: Connection, ticket_id: str, terms: Iterable[str]) -> None:
    _DELETE_TERM.run_many(conn, [{"term": t, "ticket_id": ticket_id} for t in sorted(terms)])


# The reads of every ticket page, built once with bound parameters (store/auth_lookup.py
# says why).
_TICKET_BY_ID = DriverSelect(select(tickets).where(tickets.c.id == bindparam("ticket_id")))
_TICKET_OF_TASK = (
    select(tickets)
    .join(tasks, tasks.c.ticket_id == tickets.c.id)
    .where(tasks.c.id == bindparam("task_id"))
)
_TIMELINE = (
    select(steps.c.at, steps.c.events)
    .where(steps.c.ticket_id == bindparam("ticket_id"))
    .order_by(steps.c.version)
)
_STEP_VALUES = (
    select(steps.c.events, steps.c["values"])
    .where(steps.c.ticket_id == bindparam("ticket_id"))
    .order_by(steps.c.version)
)
_TASKS_OF_TICKET = (
    select(tasks)
    .where(tasks.c.ticket_id == bindparam("ticket_id"))
    .order_by(tasks.c.created_at, tasks.c.id)
)
_TASKS_WITH_ASSIGNEES = DriverSelect(
    select(tasks, assignees.c.user_id.label("assignee_id"))
    .outerjoin(assignees, assignees.c.task_id == tasks.c.id)
    .where(tasks.c.ticket_id == bindparam("ticket_id"))
    .order_by(tasks.c.created_at, tasks.c.id)
)


def tickets_by_ids(conn: Connection, ticket_ids: Sequence[str]) -> list[Any]:
    """The tickets (or records) with these ids, any app, in no particular order."""
    if not ticket_ids:
        return []
    return list(
        conn.execute(
            select(
                tickets.c.id,
                tickets.c.app_id,
                tickets.c.app_version_id,
                tickets.c.serial,
                tickets.c.title,
                tickets.c.status,
                tickets.c["values"],
            ).where(tickets.c.id.in_(list(ticket_ids)))
        )
    )


def ticket_by_id(conn: Connection, ticket_id: str) -> Any | None:
    return _TICKET_BY_ID.first(conn, {"ticket_id": ticket_id})


def ticket_of_task(conn: Connection, task_id: str) -> Row[Any] | None:
    return conn.execute(_TICKET_OF_TASK, {"task_id": task_id}).first()


def task_for_step(conn: Connection, task_id: str) -> TaskForStep | None:
    found = _TASK_FOR_STEP.run(conn, {"task_id": task_id}).fetchone()
    if found is None:
        return None
    row = list(found)
    row[6], row[7] = read_document(row[6]), read_document(row[7])
    return TaskForStep(*row)


def ticket_for_step(conn: Connection, ticket_id: str) -> TaskForStep | None:
    """The ticket as a step reads it, with no task (id and node ""): timers and messages
    move tickets that may have no open task (a token waits at a catch event)."""
    found = _TICKET_FOR_STEP.run(conn, {"ticket_id": ticket_id}).fetchone()
    if found is None:
        return None
    row = list(found)
    row[6], row[7] = read_document(row[6]), read_document(row[7])
    return TaskForStep(*row)


def update_ticket(
    conn: Connection,
    *,
    ticket_id: str,
    expected_version: int,
    values: dict[str, Any] | None,
    state: dict[str, Any],
    status: str | None,
    updated_at: datetime,
    finished_at: datetime | None,
) -> bool:
    """Writes the new state only if nobody else did since we read `expected_version`;
    `values` and `status` None keep what is there."""
    statement = _UPDATE_TICKET_KEEP_STATUS if status is None else _UPDATE_TICKET
    cursor = statement.run(
        conn,
        {
            "ticket_id": ticket_id,
            "expected": expected_version,
            "values": document(conn, values),
            "state": document(conn, state),
            "status": status,
            "new_version": expected_version + 1,
            "updated_at": when(conn, updated_at),
            "finished_at": when(conn, finished_at),
        },
    )
    return bool(cursor.rowcount == 1)


def insert_tasks(
    conn: Connection, rows: Sequence[dict[str, Any]], assignee_rows: Sequence[dict[str, Any]]
) -> None:
    """Opens tasks: rows need id, ticket_id, node_id, name_en, name_zh, created_at, and
    may say `delegated_by` (委派)."""
    _INSERT_TASK.run_many(
        conn,
        [{"delegated_by": None, **r, "created_at": when(conn, r["created_at"])} for r in rows],
    )
    _INSERT_ASSIGNEE.run_many(conn, assignee_rows)


def close_tasks(conn: Connection, closings: Sequence[dict[str, Any]]) -> None:
    """Closes open tasks; rows need id, state, at, by, comment."""
    _CLOSE_TASK.run_many(
        conn,
        [
            {
                "id": closing["id"],
                "state": closing["state"],
                "at": when(conn, closing["at"]),
                "by": closing["by"],
                "comment": closing["comment"],
            }
            for closing in closings
        ],
    )
    _CLOSE_ASSIGNMENTS.run_many(conn, [{"id": c["id"], "closed": False} for c in closings])


def insert_step(
    conn: Connection,
    *,
    ticket_id: str,
    version: int,
    at: datetime,
    events: Sequence[dict[str, Any]],
    values: dict[str, Any] | None = None,
) -> None:
    """Records one step in the timeline: `events` are dicts whose absent keys mean null;
    `values` the form values the step set (None: it left them as they were)."""
    _INSERT_STEP.run(
        conn,
        {
            "ticket_id": ticket_id,
            "version": version,
            "at": when(conn, at),
            "events": document(conn, events),
            "values": None if values is None else document(conn, values),
        },
    )


def step_values(conn: Connection, ticket_id: str) -> list[tuple[Any, Any]]:
    """(events, values) of each step of a ticket, oldest first: what each decision saw."""
    return [
        (read_document(events), read_document(values) if values is not None else None)
        for events, values in conn.execute(_STEP_VALUES, {"ticket_id": ticket_id})
    ]


def timeline(conn: Connection, ticket_id: str) -> list[TimelineEvent]:
    """Every event of a ticket, oldest first."""
    rows = conn.execute(_TIMELINE, {"ticket_id": ticket_id})
    return [
        TimelineEvent(
            at,
            event["kind"],
            event.get("node_id"),
            event.get("task_id"),
            event.get("actor_id"),
            event.get("comment"),
            event.get("data"),
        )
        for at, step_events in rows
        for event in step_events
    ]


def tasks_of_ticket(conn: Connection, ticket_id: str) -> list[Row[Any]]:
    return list(conn.execute(_TASKS_OF_TICKET, {"ticket_id": ticket_id}))


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


def tasks_with_assignees(
    conn: Connection, ticket_id: str
) -> tuple[list[Any], dict[str, list[str]]]:
    """The ticket's tasks in order and each one's assignees, in one statement (the
    ticket page used two, and a third for who may read it)."""
    rows = _TASKS_WITH_ASSIGNEES.rows(conn, {"ticket_id": ticket_id})
    ordered: list[Any] = []
    assigned: dict[str, list[str]] = {}
    for row in rows:
        users = assigned.get(row.id)
        if users is None:
            ordered.append(row)
            users = assigned[row.id] = []
        if row.assignee_id is not None:
            users.append(row.assignee_id)
    return ordered, assigned


def participant_ids(conn: Connection, ticket_id: str) -> frozenset[str]:
    """Who may read the ticket besides its requester: its tasks' assignees and the people
    copied (抄送) on it, in one statement."""
    copies = table_of(TicketCopy)
    rows = conn.execute(
        select(assignees.c.user_id)
        .join(tasks, tasks.c.id == assignees.c.task_id)
        .where(tasks.c.ticket_id == ticket_id)
        .union(select(copies.c.user_id).where(copies.c.ticket_id == ticket_id))
    ).scalars()
    return frozenset(rows)


def nodes_held_by(conn: Connection, ticket_id: str, user_id: str) -> frozenset[str]:
    """The nodes of the ticket's tasks `user_id` is (or was) an assignee of."""
    rows = conn.execute(
        select(tasks.c.node_id)
        .join(assignees, tasks.c.id == assignees.c.task_id)
        .where(tasks.c.ticket_id == ticket_id, assignees.c.user_id == user_id)
        .distinct()
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
            tickets.c.app_version_id,
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


def running_tickets_of(conn: Connection, requester_id: str, *, limit: int) -> list[str]:
    """The ids of the running tickets `requester_id` filed (owns), oldest first."""
    query = (
        select(tickets.c.id)
        .where(tickets.c.requester_id == requester_id, tickets.c.status == "running")
        .order_by(tickets.c.id)
        .limit(limit)
    )
    return [str(ticket_id) for (ticket_id,) in conn.execute(query)]


_SET_REQUESTER = Sql("UPDATE tickets SET requester_id = :requester_id WHERE id = :ticket_id")


def set_requester(conn: Connection, ticket_id: str, requester_id: str) -> None:
    """A hand-over gives the ticket to a new owner (ADR 0034); SQLite's step writes it."""
    _SET_REQUESTER.run(conn, {"ticket_id": ticket_id, "requester_id": requester_id})


_COUNT_OPEN_TASKS = DriverSelect(
    select(func.count().label("open_tasks"))
    .select_from(assignees)
    .where(assignees.c.user_id == bindparam("user_id"), assignees.c.is_open.is_(True))
)


def count_open_tasks(conn: Connection, user_id: str) -> int:
    return int(_COUNT_OPEN_TASKS.rows(conn, {"user_id": user_id})[0].open_tasks)


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
