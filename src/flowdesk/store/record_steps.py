"""Writing many new records at once: an import into a record app (ADR 0038).

Each record is the same StepWrite a single create writes (the ticket row with its
serial, its search terms, one timeline row, one audit entry); a batch of them is written
with one executemany per table and one move of the audit head on SQLite, where one
writer holds the database anyway. A new record has no tasks, jobs, waits or copies, so
nothing else is written. On PostgreSQL each record goes through `write_step` (one
statement per record, the audit appended in SQL as every step's is).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import format_serial
from flowdesk.store import audit as audit_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import is_postgres
from flowdesk.store.steps import StepWrite, audit_entry, numbered_values, write_step


def write_new_records(conn: Connection, writes: Sequence[StepWrite]) -> None:
    """Writes the new records in the caller's transaction, numbered in order."""
    if is_postgres(conn):
        for write in writes:
            write_step(conn, write)
        return
    tickets: list[dict[str, Any]] = []
    terms: list[dict[str, str]] = []
    timeline: list[dict[str, Any]] = []
    for (app_id, prefix, year), group in _by_sequence(writes).items():
        first = tickets_store.reserve_serials(conn, app_id, year, len(group))
        for number, write in enumerate(group, first):
            assert write.new_ticket is not None and not write.tasks
            serial = format_serial(prefix, year, number)
            row = dict(write.new_ticket)
            del row["serial_prefix"], row["serial_year"]
            tickets.append(
                {
                    **row,
                    "id": write.ticket_id,
                    "serial": serial,
                    "values": numbered_values(write, year, number, serial),
                    "state": write.state,
                    "status": write.status,
                    "version": 1,
                    "created_at": write.at,
                    "updated_at": write.at,
                    "finished_at": write.finished_at,
                }
            )
            added = write.search.added if write.search is not None else document_terms([serial])
            terms.extend({"term": term, "ticket_id": write.ticket_id} for term in sorted(added))
            timeline.append(
                {"ticket_id": write.ticket_id, "version": 1, "at": write.at, "events": write.events}
            )
    tickets_store.insert_tickets(conn, tickets)
    tickets_store.insert_many_terms(conn, terms)
    tickets_store.insert_steps(conn, timeline)
    audit_store.append_many_sqlite(conn, [audit_entry(write) for write in writes])


def _by_sequence(writes: Sequence[StepWrite]) -> dict[tuple[str, str, int], list[StepWrite]]:
    """The writes by the serial sequence they number from (app, prefix, year), in order."""
    groups: dict[tuple[str, str, int], list[StepWrite]] = {}
    for write in writes:
        ticket = write.new_ticket
        assert ticket is not None
        key = (ticket["app_id"], ticket["serial_prefix"], int(ticket["serial_year"]))
        groups.setdefault(key, []).append(write)
    return groups
