"""The one write of an admin repair that a step's write does not make (ADR 0026): moving a
ticket to another version of its app, guarded by the version the step read."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from flowdesk.store.tables import Ticket, table_of

tickets = table_of(Ticket)


def move_to_version(
    conn: Connection, *, ticket_id: str, expected_version: int, app_version_id: str
) -> bool:
    """Points the ticket at `app_version_id` if it is still at `expected_version` (its step,
    written next in the same transaction, then bumps the version); False: it moved on."""
    result = conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket_id, tickets.c.version == expected_version)
        .values(app_version_id=app_version_id)
    )
    return bool(result.rowcount == 1)


def running_ticket_ids(conn: Connection, ticket_ids: list[str]) -> dict[str, tuple[str, str]]:
    """The tickets among `ticket_ids` that exist: id -> (status, app version id)."""
    rows = conn.execute(
        select(tickets.c.id, tickets.c.status, tickets.c.app_version_id).where(
            tickets.c.id.in_(ticket_ids)
        )
    )
    return {str(r.id): (str(r.status), str(r.app_version_id)) for r in rows}
