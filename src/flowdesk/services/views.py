"""Read models for the ticket page, lists and inboxes, shared by the API and the web UI.

A ticket's title is shown in the viewer's language: "<app name> · <subject>", where the
subject (the first filled text field) is what the `title` column holds and the app's name
comes from the app version the ticket was filed under. Each read takes the viewer's
`locale` ("zh…" is Chinese, anything else English).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import InvalidOperation
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Connection, Row

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.engines.forms import display_value, masked_value, masked_values
from flowdesk.engines.process import Node, load_state
from flowdesk.engines.process.add_sign import waiting
from flowdesk.engines.process.delegate_task import delegations
from flowdesk.engines.process.revoke import REVOKE_NAMES, REVOKE_NODE
from flowdesk.kernel.errors import ErrorDetail, Forbidden, NotFound, ValidationFailed
from flowdesk.services import attachments as attachments_service
from flowdesk.services import field_visibility, link_values
from flowdesk.services.attachments import AttachmentView
from flowdesk.services.context import ServiceContext
from flowdesk.services.link_values import LinkedRecord
from flowdesk.services.list_query import ListQuery, Sort, encode_cursor, parse_list_query
from flowdesk.services.record_access import record_facts
from flowdesk.services.registry import PublishedApp
from flowdesk.services.tickets import can_read
from flowdesk.services.timers import PendingTimer
from flowdesk.services.timers import pending as pending_timers
from flowdesk.store import apps as apps_store
from flowdesk.store import audit as audit_store
from flowdesk.store import calls as calls_store
from flowdesk.store import copies as copies_store
from flowdesk.store import lists as lists_store
from flowdesk.store import org as org_store
from flowdesk.store import ticket_notes as notes_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.calls import Linked
from flowdesk.store.sql import read_document

MAX_PAGE = 100
T = TypeVar("T")
STATUSES = ("running", "approved", "rejected", "cancelled", "revoked")


@dataclass(frozen=True)
class Person:
    id: str
    name: str


@dataclass(frozen=True)
class SummaryItem:
    """One of the fields an app shows in list rows (`summary:` in its definition)."""

    key: str
    label: dict[str, str]
    value: Any  # as stored (money as a string)
    text: str  # as people read it, in the viewer's language


@dataclass(frozen=True)
class CurrentStep:
    """A step a running ticket waits at, and who holds it."""

    task_id: str
    node_id: str
    name: dict[str, str]
    holders: tuple[Person, ...]
    since: datetime


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
    ticket_serial: str = ""
    ticket_status: str = ""
    summary: tuple[SummaryItem, ...] = ()
    waiting: bool = False  # 加签: open, but waiting behind added signers (ADR 0020)
    signed: bool = False  # 加签: it has added signers still to decide
    # 委派 (ADR 0034): whose task this one works on, or to whom this task is delegated
    delegated_by: Person | None = None
    delegated_to: Person | None = None
    # the form values when it was decided (masked), in a ticket's tasks read with them;
    # None: open, not asked for, or decided before migration 0021 kept them
    decided_values: Mapping[str, Any] | None = None


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

    @property
    def by_person(self) -> bool:
        """What someone did (submitted, approved, changed values...), not an engine pass
        through a gateway, an opened task or the outcome the last decision led to."""
        return self.actor is not None


@dataclass(frozen=True)
class TicketView:
    id: str
    serial: str
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
    # the version it runs and its engine state as stored, for the page's own questions
    # (may the viewer resubmit, withdraw …) without reading the ticket again
    published: PublishedApp | None = None
    state: Any = None
    # its timers still to fire, soonest first (ADR 0023): "reminds in 3h"
    timers: tuple[PendingTimer, ...] = ()
    # the files its actions carry (ADR 0028), read when asked for (the API's answer)
    attachments: tuple[AttachmentView, ...] = ()
    # call activities (ADR 0033): the ticket that called this one, the ones it called
    parent: Linked | None = None
    children: tuple[Linked, ...] = ()

    # linked records with their look-ups, and roll-ups, read live (ADR 0038)
    links: Mapping[str, tuple[LinkedRecord, ...]] = field(default_factory=dict)
    rollups: Mapping[str, Any] = field(default_factory=dict)

    @property
    def open_tasks(self) -> tuple[TaskView, ...]:
        return tuple(t for t in self.tasks if t.state == "open")

    def actionable_by(self, actor: Actor) -> tuple[TaskView, ...]:
        return tuple(t for t in self.open_tasks if any(p.id == actor.user_id for p in t.assignees))


@dataclass(frozen=True)
class TicketSummary:
    id: str
    serial: str
    app_key: str
    title: str  # in the viewer's language
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime
    requester_id: str
    requester: Person | None = None
    finished_at: datetime | None = None
    summary: tuple[SummaryItem, ...] = ()
    current: tuple[CurrentStep, ...] = ()
    # the values as stored (unmasked: whoever shows them masks them, as exports do) and the
    # app version the ticket runs
    stored_values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    published: PublishedApp | None = field(default=None, repr=False)

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the ticket waits on its longest-waiting step (None: finished)."""
        return min((c.since for c in self.current), default=None)


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
    if node_id == REVOKE_NODE:  # the revocation round's (ADR 0042): in no process spec
        return dict(REVOKE_NAMES)
    if node_id is None or node_id not in nodes:
        return None
    return dict(nodes[node_id].name) or {"en": node_id}


def _copy_names(
    kind: str, data: dict[str, Any] | None, people: Mapping[str, str]
) -> dict[str, Any] | None:
    """A copy's (抄送) event names whom it copied, beside their ids (`names`)."""
    if kind not in ("copies_sent", "ticket_copied") or not data:
        return data
    return {**data, "names": [people.get(u, u) for u in data.get("users", ())]}


def _copied_reader(conn: Connection, actor: Actor, ticket_id: str, facts: ResourceFacts) -> bool:
    """A person copied (抄送) on the ticket reads it too; asked only of those the tasks
    do not already let in, so the page's reads stay as they were for everyone else."""
    if actor.user_id not in copies_store.copied_user_ids(conn, ticket_id):
        return False
    facts = ResourceFacts(
        requester_id=facts.requester_id, participant_ids=facts.participant_ids | {actor.user_id}
    )
    return bool(decide(actor, "ticket.read", facts))


def ticket(
    ctx: ServiceContext,
    actor: Actor,
    ticket_id: str,
    *,
    locale: str = "en",
    with_attachments: bool = False,
    with_decided_values: bool = False,
) -> TicketView:
    """Hidden and missing tickets look alike (404), so ids reveal nothing. The attachments
    are read in the same snapshot when asked for (the page finds them in its timeline), and
    so are the form values each task was decided on (`with_decided_values`)."""
    with ctx.db.read() as conn:
        row = tickets_store.ticket_by_id(conn, ticket_id)
        if row is None:
            raise NotFound("Ticket not found", "ticket_not_found")
        # The tasks' assignees are the participants who may read it: one statement for both.
        task_rows, assigned = tickets_store.tasks_with_assignees(conn, ticket_id)
        participants = frozenset(u for users in assigned.values() for u in users)
        app = ctx.apps.version(conn, row.app_version_id)
        facts = record_facts(app, row.requester_id, participants)
        if not decide(actor, "ticket.read", facts) and not _copied_reader(
            conn, actor, ticket_id, facts
        ):
            raise NotFound("Ticket not found", "ticket_not_found")
        # Urges and comments live beside the steps (ADR 0017), merged here by time.
        events = notes_store.timeline_with_notes(conn, ticket_id)
        timers = (
            tuple(pending_timers(conn, ticket_id, app.spec.process))
            if row.status == "running"
            else ()
        )
        # a form's attachment fields (ADR 0037) list their files on the page
        with_files = with_attachments or any(f.type == "attachment" for f in app.spec.form.fields)
        files = tuple(attachments_service.for_ticket(conn, ticket_id)) if with_files else ()
        seen = _decided_values(conn, ticket_id) if with_decided_values else {}
        parent, children = calls_store.linked(conn, ticket_id)
        links, rollups = link_values.resolve(ctx, conn, app, row.values, locale)
        people = org_store.display_names(
            conn,
            [
                row.requester_id,
                *(u for users in assigned.values() for u in users),
                *(t.completed_by for t in task_rows if t.completed_by),
                *(e.actor_id for e in events if e.actor_id),
                *copies_store.people_in(events),
            ],
        )
    nodes = app.spec.process.nodes

    def person(user_id: str | None) -> Person | None:
        return Person(user_id, people.get(user_id, user_id)) if user_id else None

    held, signed = _sign_flags(row.state)
    # per-node hidden fields (ADR 0037): what this reader's steps do not show them
    hidden = field_visibility.hidden_for(
        actor,
        app.spec.process,
        row.requester_id,
        (
            t.node_id
            for t in task_rows
            if actor.user_id in assigned[t.id] or t.completed_by == actor.user_id
        ),
    )
    delegated = _delegations(row.state)
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
            waiting=t.id in held,
            signed=t.id in signed,
            delegated_by=_delegation_person(delegated, t.id, "by", people),
            delegated_to=_delegation_person(delegated, t.id, "to", people),
            decided_values=masked_values(app.spec.form, seen[t.id]) if t.id in seen else None,
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
            field_visibility.event_data(_copy_names(e.kind, e.data, people), hidden),
        )
        for e in events
        if not (hidden and e.kind == "values_changed" and _only_hidden(e.data, hidden))
    )
    requester = person(row.requester_id)
    assert requester is not None
    app_name = _app_name(app)
    return TicketView(
        row.id,
        row.serial,
        app.spec.key,
        app_name,
        app.version,
        ticket_title(app_name, row.title, locale),
        row.title,
        row.status,
        # personal numbers masked for everyone (RELIABILITY promise 8): see unmask_values
        field_visibility.without(masked_values(app.spec.form, row.values), hidden),
        requester,
        row.created_at,
        row.updated_at,
        row.finished_at,
        tasks,
        timeline,
        field_visibility.visible_form(app.spec.form, hidden),
        app,
        row.state,
        timers,
        tuple(f for f in files if f.field_key is None or f.field_key not in hidden),
        parent,
        tuple(children),
        links,
        rollups,
    )


def _only_hidden(data: Mapping[str, Any] | None, hidden: frozenset[str]) -> bool:
    """A values_changed event all of whose fields the reader does not see."""
    fields = (data or {}).get("fields") or ()
    return bool(fields) and all(f in hidden for f in fields)


def _sign_flags(document: Any) -> tuple[frozenset[str], frozenset[str]]:
    """加签 (ADR 0020): the open tasks waiting behind added signers, and those with added
    signers at all; a state without add-signs, nearly every one, is not even loaded."""
    data = read_document(document)
    if not isinstance(data, Mapping) or "signs" not in data:
        return frozenset(), frozenset()
    state = load_state(data)
    held = frozenset(task_id for task_id in state.signs if waiting(state, task_id))
    return held, frozenset(state.signs)


# The timeline events that close a task by someone's decision (or a delegate's resolve).
DECIDED_KINDS = frozenset(
    {"task_approved", "task_rejected", "task_returned", "task_resolved", "task_resubmitted"}
)


def _decided_values(conn: Connection, ticket_id: str) -> dict[str, Mapping[str, Any]]:
    """The form values each decided task of a ticket was decided on: the values the step
    that decided it left (an approver's edit included), from the nearest step at or before
    it that kept them (migration 0021); tasks decided before any such step are left out."""
    found: dict[str, Mapping[str, Any]] = {}
    current: Mapping[str, Any] | None = None
    for events, values in tickets_store.step_values(conn, ticket_id):
        if values is not None:
            current = values
        if current is None:
            continue
        for e in events:
            if e.get("kind") in DECIDED_KINDS and e.get("task_id"):
                found[e["task_id"]] = current
    return found


def _delegations(document: Any) -> dict[str, tuple[str, str]]:
    """委派 (ADR 0034): delegated tasks and delegates' tasks (engines' `delegations`); a
    state without add-signs or delegations is not loaded."""
    if isinstance(document, str) and '"signs"' not in document:
        return {}  # SQLite's text: most states have no chains, and are not even parsed
    data = read_document(document)
    if not isinstance(data, Mapping) or "signs" not in data:
        return {}
    return delegations(load_state(data))


def _delegation_person(
    found: Mapping[str, tuple[str, str]], task_id: str, side: str, names: Mapping[str, str]
) -> Person | None:
    entry = found.get(task_id)
    if entry is None or entry[0] != side:
        return None
    return Person(entry[1], names.get(entry[1], entry[1]))


def _waiting_tasks(document: Any) -> frozenset[str]:
    return _sign_flags(document)[0]


# "app": every ticket of `query.app`, for a caller that checked the app's own rule
# (a record app's grid, services/records.py)
TicketScope = Literal["mine", "visible", "all", "app"]


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
    """Tickets the actor may see, newest first (kept for callers of the first lists)."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed("Unknown status", code="invalid_status")
    params = {"app": app_key or "", "status": status or "", "cursor": cursor or ""}
    query = parse_list_query(params, default_limit=max(1, min(limit, MAX_PAGE)))
    return ticket_list(ctx, actor, query, scope="mine" if mine else "visible", locale=locale)


def sees_all_tickets(actor: Actor) -> bool:
    """Whoever may read a ticket they neither filed nor work on (admins, auditors)."""
    return bool(decide(actor, "ticket.read", ResourceFacts()))


_TICKET_ORDER: Mapping[Sort, tuple[lists_store.OrderKey, bool]] = {
    "created": ("id", False),
    "updated": ("ticket_updated", False),
    "waiting": ("ticket_updated", True),  # longest waiting first: least recently changed
}


def ticket_list(
    ctx: ServiceContext,
    actor: Actor,
    query: ListQuery,
    *,
    scope: TicketScope = "visible",
    locale: str = "en",
) -> Page[TicketSummary]:
    """我发起 (`mine`), the tickets the actor filed or works on (`visible`), or all of
    them (`all`: those who may see every ticket; others get 403)."""
    _check_scope(actor, query, scope)
    key, flip = _TICKET_ORDER[query.sort]
    order = _order(key, query, flip)
    items, page_rows, more = _ticket_items(ctx, actor, query, order, scope, locale)
    return Page(items, _next_cursor(query, order, page_rows[-1]) if more else None)


def ticket_batches(
    ctx: ServiceContext,
    actor: Actor,
    query: ListQuery,
    *,
    scope: TicketScope = "visible",
    locale: str = "en",
    batch: int = 500,
) -> Iterator[list[TicketSummary]]:
    """Every ticket of the list (its filters, sort and permission), `batch` at a time, each
    batch read in its own short transaction (exports: bounded memory, no long snapshot)."""
    _check_scope(actor, query, scope)
    key, flip = _TICKET_ORDER[query.sort]
    order = _order(key, query, flip)
    query = replace(query, limit=batch)
    while True:
        items, page_rows, more = _ticket_items(ctx, actor, query, order, scope, locale)
        if items:
            yield items
        if not more:
            return
        last = page_rows[-1]
        value = last.updated_at if order.key == "ticket_updated" else last.id
        order = replace(order, after=(value, last.id))


def count_tickets(
    ctx: ServiceContext,
    actor: Actor,
    query: ListQuery,
    *,
    scope: TicketScope = "visible",
    up_to: int,
) -> int:
    """How many tickets the list holds, counting no further than `up_to`."""
    _check_scope(actor, query, scope)
    with ctx.db.read() as conn:
        found = _scoped_filter(conn, actor, query, scope)
        return lists_store.ticket_count(
            conn, found, visible_to=_visible_to(actor, scope), up_to=up_to
        )


def _check_scope(actor: Actor, query: ListQuery, scope: TicketScope) -> None:
    if scope == "all" and not sees_all_tickets(actor):
        raise Forbidden("Only administrators and auditors list all tickets")
    if scope == "app" and query.app is None:
        raise ValueError("the app scope lists one app")
    if scope == "mine" and query.requester not in (None, "me"):
        raise ValidationFailed(
            "These are the tickets you filed",
            [ErrorDetail("requester", "invalid_requester", "Only 'me' is allowed here")],
            code="invalid_query",
        )


def _scoped_filter(
    conn: Connection, actor: Actor, query: ListQuery, scope: TicketScope
) -> lists_store.ListFilter:
    found = _resolve(conn, actor, query)
    if scope != "app" and query.status is None:  # records live in their grid (ADR 0038)
        found = replace(found, no_records=True)
    if scope == "mine":
        found = replace(found, requester_id=actor.user_id)
    return found


def _visible_to(actor: Actor, scope: TicketScope) -> str | None:
    return None if scope != "visible" or sees_all_tickets(actor) else actor.user_id


def _ticket_items(
    ctx: ServiceContext,
    actor: Actor,
    query: ListQuery,
    order: lists_store.Order,
    scope: TicketScope,
    locale: str,
) -> tuple[list[TicketSummary], list[Row[Any]], bool]:
    with ctx.db.read() as conn:
        found = _scoped_filter(conn, actor, query, scope)
        rows = lists_store.ticket_rows(
            conn, found, visible_to=_visible_to(actor, scope), order=order, limit=query.limit + 1
        )
        page_rows = rows[: query.limit]
        keys = {a.id: a.key for a in apps_store.list_apps(conn)}
        versions = {r.app_version_id: ctx.apps.version(conn, r.app_version_id) for r in page_rows}
        holders = lists_store.open_tasks_of(conn, [r.id for r in page_rows])
        people = org_store.display_names(
            conn, [*(r.requester_id for r in page_rows), *(h.user_id for h in holders)]
        )
    current: dict[str, dict[str, CurrentStep]] = {}
    for h in holders:
        steps = current.setdefault(h.ticket_id, {})
        step = steps.get(h.id)
        person = Person(h.user_id, people.get(h.user_id, h.user_id))
        steps[h.id] = CurrentStep(
            h.id,
            h.node_id,
            {"en": h.name_en, "zh": h.name_zh},
            (*step.holders, person) if step else (person,),
            h.created_at,
        )
    # per-node hidden fields (ADR 0037): a row shows none any step hides, but to those who
    # see all (the applicant, administrators, auditors)
    hidden = {
        r.id: field_visibility.hidden_in_lists(
            actor, versions[r.app_version_id].spec.process, r.requester_id
        )
        for r in page_rows
    }
    items = [
        TicketSummary(
            r.id,
            r.serial,
            keys.get(r.app_id, ""),
            ticket_title(_app_name(versions[r.app_version_id]), r.title, locale),
            r.title,
            r.status,
            r.created_at,
            r.updated_at,
            r.requester_id,
            Person(r.requester_id, people.get(r.requester_id, r.requester_id)),
            r.finished_at,
            summary_items(versions[r.app_version_id], r.values, locale, hidden[r.id]),
            tuple(current.get(r.id, {}).values()),
            stored_values=field_visibility.without(r.values, hidden[r.id]),
            published=versions[r.app_version_id],
        )
        for r in page_rows
    ]
    return items, page_rows, len(rows) > query.limit


def my_tasks(
    ctx: ServiceContext,
    actor: Actor,
    *,
    cursor: str | None = None,
    limit: int = 50,
    locale: str = "en",
) -> Page[TaskView]:
    """My open tasks, newest first (kept for callers of the first lists)."""
    params = {"cursor": cursor or ""}
    query = parse_list_query(params, default_limit=max(1, min(limit, MAX_PAGE)))
    return task_list(ctx, actor, query, done=False, locale=locale)


_OPEN_TASK_ORDER: Mapping[Sort, tuple[lists_store.OrderKey, bool]] = {
    "created": ("id", False),
    "updated": ("ticket_updated", False),
    "waiting": ("id", True),  # longest waiting first: the oldest task
}
_DONE_TASK_ORDER: Mapping[Sort, tuple[lists_store.OrderKey, bool]] = {
    "created": ("id", False),
    "updated": ("task_completed", False),  # when I decided
    "waiting": ("id", True),
}


def task_list(
    ctx: ServiceContext,
    actor: Actor,
    query: ListQuery,
    *,
    done: bool,
    locale: str = "en",
) -> Page[TaskView]:
    """待办 (my open tasks) or 已办 (`done`: the tasks I approved or rejected)."""
    if query.assignee not in (None, "me"):
        raise ValidationFailed(
            "Only your own tasks are listed",
            [ErrorDetail("assignee", "invalid_assignee", "Only 'me' is allowed here")],
            code="invalid_query",
        )
    key, flip = (_DONE_TASK_ORDER if done else _OPEN_TASK_ORDER)[query.sort]
    order = _order(key, query, flip)
    # One statement reads what changes (the rows); names resolved and published versions
    # do not need its snapshot, so no BEGIN/COMMIT (two round trips on PostgreSQL).
    with ctx.db.read(snapshot=False) as conn:
        found = replace(_resolve(conn, actor, query), assignee_id=None)
        rows = lists_store.task_rows(
            conn, found, user_id=actor.user_id, done=done, order=order, limit=query.limit + 1
        )
        page_rows = rows[: query.limit]
        versions = {r.app_version_id: ctx.apps.version(conn, r.app_version_id) for r in page_rows}
    me = Person(actor.user_id, actor.display_name)
    owners = {} if done else _delegate_owners(ctx, page_rows)
    items = [
        TaskView(
            r.id,
            r.ticket_id,
            r.node_id,
            {"en": r.name_en, "zh": r.name_zh},
            r.state,
            () if done else (me,),
            r.created_at,
            r.completed_at,
            me if done else None,
            r.comment,
            ticket_title(_app_name(versions[r.app_version_id]), r.title, locale),
            r.title,
            r.serial,
            r.ticket_status,
            summary_items(
                versions[r.app_version_id],
                r.values,
                locale,
                # what the task's step hides from its holder (ADR 0037)
                field_visibility.hidden_for(
                    actor, versions[r.app_version_id].spec.process, r.requester_id, [r.node_id]
                ),
            ),
            delegated_by=owners.get(r.id),
        )
        for r in page_rows
    ]
    more = len(rows) > query.limit
    return Page(items, _next_cursor(query, order, page_rows[-1]) if more else None)


def _delegate_owners(ctx: ServiceContext, rows: list[Any]) -> dict[str, Person]:
    """委派: the owners of the delegates' tasks among 待办's `rows` (their rows say whose
    task they work on); a name look-up only when there is one."""
    owners = {r.id: r.delegated_by for r in rows if r.delegated_by}
    if not owners:
        return {}
    with ctx.db.read(snapshot=False) as conn:
        names = org_store.display_names(conn, owners.values())
    return {task_id: Person(u, names.get(u, u)) for task_id, u in owners.items()}


def task(ctx: ServiceContext, actor: Actor, task_id: str, *, locale: str = "en") -> TaskView:
    """One task with its ticket's serial and title; hidden and missing look alike (404)."""
    with ctx.db.read() as conn:
        row = tickets_store.ticket_of_task(conn, task_id)
        if row is None or not can_read(actor, conn, row):
            raise NotFound("Task not found", "task_not_found")
        found = next(t for t in tickets_store.tasks_of_ticket(conn, row.id) if t.id == task_id)
        assigned = tickets_store.assignees_of(conn, [task_id])[task_id]
        delegated = _delegations(row.state)
        people = org_store.display_names(
            conn,
            [
                *assigned,
                *([found.completed_by] if found.completed_by else []),
                *(entry[1] for key, entry in delegated.items() if key == found.id),
            ],
        )
        app = ctx.apps.version(conn, row.app_version_id)
    by = found.completed_by
    return TaskView(
        found.id,
        row.id,
        found.node_id,
        {"en": found.name_en, "zh": found.name_zh},
        found.state,
        tuple(Person(u, people.get(u, u)) for u in assigned),
        found.created_at,
        found.completed_at,
        Person(by, people.get(by, by)) if by else None,
        found.comment,
        ticket_title(_app_name(app), row.title, locale),
        row.title,
        row.serial,
        row.status,
        summary_items(
            app,
            row.values,
            locale,
            field_visibility.hidden_for(actor, app.spec.process, row.requester_id, [found.node_id]),
        ),
        waiting=found.id in _waiting_tasks(row.state),
        delegated_by=_delegation_person(delegated, found.id, "by", people),
        delegated_to=_delegation_person(delegated, found.id, "to", people),
    )


def summary_items(
    app: PublishedApp,
    values: Mapping[str, Any],
    locale: str,
    hidden: frozenset[str] = frozenset(),
) -> tuple[SummaryItem, ...]:
    """The app's summary fields of a list row, but those `hidden` from the reader."""
    fields = {f.key: f for f in app.spec.form.fields}
    items = []
    for key in app.spec.summary:
        if key in hidden:
            continue
        field = fields[key]
        value = values.get(key)
        try:
            text = display_value(field, value, locale)
        except (InvalidOperation, ValueError):
            text = str(value)
        items.append(
            SummaryItem(
                key,
                {"en": field.label.en, "zh": field.label.zh},
                masked_value(field, value),
                text,
            )
        )
    return tuple(items)


# Who may see a ticket's personal numbers in full (ADR 0027): a reader of the ticket who
# holds this role, giving a reason; each look is an audit entry.
UNMASK_ROLE = "personal_data_viewer"
MAX_UNMASK_REASON = 500


def unmask_values(
    ctx: ServiceContext, actor: Actor, ticket_id: str, *, reason: str, locale: str = "en"
) -> dict[str, Any]:
    """The ticket's personal fields (resident ID, mobile, bank card) as stored, for a reader
    holding `personal_data_viewer` who says why; the look is audited with the reason and the
    fields shown (never the values). Others get 403 `unmask_not_permitted`; a hidden ticket
    is 404 as everywhere."""
    text = reason.strip()
    if not text or len(text) > MAX_UNMASK_REASON or not text.isprintable():
        zh = locale.lower().startswith("zh")
        raise ValidationFailed(
            "请说明查看完整号码的原因" if zh else "Say why you need the full numbers",
            [
                ErrorDetail(
                    "reason",
                    "reason_required",
                    f"1 to {MAX_UNMASK_REASON} characters, one line"
                    if not zh
                    else f"1 至 {MAX_UNMASK_REASON} 个字符，单行",
                )
            ],
            "unmask_reason_required",
        )
    with ctx.db.write() as conn:
        row = tickets_store.ticket_by_id(conn, ticket_id)
        if row is None:
            raise NotFound("Ticket not found", "ticket_not_found")
        facts = ResourceFacts(
            requester_id=row.requester_id,
            participant_ids=tickets_store.participant_ids(conn, ticket_id),
        )
        if not decide(actor, "ticket.read", facts) and not _copied_reader(
            conn, actor, ticket_id, facts
        ):
            raise NotFound("Ticket not found", "ticket_not_found")
        if UNMASK_ROLE not in actor.roles:
            raise Forbidden(
                f"Seeing personal numbers in full needs the role {UNMASK_ROLE}",
                "unmask_not_permitted",
            )
        app = ctx.apps.version(conn, row.app_version_id)
        held = tickets_store.nodes_held_by(conn, ticket_id, actor.user_id)
        hidden = field_visibility.hidden_for(actor, app.spec.process, row.requester_id, held)
        shown = {
            f.key: row.values[f.key]
            for f in app.spec.form.fields
            if f.personal and row.values.get(f.key) is not None and f.key not in hidden
        }
        audit_store.append(
            conn,
            at=ctx.clock.now(),
            actor=actor.username,
            action="ticket.unmask",
            target_type="ticket",
            target_id=ticket_id,
            details={"fields": sorted(shown), "reason": text},
        )
    return shown


def _order(key: lists_store.OrderKey, query: ListQuery, flip: bool) -> lists_store.Order:
    descending = query.descending != flip
    after: tuple[Any, str] | None = None
    if query.after is not None:
        value, row_id = query.after
        if key == "id":
            after = (row_id, row_id)
        else:
            try:
                after = (datetime.fromisoformat(value), row_id)
            except ValueError:
                after = None
            if after is None or after[0].tzinfo is None:
                raise ValidationFailed(
                    "The list's parameters are invalid",
                    [
                        ErrorDetail(
                            "cursor", "invalid_cursor", "This cursor is not one this list gave"
                        )
                    ],
                    code="invalid_query",
                )
    return lists_store.Order(key, descending, after)


def _next_cursor(query: ListQuery, order: lists_store.Order, last: Row[Any]) -> str:
    if order.key == "ticket_updated":
        value = last.ticket_updated_at if hasattr(last, "ticket_updated_at") else last.updated_at
        return encode_cursor(query, value.isoformat(), last.id)
    if order.key == "task_completed":
        return encode_cursor(query, last.completed_at.isoformat(), last.id)
    return encode_cursor(query, last.id, last.id)


def _resolve(conn: Connection, actor: Actor, query: ListQuery) -> lists_store.ListFilter:
    """Names in the query (app key, usernames, department code) as ids; an unknown one
    is a precise 422, not an empty list that looks like "nothing there"."""
    errors: list[ErrorDetail] = []
    app_id = None
    if query.app is not None:
        app = apps_store.app_by_key(conn, query.app)
        if app is None:
            errors.append(ErrorDetail("app", "unknown_app", f"No app '{query.app}'"))
        else:
            app_id = app.id

    def user(name: str, username: str | None) -> str | None:
        if username is None:
            return None
        if username == "me":
            return actor.user_id
        found = org_store.user_by_username(conn, username)
        if found is None:
            errors.append(ErrorDetail(name, "unknown_user", f"No user '{username}'"))
            return None
        return str(found.id)

    department_id = None
    if query.department is not None:
        department = org_store.department_by_code(conn, query.department)
        if department is None:
            errors.append(
                ErrorDetail(
                    "department", "unknown_department", f"No department '{query.department}'"
                )
            )
        else:
            department_id = department.id
    found = lists_store.ListFilter(
        app_id=app_id,
        status=query.status,
        node_id=query.node,
        assignee_id=user("assignee", query.assignee),
        requester_id=user("requester", query.requester),
        department_id=department_id,
        created_from=query.created_from,
        created_before=query.created_before,
        finished_from=query.finished_from,
        finished_before=query.finished_before,
        terms=query.terms,
        serial_prefix=query.serial_prefix,
    )
    if errors:
        raise ValidationFailed("The list's parameters are invalid", errors, code="invalid_query")
    return found


def app_names(
    ctx: ServiceContext, conn: Connection, version_ids: Iterable[str]
) -> dict[str, dict[str, str]]:
    """{app version id: {"en": name, "zh": name}}; versions are parsed once per process."""
    return {v: _app_name(ctx.apps.version(conn, v)) for v in set(version_ids)}


def count_my_tasks(ctx: ServiceContext, actor: Actor) -> int:
    with ctx.db.read() as conn:
        return tickets_store.count_open_tasks(conn, actor.user_id)


# Badges count this far and then read "99+".
BADGE_CAP = 100


def nav_counts(ctx: ServiceContext, actor: Actor) -> tuple[int, int]:
    """(open tasks, unread notifications) for the badges of every page, each at most
    BADGE_CAP."""
    with ctx.db.read(snapshot=False) as conn:
        return lists_store.badge_counts(conn, actor.user_id, up_to=BADGE_CAP)
