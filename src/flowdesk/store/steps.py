"""Writing one process step: the ticket, its tasks and assignees, its timeline row, the
notification job and the audit entry, all or nothing.

The write is conditional on the ticket still being at the version the step read. Every
change to a ticket's tasks is such a step and bumps the version, so the version alone
decides races: when it fails nothing at all is written and `StepWritten.applied` is
false, and the caller re-reads and runs the step again.

On PostgreSQL the step's rows are ONE statement, a data-modifying CTE fed JSON arrays;
it and the audit append leave together with COMMIT (`Database.write`), so the audit
head row, which serialises writers, is held only for the server's time (ADR 0006). On
SQLite, an in-process library with one writer, the same rows go through a handful of
prepared statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection

from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import SEQUENCE_DIGITS, format_number, format_serial
from flowdesk.store import attachments as attachments_store
from flowdesk.store import audit as audit_store
from flowdesk.store import copies as copies_store
from flowdesk.store import jobs as jobs_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store import waits as waits_store
from flowdesk.store.sql import Queued, Sql, is_postgres, queue_before_commit


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class SearchTerms:
    """How a step changes a ticket's search terms (ticket_terms, ADR 0010). A submit
    adds the terms of its texts (the store adds those of the serial it gives); a step
    that changes values adds and removes the difference."""

    added: frozenset[str]
    removed: frozenset[str] = frozenset()


@dataclass
class StepWrite:
    """Everything one step changes. Row dicts carry only what varies per row: the ticket
    id and the step's instant are filled in here."""

    ticket_id: str
    at: datetime
    audit: AuditRecord
    values: dict[str, Any] | None  # None: a step that leaves the form values as they are
    state: dict[str, Any]
    status: str
    status_changed: bool
    finished_at: datetime | None
    # A submit inserts this row (all ticket columns but the ones above, the serial
    # replaced by `serial_prefix` and `serial_year`); a later step updates the ticket
    # read at `expected_version`.
    new_ticket: dict[str, Any] | None = None
    expected_version: int = 0
    tasks: list[dict[str, Any]] = field(default_factory=list)  # id, node_id, name_en, name_zh
    assignees: list[dict[str, Any]] = field(default_factory=list)  # task_id, user_id
    closings: list[dict[str, Any]] = field(default_factory=list)  # id, state, by, comment
    events: list[dict[str, Any]] = field(default_factory=list)  # the timeline row's events
    notices: list[dict[str, Any]] = field(default_factory=list)
    copies: list[dict[str, Any]] = field(default_factory=list)  # CC nodes': user_id, node_id
    search: SearchTerms | None = None  # None: the step leaves the search terms as they are
    # Side effects leaving after commit (the outbox, ADR 0024): jobs as kind, payload,
    # idempotency_key, max_attempts; a service task's webhook is one.
    outbox: list[dict[str, Any]] = field(default_factory=list)
    # Timers and message waits the step starts (ADR 0023): id, kind, node_id,
    # activation_id, fire, due_at, name, key; a finished ticket's pending ones are dropped.
    waits: list[dict[str, Any]] = field(default_factory=list)
    drop_waits: bool = False  # the step finished a ticket that may have pending ones
    # waits an event-based gateway's winner cancelled (ADR 0035): pending -> cancelled
    cancel_waits: list[str] = field(default_factory=list)
    # Attachments the step's action carries (ADR 0028): id, task_id, action; linked to
    # the ticket only if the step wins its version check.
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # A hand-over gives the ticket to a new owner (ADR 0034): its new requester's id.
    requester_id: str | None = None
    # A submit's auto-number fields (ADR 0038): (field key, format), filled in from the
    # serial's year and sequence when the store numbers the ticket.
    numbered: tuple[tuple[str, str], ...] = ()

    @property
    def version(self) -> int:
        return 1 if self.new_ticket is not None else self.expected_version + 1


class StepWritten:
    """Whether the step's write happened; on PostgreSQL readable once the transaction ends."""

    def __init__(self, applied: bool | None = None, queued: Queued | None = None) -> None:
        self._applied = applied
        self._queued = queued

    @property
    def applied(self) -> bool:
        if self._applied is None:
            assert self._queued is not None
            self._applied = bool(self._queued.result().fetchone()[0])
        return self._applied


def write_step(conn: Connection, step: StepWrite) -> StepWritten:
    if is_postgres(conn):
        return _write_postgresql(conn, step)
    return _write_sqlite(conn, step)


def audit_entry(step: StepWrite) -> dict[str, Any]:
    return {
        "at": step.at,
        "target_type": "ticket",
        "target_id": step.ticket_id,
        "actor": step.audit.actor,
        "action": step.audit.action,
        "details": step.audit.details,
    }


def numbered_values(
    step: StepWrite, year: int, sequence: int, serial: str | None = None
) -> dict[str, Any] | None:
    """The submit's values with its auto-numbers given (ADR 0038); their search terms (and
    the `serial`'s, when given) added to the step's."""
    numbers = {key: format_number(text, year, step.at, sequence) for key, text in step.numbered}
    texts = [*numbers.values(), *([serial] if serial else [])]
    if texts and step.search is not None:
        step.search = SearchTerms(step.search.added | document_terms(texts), step.search.removed)
    if not numbers or step.values is None:
        return step.values
    return {**step.values, **numbers}


def _write_sqlite(conn: Connection, step: StepWrite) -> StepWritten:
    serial: str | None = None
    values = step.values
    if step.new_ticket is not None:
        ticket = dict(step.new_ticket)
        prefix, year = ticket.pop("serial_prefix"), ticket.pop("serial_year")
        # One writer at a time on SQLite: the counter row cannot be raced, and the
        # submit's rollback takes the number back with everything else.
        number = tickets_store.next_serial(conn, ticket["app_id"], year)
        serial = format_serial(prefix, year, number)
        values = numbered_values(step, year, number)
        tickets_store.insert_ticket(
            conn,
            {
                **ticket,
                "serial": serial,
                "id": step.ticket_id,
                "values": values,
                "state": step.state,
                "status": step.status,
                "version": 1,
                "created_at": step.at,
                "updated_at": step.at,
                "finished_at": step.finished_at,
            },
        )
    elif not tickets_store.update_ticket(
        conn,
        ticket_id=step.ticket_id,
        expected_version=step.expected_version,
        values=step.values,
        state=step.state,
        status=step.status if step.status_changed else None,
        updated_at=step.at,
        finished_at=step.finished_at,
    ):
        return StepWritten(applied=False)
    if step.requester_id is not None:
        tickets_store.set_requester(conn, step.ticket_id, step.requester_id)
    if step.search is not None:
        _write_terms_sqlite(conn, step, serial)
    tickets_store.insert_tasks(
        conn,
        [{**task, "ticket_id": step.ticket_id, "created_at": step.at} for task in step.tasks],
        [{**assignee, "is_open": True} for assignee in step.assignees],
    )
    tickets_store.close_tasks(conn, [{**c, "at": step.at} for c in step.closings])
    copies_store.insert_copies(
        conn, [{**c, "ticket_id": step.ticket_id, "at": step.at} for c in step.copies]
    )
    tickets_store.insert_step(
        conn,
        ticket_id=step.ticket_id,
        version=step.version,
        at=step.at,
        events=step.events,
        values=step.values,
    )
    if step.notices:
        jobs_store.enqueue(
            conn,
            kind="notify",
            payload={"ticket_id": step.ticket_id, "notices": step.notices},
            due_at=step.at,
            now=step.at,
        )
    for job in step.outbox:
        jobs_store.enqueue(conn, **job, due_at=step.at, now=step.at)
    _write_waits(conn, step)
    attachments_store.link_step(conn, step.ticket_id, step.at, step.attachments)
    audit_store.append(conn, **audit_entry(step))
    return StepWritten(applied=True)


def _write_waits(conn: Connection, step: StepWrite) -> None:
    """The step's timers and message waits, and a finished ticket's pending ones dropped
    (on PostgreSQL gated on the step's version check, as the outbox)."""
    if step.waits:
        waits_store.insert_waits(conn, step.ticket_id, step.at, step.waits)
    if step.drop_waits and step.finished_at is not None and step.new_ticket is None:
        waits_store.drop_pending(conn, step.ticket_id, step.at)


def _write_terms_sqlite(conn: Connection, step: StepWrite, serial: str | None) -> None:
    assert step.search is not None
    if serial is not None:
        tickets_store.insert_terms(
            conn, step.ticket_id, step.search.added | document_terms([serial])
        )
        return
    tickets_store.delete_terms(conn, step.ticket_id, _removable(conn, step))
    tickets_store.insert_terms(conn, step.ticket_id, step.search.added)


def _removable(conn: Connection, step: StepWrite) -> frozenset[str]:
    """The terms a value change removes, less those the serial and the title still give
    (the title keeps the subject it was filed with; the year may have been a word of a
    text that changed). Read only by the rare steps that change values."""
    assert step.search is not None
    if not step.search.removed:
        return frozenset()
    return step.search.removed - document_terms(
        tickets_store.serial_and_title(conn, step.ticket_id)
    )


# Every CTE after `ticket` reads from it, so when the ticket's condition fails the
# statement writes nothing. Foreign keys between the CTEs' rows (assignees → new tasks)
# are checked at the end of the statement, when all of them exist.
# The serial's counter row is locked from its increment to COMMIT, which this statement
# leaves with: concurrent submits of one app queue there for the server's time only, and
# a failed submit rolls its number back. lpad cuts longer text, hence the greatest().
_PG_TICKET_INSERT = (
    "serial_no AS (INSERT INTO ticket_serials (app_id, year, last)"
    " VALUES (:app_id, CAST(:serial_year AS integer), 1) ON CONFLICT (app_id, year)"
    " DO UPDATE SET last = ticket_serials.last + 1"
    " RETURNING lpad(CAST(last AS text), greatest(6, length(CAST(last AS text))), '0') AS seq),"
    ' ticket AS (INSERT INTO tickets (id, app_id, app_version_id, serial, title, status, "values",'
    " state, version, requester_id, department_id, created_at, updated_at, finished_at)"
    " SELECT :ticket_id, :app_id, :app_version_id,"
    " :serial_prefix || '-' || CAST(:serial_year AS text) || '-' || serial_no.seq,"
    " :title, :status, :values, :state, 1, :requester_id, :department_id, :at, :at,"
    " :finished_at FROM serial_no RETURNING id),"
    # The serial's sequence is a search term too (its prefix and year are in :terms_added).
    " new_terms AS (INSERT INTO ticket_terms (term, ticket_id) SELECT u.term, ticket.id"
    " FROM ticket, (SELECT unnest(CAST(:terms_added AS text[])) AS term"
    " UNION SELECT seq FROM serial_no) u)"
)
_PG_TICKET_UPDATE = (
    'ticket AS (UPDATE tickets SET "values" = COALESCE(:values, "values"), state = :state,'
    " status = :status, version = :version, updated_at = :at, finished_at = :finished_at"
    " WHERE id = :ticket_id AND version = :expected_version RETURNING id)"
)
_PG_STEP_REST = (
    " new_tasks AS (INSERT INTO tasks (id, ticket_id, node_id, name_en, name_zh, state,"
    " created_at, delegated_by) SELECT r.id, ticket.id, r.node_id, r.name_en, r.name_zh,"
    " 'open', :at, r.delegated_by FROM ticket, jsonb_to_recordset(:tasks) AS r(id text,"
    " node_id text, name_en text, name_zh text, delegated_by text)),"
    " new_assignees AS (INSERT INTO task_assignees (task_id, user_id, is_open)"
    " SELECT r.task_id, r.user_id, true FROM ticket,"
    " jsonb_to_recordset(:assignees) AS r(task_id text, user_id text)),"
    # The task the step completes is found by its key and the ones it cancels through
    # the ticket: plans that stay right when they were prepared on near-empty tables
    # (a join with jsonb_to_recordset, which the planner guesses at 100 rows, did not).
    " completed AS (UPDATE tasks t SET state = :completed_state, completed_at = :at,"
    " completed_by = :completed_by, comment = :completed_comment FROM ticket"
    " WHERE t.id = :completed_task_id AND t.state = 'open' RETURNING t.id),"
    " cancelled AS (UPDATE tasks t SET state = 'cancelled', completed_at = :at FROM ticket"
    " WHERE t.ticket_id = ticket.id AND t.id = ANY(CAST(:cancelled_task_ids AS text[]))"
    " AND t.state = 'open' RETURNING t.id),"
    " completed_assignees AS (UPDATE task_assignees a SET is_open = false FROM completed"
    " WHERE a.task_id = completed.id),"
    " cancelled_assignees AS (UPDATE task_assignees a SET is_open = false FROM cancelled"
    " WHERE a.task_id = cancelled.id),"
    # A CC node's copies (抄送); someone already copied on the ticket keeps the first copy.
    " new_copies AS (INSERT INTO ticket_copies (ticket_id, user_id, node_id, at)"
    " SELECT ticket.id, r.user_id, r.node_id, :at FROM ticket,"
    " jsonb_to_recordset(:copies) AS r(user_id text, node_id text) ON CONFLICT DO NOTHING),"
    # the values the step set (null: unchanged), kept with it for the decisions' sake
    ' new_step AS (INSERT INTO ticket_steps (ticket_id, version, at, events, "values")'
    " SELECT ticket.id, :version, :at, :events, :values FROM ticket),"
    " new_job AS (INSERT INTO jobs (kind, payload, state, due_at, attempts, max_attempts,"
    " created_at, updated_at) SELECT 'notify', :job_payload, 'queued', :at, 0,"
    " :job_max_attempts, :at, :at FROM ticket WHERE :job_payload::jsonb IS NOT NULL)"
    " SELECT count(*) FROM ticket"
)
_PG_TERMS_CHANGE = (
    " removed_terms AS (DELETE FROM ticket_terms d USING ticket WHERE d.ticket_id = ticket.id"
    " AND d.term = ANY(CAST(:terms_removed AS text[]))),"
    " added_terms AS (INSERT INTO ticket_terms (term, ticket_id) SELECT u, ticket.id"
    " FROM ticket, unnest(CAST(:terms_added AS text[])) u ON CONFLICT DO NOTHING),"
)
_PG_SUBMIT = Sql(f"WITH {_PG_TICKET_INSERT},{_PG_STEP_REST}")
# A submit with auto-number fields (ADR 0038) took its number before, in this transaction
# (tickets_store.next_serial: the counter row stays locked until COMMIT), to fill them in.
_PG_SUBMIT_NUMBERED = Sql(
    "WITH serial_no AS (SELECT CAST(:serial_seq AS text) AS seq),"
    + _PG_TICKET_INSERT[_PG_TICKET_INSERT.index(" ticket AS (") :]
    + f",{_PG_STEP_REST}"
)
_PG_COMPLETE = Sql(f"WITH {_PG_TICKET_UPDATE},{_PG_STEP_REST}")
_PG_COMPLETE_SEARCH = Sql(f"WITH {_PG_TICKET_UPDATE},{_PG_TERMS_CHANGE}{_PG_STEP_REST}")


# The audit entry is a statement of its own so that the foreign-key checks of the step's
# rows (run at the end of each statement) are done before the audit head row is locked:
# the lock is then held only for the append and the COMMIT that leaves with it. It
# appends only if this transaction wrote the ticket row (its xmin is our transaction id).
_PG_AUDIT = Sql(
    "WITH "
    + audit_store.PG_APPEND_CTES.format(
        gate=" AND EXISTS (SELECT 1 FROM tickets WHERE id = :audit_target_id"
        " AND xmin = pg_current_xact_id()::xid)"
    )
    + " SELECT 1"
)


# The outbox (ADR 0024): the rare step that queues side effects besides its notices (a
# service task's webhook) inserts them in a statement of its own, written only if this
# transaction wrote the ticket row, so a step that lost its version check queues nothing.
_PG_OUTBOX = Sql(
    "INSERT INTO jobs (kind, payload, state, due_at, attempts, max_attempts, idempotency_key,"
    " created_at, updated_at) SELECT r.kind, r.payload, 'queued', :at, 0, r.max_attempts,"
    " r.idempotency_key, :at, :at FROM jsonb_to_recordset(:outbox) AS r(kind text,"
    " payload jsonb, max_attempts integer, idempotency_key text)"
    " WHERE EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid)"
    " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
)


# A hand-over's new owner (ADR 0034): rare, so a statement of its own, written only if this
# transaction wrote the ticket row (the step won its version check).
_PG_REQUESTER = Sql(
    "UPDATE tickets SET requester_id = :requester_id WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid"
)


# 加签 (ADR 0020): a signer's approval can complete the task they were added to as well (its
# holder's approval held until then). That rare second completion is its own statement,
# written only if this transaction wrote the ticket row (the step won the version check).
_PG_LATER_COMPLETIONS = Sql(
    "WITH done AS (UPDATE tasks t SET state = r.state, completed_at = :at,"
    " completed_by = r.by, comment = r.comment"
    " FROM jsonb_to_recordset(:later) AS r(id text, state text, by text, comment text)"
    # the ticket and the ids again: the planner guesses the recordset at 100 rows and
    # would scan tasks for the join; with these it reads the ticket's tasks by key
    " WHERE t.ticket_id = :ticket_id AND t.id = ANY(CAST(:later_ids AS text[]))"
    " AND t.id = r.id AND t.state = 'open'"
    " AND EXISTS (SELECT 1 FROM tickets"
    " WHERE id = :ticket_id AND xmin = pg_current_xact_id()::xid) RETURNING t.id)"
    " UPDATE task_assignees a SET is_open = false FROM done WHERE a.task_id = done.id"
)


def _later_completions(
    closings: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The closings for the step's statement (one completion at most) and the completions
    after the first, in order."""
    completed = [c for c in closings if c["state"] != "cancelled"]
    if len(completed) < 2:
        return closings, []
    later = completed[1:]
    return [c for c in closings if c not in later], later


def _closing_params(closings: list[dict[str, Any]]) -> dict[str, Any]:
    """A step completes at most one task and may cancel others (a rejection cancels the
    parallel siblings)."""
    completed = [c for c in closings if c["state"] != "cancelled"]
    if len(completed) > 1:
        raise ValueError("a step completes at most one task")
    done = completed[0] if completed else {"id": None, "state": None, "by": None, "comment": None}
    return {
        "completed_task_id": done["id"],
        "completed_state": done["state"],
        "completed_by": done["by"],
        "completed_comment": done["comment"],
        "cancelled_task_ids": [c["id"] for c in closings if c["state"] == "cancelled"],
    }


def _write_postgresql(conn: Connection, step: StepWrite) -> StepWritten:
    params: dict[str, Any] = {
        "ticket_id": step.ticket_id,
        "at": step.at,
        "values": None if step.values is None else Jsonb(step.values),
        "state": Jsonb(step.state),
        "status": step.status,
        "version": step.version,
        "finished_at": step.finished_at,
        "tasks": Jsonb(step.tasks),
        "assignees": Jsonb(step.assignees),
        "copies": Jsonb(step.copies),
        "events": Jsonb(step.events),
        "job_payload": (
            Jsonb({"ticket_id": step.ticket_id, "notices": step.notices}) if step.notices else None
        ),
        "job_max_attempts": jobs_store.DEFAULT_MAX_ATTEMPTS,
    }
    closings, later = _later_completions(step.closings)
    params.update(_closing_params(closings))
    if step.new_ticket is not None:
        statement = _PG_SUBMIT
        params.update(step.new_ticket)
        if step.numbered:
            year = int(params["serial_year"])
            number = tickets_store.next_serial(conn, params["app_id"], year)
            params["serial_seq"] = f"{number:0{SEQUENCE_DIGITS}d}"
            params["values"] = Jsonb(numbered_values(step, year, number))
            statement = _PG_SUBMIT_NUMBERED
        params["serial_year"] = str(params["serial_year"])
        added = step.search.added if step.search is not None else frozenset()
        params["terms_added"] = sorted(
            added | document_terms([f"{params['serial_prefix']}-{params['serial_year']}"])
        )
    elif step.search is not None:
        statement = _PG_COMPLETE_SEARCH
        params["expected_version"] = step.expected_version
        params["terms_added"] = sorted(step.search.added)
        params["terms_removed"] = sorted(_removable(conn, step))
    else:
        statement = _PG_COMPLETE
        params["expected_version"] = step.expected_version
    written = StepWritten(queued=queue_before_commit(conn, statement, params))
    if later:
        queue_before_commit(
            conn,
            _PG_LATER_COMPLETIONS,
            {
                "at": step.at,
                "ticket_id": step.ticket_id,
                "later": Jsonb(later),
                "later_ids": [c["id"] for c in later],
            },
        )
    if step.requester_id is not None:
        queue_before_commit(
            conn,
            _PG_REQUESTER,
            {"ticket_id": step.ticket_id, "requester_id": step.requester_id},
        )
    if step.outbox:
        queue_before_commit(
            conn,
            _PG_OUTBOX,
            {"at": step.at, "ticket_id": step.ticket_id, "outbox": Jsonb(step.outbox)},
        )
    _write_waits(conn, step)
    attachments_store.link_step(conn, step.ticket_id, step.at, step.attachments)
    queue_before_commit(conn, _PG_AUDIT, audit_store.entry_params(conn, **audit_entry(step)))
    return written
