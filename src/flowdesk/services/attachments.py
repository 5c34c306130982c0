"""Attachments (ADR 0028): upload, link to the action that carries them, download.

An upload is read in chunks into a spooled temporary file (bounded memory; the size
limit is enforced while reading), checked by `engines.files`, stored in the blob store,
and only then recorded, with its audit entry, in one transaction; a refused or failed
upload leaves neither a row nor a file. An unlinked upload is its uploader's alone;
once an action links it, whoever may read the ticket may download it. Uploads left
unlinked for a day are purged by the worker's housekeeping.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import quote

from sqlalchemy import Connection, Row

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.engines.files import AttachmentRefused, check_file
from flowdesk.kernel.errors import (
    ConfigurationError,
    ErrorDetail,
    NotFound,
    ValidationFailed,
)
from flowdesk.kernel.ids import new_id
from flowdesk.services import field_visibility
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.services.context import ServiceContext
from flowdesk.store import attachments as attachments_store
from flowdesk.store import audit as audit_store
from flowdesk.store import copies as copies_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.steps import StepWrite

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # beyond this an upload is spooled to a temporary file
PURGE_BATCH = 200
# The events of the action that carries a step's attachments: the actor's own.
_ACTION_EVENTS = frozenset({"task_approved", "task_rejected", "task_returned"})
_HELD = "task_approval_held"  # 并加签: an approval held until the added signers decide


@dataclass(frozen=True)
class AttachmentView:
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    uploaded_by: str
    ticket_id: str | None
    attached_to: str | None
    action: str | None
    task_id: str | None
    note_id: str | None
    field_key: str | None = None  # attached_to "field": the form field holding it

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
        }


class AttachmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Attachment not found", "attachment_not_found")


def storage(ctx: ServiceContext) -> AttachmentStorage:
    if ctx.attachments is None:
        raise ConfigurationError(
            "Attachments have no storage configured", "attachment_storage_missing"
        )
    return ctx.attachments


def _view(row: Row[Any]) -> AttachmentView:
    return AttachmentView(
        row.id,
        row.filename,
        row.content_type,
        row.size,
        row.sha256,
        row.created_at,
        row.uploaded_by,
        row.ticket_id,
        row.attached_to,
        row.action,
        row.task_id,
        row.note_id,
        row.field_key,
    )


def upload(
    ctx: ServiceContext, *, actor: Actor, filename: str, source: BinaryIO, locale: str = "en"
) -> AttachmentView:
    """Reads `source` to its end (at most the policy's size: 413 beyond), checks it (422
    with the checker's code) and stores it unlinked. Nothing stays behind on a refusal."""
    store = storage(ctx)
    policy = store.policy
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        while chunk := source.read(READ_CHUNK):
            size += len(chunk)
            if size > policy.max_bytes:
                raise AttachmentRefused("too_large", locale, policy.max_bytes)
            digest.update(chunk)
            spool.write(chunk)
        checked = check_file(filename, spool, size, policy, locale)  # type: ignore[arg-type]
        key = secrets.token_urlsafe(24)
        store.blobs.put(key, spool, size)  # type: ignore[arg-type]
    now = ctx.clock.now()
    attachment_id = new_id()
    sha256 = digest.hexdigest()
    row: dict[str, Any] = {
        "id": attachment_id,
        "ticket_id": None,
        "uploaded_by": actor.user_id,
        "filename": checked.display_name,
        "content_type": checked.content_type,
        "size": size,
        "sha256": sha256,
        "storage_key": key,
        "created_at": now,
    }
    try:
        with ctx.db.write() as conn:
            attachments_store.insert_attachment(conn, row)
            audit_store.append(
                conn,
                at=now,
                actor=actor.username,
                action="attachment.upload",
                target_type="attachment",
                target_id=row["id"],
                details={
                    "filename": row["filename"],
                    "content_type": row["content_type"],
                    "size": size,
                    "sha256": row["sha256"],
                },
            )
    except BaseException:
        store.blobs.delete(key)  # the row was not written: neither is the file kept
        raise
    return AttachmentView(
        attachment_id,
        checked.display_name,
        checked.content_type,
        size,
        sha256,
        now,
        actor.user_id,
        None,
        None,
        None,
        None,
        None,
    )


def _may_read_ticket(conn: Connection, actor: Actor, ticket_id: str) -> bool:
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    if ticket is None:
        return False
    participants = tickets_store.participant_ids(conn, ticket_id)
    if actor.user_id in copies_store.copied_user_ids(conn, ticket_id):
        participants = participants | {actor.user_id}  # 抄送: a copied reader
    facts = ResourceFacts(requester_id=ticket.requester_id, participant_ids=participants)
    return bool(decide(actor, "ticket.read", facts))


def readable(conn: Connection, actor: Actor, attachment_id: str) -> AttachmentView:
    """The attachment if `actor` may read it, else AttachmentNotFound (404, so that an id
    reveals nothing): unlinked, its uploader only; linked, whoever may read the ticket."""
    row = attachments_store.attachment_by_id(conn, attachment_id)
    if row is None:
        raise AttachmentNotFound()
    if row.ticket_id is None:
        if row.uploaded_by != actor.user_id:
            raise AttachmentNotFound()
    elif not _may_read_ticket(conn, actor, row.ticket_id):
        raise AttachmentNotFound()
    return _view(row)


def download(
    ctx: ServiceContext, *, actor: Actor, attachment_id: str
) -> tuple[AttachmentView, Iterator[bytes]]:
    """The attachment and its bytes in chunks, permission-checked as `readable` says."""
    with ctx.db.read() as conn:
        view = readable(conn, actor, attachment_id)
        row = attachments_store.attachment_by_id(conn, attachment_id)
        if view.field_key is not None and view.ticket_id is not None:
            _check_field_visible(ctx, conn, actor, view.ticket_id, view.field_key)
    assert row is not None
    return view, storage(ctx).blobs.chunks(row.storage_key)


def _check_field_visible(
    ctx: ServiceContext, conn: Connection, actor: Actor, ticket_id: str, field_key: str
) -> None:
    """A file of a form field the reader's steps hide (ADR 0037) looks like none (404)."""
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    if ticket is None:
        raise AttachmentNotFound()
    app = ctx.apps.version(conn, ticket.app_version_id)
    held = tickets_store.nodes_held_by(conn, ticket_id, actor.user_id)
    hidden = field_visibility.hidden_for(actor, app.spec.process, ticket.requester_id, held)
    if field_key in hidden:
        raise AttachmentNotFound()


def for_ticket(conn: Connection, ticket_id: str) -> list[AttachmentView]:
    """The ticket's attachments, in the order they were linked (the caller has checked
    that the reader may read the ticket)."""
    return [_view(row) for row in attachments_store.for_ticket(conn, ticket_id)]


def unlinked_of(
    ctx: ServiceContext, conn: Connection, actor: Actor, ids: Sequence[str], locale: str = "en"
) -> list[dict[str, Any]]:
    """The summaries of attachments an action of `actor` may carry: their own uploads, not
    yet linked to anything. Otherwise 422 `attachment_not_usable` naming each bad one (one
    that is someone else's looks like one that does not exist)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    limit = storage(ctx).max_per_action
    zh = locale.lower().startswith("zh")
    if len(wanted) > limit:
        text = f"一次操作最多 {limit} 个附件" if zh else f"At most {limit} attachments per action"
        raise ValidationFailed(
            text, [ErrorDetail("attachments", "too_many", text)], code="attachments_too_many"
        )
    rows = {row.id: row for row in attachments_store.by_ids(conn, wanted)}
    errors = []
    for index, attachment_id in enumerate(wanted):
        row = rows.get(attachment_id)
        if row is None or row.uploaded_by != actor.user_id:
            text = "附件不存在" if zh else "No such attachment of yours"
            errors.append(ErrorDetail(f"attachments[{index}]", "not_found", text))
        elif row.ticket_id is not None:
            text = "该附件已用于另一项操作" if zh else "The attachment is already attached"
            errors.append(ErrorDetail(f"attachments[{index}]", "already_linked", text))
    if errors:
        text = "附件无法使用" if zh else "Some attachments cannot be used"
        raise ValidationFailed(text, errors, code="attachment_not_usable")
    return attachments_store.summaries([rows[i] for i in wanted])


def attach_to_step(
    write: StepWrite, *, actor_id: str, task_id: str, action: str, carried: list[dict[str, Any]]
) -> None:
    """Adds the attachments to a step's write: linked with it, listed in the timeline
    event of the actor's own action and in its audit entry."""
    if not carried:
        return
    write.attachments = [{"id": a["id"], "task_id": task_id, "action": action} for a in carried]
    for event in write.events:
        if (
            event.get("task_id") == task_id
            and event.get("actor_id") == actor_id
            and (event["kind"] in _ACTION_EVENTS or event["kind"] == _HELD)
        ):
            event["data"] = {**(event.get("data") or {}), "attachments": carried}
            break
    write.audit.details["attachments"] = [a["id"] for a in carried]


def link_to_note(
    conn: Connection,
    *,
    ticket_id: str,
    note_id: str,
    at: datetime,
    carried: list[dict[str, Any]],
) -> None:
    attachments_store.link(
        conn,
        [a["id"] for a in carried],
        ticket_id=ticket_id,
        at=at,
        attached_to="note",
        action="comment",
        note_id=note_id,
    )


def link_to_field(
    conn: Connection,
    *,
    ticket_id: str,
    field_key: str,
    at: datetime,
    carried: list[dict[str, Any]],
    action: str = "submit",
) -> None:
    """Links the files an attachment form field holds (ids checked with `unlinked_of` in
    the same transaction), for the field type to call when the ticket's values are
    written; the field's value keeps the ids, the rows say which field holds them."""
    attachments_store.link(
        conn,
        [a["id"] for a in carried],
        ticket_id=ticket_id,
        at=at,
        attached_to="field",
        action=action,
        field_key=field_key,
    )


def purge_unlinked(ctx: ServiceContext) -> int:
    """Deletes uploads nobody linked within `unlinked_for`: the rows (audited) first, then
    their files, so a crash in between leaves a file without a row, never the reverse."""
    store = ctx.attachments
    if store is None:
        return 0
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        stale = attachments_store.stale_unlinked(conn, now - store.unlinked_for, PURGE_BATCH)
        # One by one: an action may have linked one since it was read, and its file stays.
        purged = [row for row in stale if attachments_store.delete_unlinked(conn, [row.id])]
        ids = [row.id for row in purged]
        gone = len(ids)
        if gone:
            audit_store.append(
                conn,
                at=now,
                actor="system",
                action="attachment.purge",
                target_type="attachment",
                target_id=ids[0],
                details={"attachments": ids, "count": gone},
            )
    for row in purged:
        try:
            store.blobs.delete(row.storage_key)
        except Exception as error:  # a file left over is harmless: no row points at it
            log.warning("attachment file %s not deleted: %s", row.id, type(error).__name__)
    return gone


PURGE_EVERY_KEY = "attachment_purge"


def purge_unlinked_when_due(ctx: ServiceContext) -> int:
    """`purge_unlinked` at most hourly per process (sooner while a batch was full)."""
    now = ctx.clock.now()
    due = ctx.housekeeping_due.get(PURGE_EVERY_KEY)
    if due is not None and now < due:
        return 0
    gone = purge_unlinked(ctx)
    ctx.housekeeping_due[PURGE_EVERY_KEY] = now if gone >= PURGE_BATCH else now + timedelta(hours=1)
    return gone


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real one as RFC 5987 `filename*`,
    so Chinese names download intact and no quote or line break reaches the header."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'attachment'}\"; filename*=UTF-8''{encoded}"


# Headers every download carries: the browser neither guesses the type nor runs it.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}
