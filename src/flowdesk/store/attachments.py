"""Attachment records (ADR 0028): inserted after their bytes are stored, linked to what
carries them in the transaction of that action, purged when left unlinked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Row, bindparam, select, update

from flowdesk.store.sql import Sql, is_postgres, queue_before_commit
from flowdesk.store.tables import Attachment, table_of

attachments = table_of(Attachment)

_SUMMARY = (
    attachments.c.id,
    attachments.c.filename,
    attachments.c.content_type,
    attachments.c.size,
)


def insert_attachment(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(attachments.insert().values(**row))


def attachment_by_id(conn: Connection, attachment_id: str) -> Row[Any] | None:
    return conn.execute(select(attachments).where(attachments.c.id == attachment_id)).first()


def by_ids(conn: Connection, ids: Sequence[str]) -> list[Row[Any]]:
    if not ids:
        return []
    return list(conn.execute(select(attachments).where(attachments.c.id.in_(list(ids)))))


def for_ticket(conn: Connection, ticket_id: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(attachments)
            .where(attachments.c.ticket_id == ticket_id)
            .order_by(attachments.c.linked_at, attachments.c.id)
        )
    )


def link(
    conn: Connection,
    ids: Sequence[str],
    *,
    ticket_id: str,
    at: datetime,
    attached_to: str,
    action: str,
    task_id: str | None = None,
    note_id: str | None = None,
    field_key: str | None = None,
) -> int:
    """Links unlinked attachments; the count linked (one linked meanwhile is not)."""
    if not ids:
        return 0
    result = conn.execute(
        update(attachments)
        .where(attachments.c.id.in_(list(ids)), attachments.c.ticket_id.is_(None))
        .values(
            ticket_id=ticket_id,
            linked_at=at,
            attached_to=attached_to,
            action=action,
            task_id=task_id,
            note_id=note_id,
            field_key=field_key,
        )
    )
    return int(result.rowcount)


# A step's links (StepWrite.attachments) on PostgreSQL: a statement of its own, written
# only if this transaction wrote the ticket row, so a step that lost its version check
# links nothing and its retry links them again.
# A link with a `field_key` is a form field's file (ADR 0037), else the action's of `task_id`.
_PG_STEP_LINKS = Sql(
    "UPDATE attachments a SET ticket_id = :ticket_id, linked_at = :at,"
    " attached_to = CASE WHEN r.field_key IS NULL THEN 'task' ELSE 'field' END,"
    " action = r.action, task_id = r.task_id, field_key = r.field_key"
    " FROM jsonb_to_recordset(:links) AS r(id text, task_id text, action text, field_key text)"
    " WHERE a.id = r.id AND a.ticket_id IS NULL"
    " AND EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id"
    " AND xmin = pg_current_xact_id()::xid)"
)

_SQLITE_STEP_LINK = (
    update(attachments)
    .where(attachments.c.id == bindparam("link_id"), attachments.c.ticket_id.is_(None))
    .values(
        ticket_id=bindparam("link_ticket_id"),
        linked_at=bindparam("link_at"),
        attached_to=bindparam("link_attached_to"),
        action=bindparam("link_action"),
        task_id=bindparam("link_task_id"),
        field_key=bindparam("link_field_key"),
    )
)


def link_step(conn: Connection, ticket_id: str, at: datetime, links: list[dict[str, Any]]) -> None:
    """The links of a step that won its version check (SQLite: called after it did)."""
    if not links:
        return
    if is_postgres(conn):
        queue_before_commit(
            conn, _PG_STEP_LINKS, {"ticket_id": ticket_id, "at": at, "links": Jsonb(links)}
        )
        return
    conn.execute(
        _SQLITE_STEP_LINK,
        [
            {
                "link_id": link["id"],
                "link_ticket_id": ticket_id,
                "link_at": at,
                "link_action": link["action"],
                "link_task_id": link.get("task_id"),
                "link_field_key": link.get("field_key"),
                "link_attached_to": "field" if link.get("field_key") else "task",
            }
            for link in links
        ],
    )


def stale_unlinked(conn: Connection, before: datetime, limit: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(attachments.c.id, attachments.c.storage_key)
            .where(attachments.c.ticket_id.is_(None), attachments.c.created_at < before)
            .order_by(attachments.c.created_at)
            .limit(limit)
        )
    )


def delete_unlinked(conn: Connection, ids: Sequence[str]) -> int:
    """Deletes those still unlinked (an action may have linked one since it was read)."""
    if not ids:
        return 0
    result = conn.execute(
        attachments.delete().where(
            attachments.c.id.in_(list(ids)), attachments.c.ticket_id.is_(None)
        )
    )
    return int(result.rowcount)


def summaries(rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """What a timeline entry keeps of each attachment."""
    return [
        {"id": r.id, "filename": r.filename, "content_type": r.content_type, "size": r.size}
        for r in rows
    ]
