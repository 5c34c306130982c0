"""抄送 (CC) on a ticket: ad-hoc copies, and the 抄送我 list of the people copied.

An ad-hoc copy is made by a holder of one of the ticket's open tasks or by its applicant,
naming people by username, with an optional note. It changes no process state, so it is
written beside the steps like a comment (ADR 0017): the note, the copies, the queued
notifications and the audit entry commit together, and the ticket's version is left
alone. CC nodes' copies are written with the step that passed the node (store/steps.py).
A copied person may read the ticket and has no action on it; nothing that moves the
ticket (a reject, return or withdraw) removes a copy (APPROVALS.md edge case 37).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import clean_comment
from flowdesk.kernel.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from flowdesk.kernel.ids import new_id
from flowdesk.services import views
from flowdesk.services.context import ServiceContext
from flowdesk.services.list_query import encode_cursor, parse_list_query
from flowdesk.services.ticket_actions import MAX_COMMENT, _notify, _readable_ticket
from flowdesk.store import audit as audit_store
from flowdesk.store import copies as copies_store
from flowdesk.store import org as org_store
from flowdesk.store import ticket_notes as notes_store

MAX_COPIES = 20  # people one ad-hoc copy may name
COPY_NOTICE = "ticket_copied"
_LIST_PARAMS = frozenset({"cursor", "limit", "unread"})


@dataclass(frozen=True)
class Copied:
    ticket_id: str
    note_id: str
    at: datetime
    user_ids: tuple[str, ...]  # in the order named
    names: tuple[str, ...]  # their display names, as `user_ids`
    note: str


@dataclass(frozen=True)
class CopyView:
    """One row of 抄送我: a ticket the viewer was copied on."""

    ticket_id: str
    serial: str
    title: str  # in the viewer's language
    status: str
    at: datetime
    read: bool
    copied_by: views.Person | None  # None: a CC node of the process
    node_id: str | None
    node_name: Mapping[str, str] | None


def _usernames(raw: Sequence[object]) -> list[str]:
    if not raw:
        raise ValidationFailed(
            "Name at least one person to copy",
            [ErrorDetail("users", "required", "Name at least one person to copy")],
            code="copy_users_required",
        )
    if len(raw) > MAX_COPIES:
        raise ValidationFailed(
            f"At most {MAX_COPIES} people per copy",
            [ErrorDetail("users", "too_many_users", f"At most {MAX_COPIES} people per copy")],
            code="too_many_copies",
        )
    names: list[str] = []
    errors: list[ErrorDetail] = []
    for i, value in enumerate(raw):
        name = value.strip() if isinstance(value, str) else ""
        if not name:
            errors.append(ErrorDetail(f"users[{i}]", "wrong_type", "A username is needed"))
        elif name in names:
            errors.append(ErrorDetail(f"users[{i}]", "duplicate", f"'{name}' is named twice"))
        names.append(name)
    if errors:
        raise ValidationFailed(
            "Each person is named once, by username", errors, code=errors[0].code
        )
    return names


def copy_ticket(
    ctx: ServiceContext,
    *,
    actor: Actor,
    ticket_id: str,
    usernames: Sequence[object],
    note: str = "",
    locale: str = "en",
) -> Copied:
    """Copies the named active users on the ticket (抄送), each notified.

    404 for a ticket the actor cannot see; 403 `copy_not_allowed` unless they hold one of
    its open tasks or filed it; 422 for an empty list, more than MAX_COPIES, a name given
    twice, an unknown or inactive user (`unknown_user`) or oneself (`copy_self`); 409
    `already_copied` for someone already copied on the ticket.
    """
    names = _usernames(usernames)
    text = clean_comment(note, max_length=MAX_COMMENT, locale=locale)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = _readable_ticket(conn, actor, ticket_id)
        holders = {user for _, user in notes_store.pending_holders(conn, ticket_id)}
        if actor.user_id != row.requester_id and actor.user_id not in holders:
            raise Forbidden(
                "Only the ticket's applicant or a holder of its open task may copy people on it",
                "copy_not_allowed",
            )
        found = copies_store.active_users_by_username(conn, names)
        unknown = [
            ErrorDetail(f"users[{i}]", "unknown_user", f"No active user is called '{name}'")
            for i, name in enumerate(names)
            if name not in found
        ]
        if unknown:
            raise ValidationFailed("Unknown or inactive user", unknown, code="unknown_user")
        user_ids = tuple(found[name] for name in names)
        if actor.user_id in user_ids:
            i = user_ids.index(actor.user_id)
            raise ValidationFailed(
                "One does not copy oneself",
                [ErrorDetail(f"users[{i}]", "copy_self", "One does not copy oneself")],
                code="copy_self",
            )
        already = copies_store.copied_user_ids(conn, ticket_id)
        again = [name for name, user in zip(names, user_ids, strict=True) if user in already]
        if again:
            raise Conflict(f"Already copied on this ticket: {', '.join(again)}", "already_copied")
        note_id = new_id()
        data = {"users": list(user_ids)}
        notes_store.insert_note(
            conn,
            note_id=note_id,
            ticket_id=ticket_id,
            at=now,
            kind="copy",
            actor_id=actor.user_id,
            comment=text or None,
            data=data,
        )
        copies_store.insert_copies(
            conn,
            [
                {
                    "ticket_id": ticket_id,
                    "user_id": user,
                    "by_id": actor.user_id,
                    "note_id": note_id,
                    "at": now,
                }
                for user in user_ids
            ],
        )
        _notify(
            conn,
            ticket_id,
            now,
            [
                {"user_id": user, "kind": COPY_NOTICE, "task_id": None, "note_id": note_id}
                for user in user_ids
            ],
        )
        display = org_store.display_names(conn, user_ids)
        audit_store.append(
            conn,
            at=now,
            actor=actor.username,
            action="ticket.copy",
            target_type="ticket",
            target_id=ticket_id,
            details={"serial": row.serial, "note": note_id, "users": names, "comment": text},
        )
    return Copied(
        ticket_id, note_id, now, user_ids, tuple(display.get(u, u) for u in user_ids), text
    )


def mark_read(ctx: ServiceContext, actor: Actor, ticket_id: str) -> bool:
    """The actor opened the ticket: their copy of it (if any) is read from now on."""
    with ctx.db.write() as conn:
        return copies_store.mark_read(conn, ticket_id, actor.user_id, ctx.clock.now()) > 0


def count_unread(ctx: ServiceContext, actor: Actor) -> int:
    with ctx.db.read() as conn:
        return copies_store.count_unread(conn, actor.user_id)


def copied_list(
    ctx: ServiceContext,
    actor: Actor,
    params: Mapping[str, str],
    *,
    locale: str = "en",
) -> views.Page[CopyView]:
    """抄送我: the tickets the actor was copied on, newest copy first, `limit` (1..100,
    20 by default) a page; `unread=true` only those not opened since; `cursor` pages on.
    Unknown parameters and foreign cursors are a 422, as on every list."""
    errors = [
        ErrorDetail(name, "unknown_parameter", f"Unknown parameter '{name}'")
        for name in params
        if name not in _LIST_PARAMS
    ]
    unread = params.get("unread", "")
    if unread not in ("", "true", "false"):
        errors.append(ErrorDetail("unread", "invalid_unread", "One of: true, false"))
    if errors:
        raise ValidationFailed("The list's parameters are invalid", errors, code="invalid_query")
    query = parse_list_query(
        {k: v for k, v in params.items() if k in ("cursor", "limit")}, default_limit=20
    )
    after = None
    if query.after is not None:
        try:
            after = (datetime.fromisoformat(query.after[0]), query.after[1])
        except ValueError:
            raise ValidationFailed(
                "This cursor is not one this list gave",
                [ErrorDetail("cursor", "invalid_cursor", "This cursor is not one this list gave")],
                code="invalid_query",
            ) from None
    with ctx.db.read() as conn:
        rows = copies_store.for_user(
            conn, actor.user_id, limit=query.limit + 1, after=after, unread_only=unread == "true"
        )
        more, rows = len(rows) > query.limit, rows[: query.limit]
        app_names = views.app_names(ctx, conn, {r.app_version_id for r in rows})
        apps = {v: ctx.apps.version(conn, v) for v in {r.app_version_id for r in rows}}
        people = org_store.display_names(conn, [r.by_id for r in rows if r.by_id])
    items = []
    for r in rows:
        nodes = apps[r.app_version_id].spec.process.nodes
        node = nodes.get(r.node_id) if r.node_id else None
        items.append(
            CopyView(
                r.ticket_id,
                r.serial,
                views.ticket_title(app_names[r.app_version_id], r.title, locale),
                r.status,
                r.at,
                r.read_at is not None,
                views.Person(r.by_id, people.get(r.by_id, r.by_id)) if r.by_id else None,
                r.node_id,
                (dict(node.name) or {"en": node.id}) if node is not None else None,
            )
        )
    cursor = None
    if more and items:
        last = items[-1]
        cursor = encode_cursor(query, last.at.isoformat(), last.ticket_id)
    return views.Page(items, cursor)
