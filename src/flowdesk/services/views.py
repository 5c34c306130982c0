"""Read models for the ticket page, lists and inboxes, shared by the API and the web UI.

A ticket's title is shown in the viewer's language: "<app name> · <subject>", where the
subject (the first filled text field) is what the `title` column holds and the app's name
comes from the app version the ticket was filed under. Each read takes the viewer's
`locale` ("zh…" is Chinese, anything else English).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.process import Node
from flowdesk.kernel.errors import NotFound, ValidationFailed
from flowdesk.services.context import ServiceContext
from flowdesk.services.registry import PublishedApp
from flowdesk.services.tickets import can_read
from flowdesk.store import apps as apps_store
from flowdesk.store import org as org_store
from flowdesk.store import tickets as tickets_store

MAX_PAGE = 100
T = TypeVar("T")
STATUSES = ("running", "approved", "rejected")


@dataclass(frozen=True)
class Person:
    id: str
    name: str


@dataclass(frozen=True)
class TaskView:
    id: str
    ticket_id: str
    node_id: str
    name: dict[str, str]
    state: str
    assignees: tuple[Person, ...]
    created_at: datetime
    completed_at: datetime | None
    completed_by: Person | None
    comment: str | None
    ticket_title: str = ""  # in the viewer's language (ticket_title below)
    ticket_subject: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    node_id: str | None
    task_id: str | None  # the task an entry is about (opened, approved, values changed…)
    node_name: dict[str, str] | None
    actor: Person | None
    comment: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class TicketView:
    id: str
    app_key: str
    app_name: dict[str, str]
    app_version: int
    title: str  # in the viewer's language
    subject: str
    status: str
    values: dict[str, Any]
    requester: Person
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    tasks: tuple[TaskView, ...]
    timeline: tuple[TimelineEntry, ...]
    form: Any

    @property
    def open_tasks(self) -> tuple[TaskView, ...]:
        return tuple(t for t in self.tasks if t.state == "open")

    def actionable_by(self, actor: Actor) -> tuple[TaskView, ...]:
        return tuple(t for t in self.open_tasks if any(p.id == actor.user_id for p in t.assignees))


@dataclass(frozen=True)
class TicketSummary:
    id: str
    app_key: str
    title: str  # in the viewer's language
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime
    requester_id: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def ticket_title(app_name: Mapping[str, str], subject: str, locale: str) -> str:
    """What people see as a ticket's title: the app's name in their language · the subject."""
    preferred = ("zh", "en") if locale.lower().startswith("zh") else ("en", "zh")
    name = next((app_name[k] for k in preferred if app_name.get(k)), "")
    return f"{name} · {subject}" if name and subject else name or subject


def _app_name(app: PublishedApp) -> dict[str, str]:
    return {"en": app.spec.name.en or app.spec.key, "zh": app.spec.name.zh or app.spec.key}


def _node_name(nodes: Mapping[str, Node], node_id: str | None) -> dict[str, str] | None:
    if node_id is None or node_id not in nodes:
        return None
    return dict(nodes[node_id].name) or {"en": node_id}


def ticket(ctx: ServiceContext, actor: Actor, ticket_id: str, *, locale: str = "en") -> TicketView:
    """Hidden and missing tickets look alike (404), so ids reveal nothing."""
    with ctx.db.read() as conn:
        row = tickets_store.ticket_by_id(conn, ticket_id)
        if row is None or not can_read(actor, conn, row):
            raise NotFound("Ticket not found", "ticket_not_found")
        app = ctx.apps.version(conn, row.app_version_id)
        task_rows = tickets_store.tasks_of_ticket(conn, ticket_id)
        assigned = tickets_store.assignees_of(conn, [t.id for t in task_rows])
        events = tickets_store.timeline(conn, ticket_id)
        people = org_store.display_names(
            conn,
            [
                row.requester_id,
                *(u for users in assigned.values() for u in users),
                *(t.completed_by for t in task_rows if t.completed_by),
                *(e.actor_id for e in events if e.actor_id),
            ],
        )
    nodes = app.spec.process.nodes

    def person(user_id: str | None) -> Person | None:
        return Person(user_id, people.get(user_id, user_id)) if user_id else None

    tasks = tuple(
        TaskView(
            t.id,
            ticket_id,
            t.node_id,
            {"en": t.name_en, "zh": t.name_zh},
            t.state,
            tuple(Person(u, people.get(u, u)) for u in assigned[t.id]),
            t.created_at,
            t.completed_at,
            person(t.completed_by),
            t.comment,
        )
        for t in task_rows
    )
    timeline = tuple(
        TimelineEntry(
            e.at,
            e.kind,
            e.node_id,
            e.task_id,
            _node_name(nodes, e.node_id),
            person(e.actor_id),
            e.comment,
            e.data,
        )
        for e in events
    )
    requester = person(row.requester_id)
    assert requester is not None
    app_name = _app_name(app)
    return TicketView(
        row.id,
        app.spec.key,
        app_name,
        app.version,
        ticket_title(app_name, row.title, locale),
        row.title,
        row.status,
        dict(row.values),
        requester,
        row.created_at,
        row.updated_at,
        row.finished_at,
        tasks,
        timeline,
        app.spec.form,
    )


def tickets(
    ctx: ServiceContext,
    actor: Actor,
    *,
    app_key: str | None = None,
    status: str | None = None,
    mine: bool = False,
    cursor: str | None = None,
    limit: int = 50,
    locale: str = "en",
) -> Page[TicketSummary]:
    """Tickets the actor may see, newest first; admins and auditors see all."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed("Unknown status", code="invalid_status")
    limit = max(1, min(limit, MAX_PAGE))
    with ctx.db.read() as conn:
        app_id = None
        if app_key is not None:
            app = apps_store.app_by_key(conn, app_key)
            if app is None:
                return Page([], None)
            app_id = app.id
        sees_all = actor.is_admin or "auditor" in actor.roles
        rows = tickets_store.list_tickets(
            conn,
            app_id=app_id,
            status=status,
            requester_id=actor.user_id if mine else None,
            visible_to=None if sees_all or mine else actor.user_id,
            limit=limit + 1,
            before_id=cursor,
        )
        keys = {a.id: a.key for a in apps_store.list_apps(conn)}
        names = app_names(ctx, conn, {r.app_version_id for r in rows[:limit]})
    items = [
        TicketSummary(
            r.id,
            keys.get(r.app_id, ""),
            ticket_title(names[r.app_version_id], r.title, locale),
            r.title,
            r.status,
            r.created_at,
            r.updated_at,
            r.requester_id,
        )
        for r in rows[:limit]
    ]
    return Page(items, items[-1].id if len(rows) > limit else None)


def my_tasks(
    ctx: ServiceContext,
    actor: Actor,
    *,
    cursor: str | None = None,
    limit: int = 50,
    locale: str = "en",
) -> Page[TaskView]:
    limit = max(1, min(limit, MAX_PAGE))
    with ctx.db.read() as conn:
        rows = tickets_store.open_tasks_for_user(
            conn, actor.user_id, limit=limit + 1, before_id=cursor
        )
        names = app_names(ctx, conn, {r.app_version_id for r in rows[:limit]})
    me = Person(actor.user_id, actor.display_name)
    items = [
        TaskView(
            r.id,
            r.ticket_id,
            r.node_id,
            {"en": r.name_en, "zh": r.name_zh},
            r.state,
            (me,),
            r.created_at,
            None,
            None,
            None,
            ticket_title(names[r.app_version_id], r.title, locale),
            r.title,
        )
        for r in rows[:limit]
    ]
    return Page(items, items[-1].id if len(rows) > limit else None)


def app_names(
    ctx: ServiceContext, conn: Connection, version_ids: Iterable[str]
) -> dict[str, dict[str, str]]:
    """{app version id: {"en": name, "zh": name}}; versions are parsed once per process."""
    return {v: _app_name(ctx.apps.version(conn, v)) for v in set(version_ids)}


def count_my_tasks(ctx: ServiceContext, actor: Actor) -> int:
    with ctx.db.read() as conn:
        return tickets_store.count_open_tasks(conn, actor.user_id)
