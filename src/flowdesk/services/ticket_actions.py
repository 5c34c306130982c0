"""What people do to a ticket without moving it: 催办 (urge) and a comment (ADR 0017).

Each call is one transaction: the note, the queued notifications and the audit entry
commit together or not at all. None of them touches the ticket row or its version, so
an approval running at the same moment never fails or retries because of a note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.process import load_state
from flowdesk.engines.process.add_sign import waiting
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, TooManyAttempts
from flowdesk.kernel.ids import new_id
from flowdesk.services import attachments as attachments_service
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import jobs as jobs_store
from flowdesk.store import org as org_store
from flowdesk.store import ticket_notes as notes_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import read_document

MAX_COMMENT = 2000  # as an approver's comment (services/tickets.py)
URGE_NOTICE = "ticket_urged"
COMMENT_NOTICE = "ticket_commented"


class UrgedTooSoon(TooManyAttempts):
    """429 with Retry-After: the ticket was urged less than the interval ago."""

    def __init__(self, again_at: datetime, retry_after_seconds: int, locale: str) -> None:
        super().__init__(retry_after_seconds)
        self.code = "urged_too_soon"
        self.again_at = again_at
        self.message = _too_soon_message(again_at, retry_after_seconds, locale)


@dataclass(frozen=True)
class Urged:
    ticket_id: str
    note_id: str
    at: datetime
    user_ids: tuple[str, ...]  # the holders notified, in the order their tasks opened
    task_ids: tuple[str, ...]
    next_urge_at: datetime
    names: tuple[str, ...] = ()  # the holders' display names, as `user_ids`


@dataclass(frozen=True)
class Commented:
    ticket_id: str
    note_id: str
    at: datetime
    comment: str
    notified: tuple[str, ...]
    # id, filename, content_type, size of each file the comment carries (ADR 0028)
    attachments: tuple[dict[str, Any], ...] = ()


def urge(ctx: ServiceContext, *, actor: Actor, ticket_id: str, locale: str = "en") -> Urged:
    """Notifies the holders of the ticket's open tasks, at most once per `urge_interval`.

    404 for a ticket the actor cannot see, 403 unless they are its requester or an
    administrator, 409 `ticket_not_running` once it has finished, 429 `urged_too_soon`
    (Retry-After) while the last urge is recent, whoever made it.
    """
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = _readable_ticket(conn, actor, ticket_id)
        if not decide(actor, "ticket.urge", ResourceFacts(requester_id=row.requester_id)):
            raise Forbidden(
                "Only the ticket's requester or an administrator may urge it", "urge_not_allowed"
            )
        if row.status != "running":
            raise Conflict("The ticket has finished: there is no one to urge", "ticket_not_running")
        # One does not urge oneself (a ticket returned to its applicant waits on them), nor
        # the holder of a task that waits: behind added signers (加签) or delegated (委派),
        # its signers' or delegate's tasks are the ones pending (APPROVALS.md edge case 36).
        held = _waiting_task_ids(row.state)
        holders = [
            (task, user)
            for task, user in notes_store.pending_holders(conn, ticket_id)
            if user != actor.user_id and task not in held
        ]
        if not holders:
            raise Conflict("No one else holds an open task of this ticket now", "nothing_to_urge")
        # Claimed before anything else is written: a concurrent urge waits here for our
        # COMMIT (PostgreSQL) or our turn as the writer (SQLite), then finds the window taken.
        if not notes_store.claim_urge_window(conn, ticket_id, now, ctx.urge_interval):
            last = notes_store.last_urged_at(conn, ticket_id) or now
            again_at = last + ctx.urge_interval
            seconds = max(1, math.ceil((again_at - now).total_seconds()))
            raise UrgedTooSoon(again_at, seconds, locale)
        user_ids = tuple(dict.fromkeys(user for _, user in holders))
        task_ids = tuple(dict.fromkeys(task for task, _ in holders))
        note_id = new_id()
        data = {"users": list(user_ids), "tasks": list(task_ids)}
        notes_store.insert_note(
            conn,
            note_id=note_id,
            ticket_id=ticket_id,
            at=now,
            kind="urge",
            actor_id=actor.user_id,
            data=data,
        )
        _notify(
            conn,
            ticket_id,
            now,
            [
                {"user_id": user, "kind": URGE_NOTICE, "task_id": task, "note_id": note_id}
                for task, user in holders
            ],
        )
        names = org_store.display_names(conn, user_ids)
        audit_store.append(
            conn,
            at=now,
            actor=actor.username,
            action="ticket.urge",
            target_type="ticket",
            target_id=ticket_id,
            details={"serial": row.serial, "note": note_id, **data},
        )
    return Urged(
        ticket_id,
        note_id,
        now,
        user_ids,
        task_ids,
        now + ctx.urge_interval,
        tuple(names.get(user, user) for user in user_ids),
    )


def add_comment(
    ctx: ServiceContext,
    *,
    actor: Actor,
    ticket_id: str,
    comment: str,
    locale: str = "en",
    attachments: Sequence[str] = (),
) -> Commented:
    """A comment without a decision, by anyone who may read the ticket, finished or not.

    The text follows an approval comment's rules (at most MAX_COMMENT characters, no
    control characters) and must say something (422 `comment_required` otherwise). The
    requester and the holders of the open tasks are notified, never the author.
    `attachments` (the author's own unlinked uploads, ADR 0028) are linked to the note
    and listed with it in the timeline.
    """
    text = clean_comment(comment, max_length=MAX_COMMENT, locale=locale, required=True)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = _readable_ticket(conn, actor, ticket_id)
        carried = attachments_service.unlinked_of(ctx, conn, actor, attachments, locale)
        holders = notes_store.pending_holders(conn, ticket_id)
        note_id = new_id()
        notes_store.insert_note(
            conn,
            note_id=note_id,
            ticket_id=ticket_id,
            at=now,
            kind="comment",
            actor_id=actor.user_id,
            comment=text,
            data={"attachments": carried} if carried else None,
        )
        attachments_service.link_to_note(
            conn, ticket_id=ticket_id, note_id=note_id, at=now, carried=carried
        )
        recipients = [(None, row.requester_id), *holders]
        notices: list[dict[str, object]] = []
        seen: set[str] = {actor.user_id}
        for task_id, user_id in recipients:
            if user_id in seen:
                continue
            seen.add(user_id)
            notices.append(
                {"user_id": user_id, "kind": COMMENT_NOTICE, "task_id": task_id, "note_id": note_id}
            )
        _notify(conn, ticket_id, now, notices)
        audit_store.append(
            conn,
            at=now,
            actor=actor.username,
            action="ticket.comment",
            target_type="ticket",
            target_id=ticket_id,
            details={
                "serial": row.serial,
                "note": note_id,
                "comment": text,
                **({"attachments": [a["id"] for a in carried]} if carried else {}),
            },
        )
    notified = tuple(str(n["user_id"]) for n in notices)
    return Commented(ticket_id, note_id, now, text, notified, tuple(carried))


def _waiting_task_ids(document: Any) -> frozenset[str]:
    """The open tasks of a ticket's state that wait on others (nobody may act on them)."""
    data = read_document(document)
    if not isinstance(data, dict) or "signs" not in data:
        return frozenset()
    state = load_state(data)
    return frozenset(task_id for task_id in state.signs if waiting(state, task_id))


def _readable_ticket(conn: Connection, actor: Actor, ticket_id: str) -> Any:
    row = tickets_store.ticket_by_id(conn, ticket_id)
    facts = None
    if row is not None:
        facts = ResourceFacts(
            requester_id=row.requester_id,
            participant_ids=tickets_store.participant_ids(conn, ticket_id),
        )
    if row is None or not decide(actor, "ticket.read", facts):
        # A ticket the actor cannot see looks missing: ids reveal nothing.
        raise NotFound("Ticket not found", "ticket_not_found")
    return row


def _notify(
    conn: Connection, ticket_id: str, now: datetime, notices: list[dict[str, object]]
) -> None:
    """Queues the notices as the steps do: the 'notify' job writes them after COMMIT, so a
    rolled-back note leaves no notification behind."""
    if notices:
        jobs_store.enqueue(
            conn,
            kind="notify",
            payload={"ticket_id": ticket_id, "notices": notices},
            due_at=now,
            now=now,
        )


def _too_soon_message(again_at: datetime, seconds: int, locale: str) -> str:
    when = again_at.strftime("%Y-%m-%d %H:%M UTC")
    hours, minutes = divmod(math.ceil(seconds / 60), 60)
    if locale.lower().startswith("zh"):
        wait = f"{hours} 小时 {minutes} 分钟" if hours else f"{minutes} 分钟"
        return f"该工单刚催办过，{when}（{wait}后）可再次催办"
    wait = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"This ticket was urged recently; it can be urged again at {when} (in {wait})"
