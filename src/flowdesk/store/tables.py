"""The relational schema, as typed SQLAlchemy 2 declarative tables.

Queries use the Core tables (`User.__table__`) on hot paths: the services work on
plain rows and engine state, never on lazily-loading ORM objects.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDoc = JSON().with_variant(JSONB(), "postgresql")
Id = String(32)


class UtcDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes; always reads back timezone-aware UTC, on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JsonDoc,
        datetime: UtcDateTime(),
    }


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"), index=True)
    head_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", use_alter=True), index=True
    )


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"), index=True)
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    # The org chart's own fields (migration 0006); display_name derives from the names.
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    job_level: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime | None]


class Role(Base):
    __tablename__ = "roles"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id"), primary_key=True, index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge finds expired ones


class LoginThrottle(Base):
    """Login attempts counted per window, for one scope and subject (ADR 0011).

    scope "pair": (username, client address); "client": a client address; "user": a
    username, from addresses it has not logged in from; "known": an address the user
    logged in from (then `expires_at` is when that trust ends). A row means nothing
    after `expires_at` and is purged.
    """

    __tablename__ = "login_throttle"
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class App(Base):
    __tablename__ = "apps"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64))
    current_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("app_versions.id", use_alter=True), index=True
    )
    created_at: Mapped[datetime]


class AppVersion(Base):
    """A published, immutable definition; running tickets keep the one they started on."""

    __tablename__ = "app_versions"
    __table_args__ = (UniqueConstraint("app_id", "version"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    definition_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    published_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)


class Ticket(Base):
    """Tickets, tasks and assignees are WITHOUT ROWID on SQLite: rows live in the
    primary-key tree, so a step writes one tree per table instead of two."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_app_status_created", "app_id", "status", "created_at"),
        # 我发起 newest first: the requester's tickets in id (= filing) order, no sort.
        Index("ix_tickets_requester_id", "requester_id", "id"),
        Index("uq_tickets_serial", "serial", unique=True),
        {"sqlite_with_rowid": False},
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    # app_id and requester_id are indexed by the composite indexes above.
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"))
    app_version_id: Mapped[str] = mapped_column(ForeignKey("app_versions.id"), index=True)
    # LN-2026-000123: the app's prefix, the year in the bank's zone, the sequence.
    serial: Mapped[str] = mapped_column(
        String(32).with_variant(String(32, collation="C"), "postgresql")  # prefix ranges
    )
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    values: Mapped[dict[str, Any]]
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    requester_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class TicketSerial(Base):
    """The last serial number given per app and year. The submit increments it in its
    own transaction, so a rolled-back submit gives its number back: no gaps."""

    __tablename__ = "ticket_serials"
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class TicketTerm(Base):
    """The search index: one row per distinct term of a ticket's serial, title and text
    fields (CJK bigrams, words; kernel/search_terms.py, ADR 0010). One B-tree keyed by
    term: a term's tickets are a range, in ticket-id (= filing) order. No foreign key:
    it would need a second index on ticket_id; only the step writes these rows, in the
    transaction that writes the ticket."""

    __tablename__ = "ticket_terms"
    __table_args__ = ({"sqlite_with_rowid": False},)
    # Byte order on PostgreSQL whatever the database's collation: a prefix is a range.
    term: Mapped[str] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql"), primary_key=True
    )
    ticket_id: Mapped[str] = mapped_column(Id, primary_key=True)


def _not_null(column: str) -> dict[str, Any]:
    """A partial index's condition, for indexes whose column is mostly NULL."""
    clause = text(f"{column} IS NOT NULL")
    return {"sqlite_where": clause, "postgresql_where": clause}


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # Completed tasks only: closing a task adds an entry instead of moving one.
        # With the id, 已办 newest first is a walk of the user's range, no sort.
        Index("ix_tasks_completed_by_id", "completed_by", "id", **_not_null("completed_by")),
        {"sqlite_with_rowid": False},
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    node_id: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    # 委派 (ADR 0034): a delegate's task names whose task it works on (a user id, as the
    # timeline keeps people; no foreign key, so no index to keep up), for 待办's mark
    delegated_by: Mapped[str | None] = mapped_column(Id)


class TaskAssignee(Base):
    __tablename__ = "task_assignees"
    __table_args__ = (
        # 待办 newest first walks the user's open range backwards by task id (no sort).
        Index("ix_task_assignees_user_open_task", "user_id", "is_open", "task_id"),
        {"sqlite_with_rowid": False},
    )
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    # Indexed by ix_task_assignees_user_open_task, which starts with user_id.
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean)


class TicketStep(Base):
    """The timeline: one row per step of a ticket (the version it produced), holding the
    step's events in order. One row, in one B-tree, instead of one row per event with
    three indexes; reports and process mining read the events through `json_each` /
    `jsonb_array_elements` (ADR 0008). Who did what across tickets is in tasks and the
    audit log."""

    __tablename__ = "ticket_steps"
    __table_args__ = ({"sqlite_with_rowid": False},)
    # The primary key starts with ticket_id, so it indexes that foreign key too.
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    # [{kind, node_id?, task_id?, actor_id?, comment?, data?}, ...]: absent keys are null.
    events: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)
    # The form values after a step that set them (submit, resubmit, an approver's edit),
    # null for the others: what each decision saw is the nearest at or before it (0021).
    values: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)


class TicketNote(Base):
    """What people add to a ticket without moving it (an urge, a comment): beside the
    steps, never touching the ticket's version, so no approval races it (ADR 0017)."""

    __tablename__ = "ticket_notes"
    # The timeline reads a ticket's notes in time order; it indexes the foreign key too.
    __table_args__ = (Index("ix_ticket_notes_ticket_at", "ticket_id", "at"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))  # urge | comment | webhook_sent | webhook_failed
    # None: the worker's note of a webhook delivery (ADR 0024), which nobody acted in
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)  # an urge: users, tasks


class TicketCopy(Base):
    """A person copied (抄送) on a ticket: by a CC node (`node_id`, written with the step
    that passed it) or ad hoc by a holder or the applicant (`by_id`, `note_id`). A reader
    with no action; never swept by a reject, return or withdraw (APPROVALS.md case 37).
    One row per person and ticket: the first copy is kept, `read_at` set when they open it."""

    __tablename__ = "ticket_copies"
    # 抄送我 lists a user's copies newest first.
    __table_args__ = (Index("ix_ticket_copies_user_at", "user_id", "at"),)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: node
    node_id: Mapped[str | None] = mapped_column(String(100))  # None: copied ad hoc
    note_id: Mapped[str | None] = mapped_column(Id)  # the ad-hoc copy's ticket note
    at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Delegation(Base):
    """An out-of-office rule (代理): from `starts_at` to `ends_at` (UTC), tasks that would go
    to the principal go to the delegate, who acts on their behalf; in one app or in all
    (`app_key` None). Revoked rules are kept (`revoked_at`) for the audit's sake."""

    __tablename__ = "delegations"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    principal_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    app_key: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class TicketUrgeMark(Base):
    """When a ticket was last urged: claimed by one conditional upsert, so of two urges
    at once exactly one gets the window (ADR 0017)."""

    __tablename__ = "ticket_urge_marks"
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    urged_at: Mapped[datetime]


class AuditLog(Base):
    """Append-only, hash-chained; triggers refuse UPDATE and DELETE on both databases."""

    __tablename__ = "audit_log"
    # On SQLite an INTEGER key is the rowid itself: one B-tree fewer to write per step.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row holding the chain's tip; locking it serialises appends so the chain cannot fork."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    # sha256 or sm3, chosen when the chain starts (FLOWDESK_AUDIT__HASH_ALGORITHM).
    algorithm: Mapped[str] = mapped_column(String(16), server_default="sha256")


class OrgGeneration(Base):
    """One row counting org-chart changes (bumped by triggers): caches of who holds a
    role or manages whom are valid while it stays the same."""

    __tablename__ = "org_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The list, newest first, is a walk of the user's range; it indexes user_id too.
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        # The unread badge on every page counts only the unread entries.
        Index(
            "ix_notifications_user_unread",
            "user_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Job(Base):
    """Background work as rows: due time, lease and attempt make delivery at-least-once."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_due", "state", "due_at"),
        Index(
            "uq_jobs_idempotency_key",
            "idempotency_key",
            unique=True,
            **_not_null("idempotency_key"),
        ),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CalendarDay(Base):
    """An administrator's word on one date of the business calendar: working or not,
    and its own hours (None: the usual hours). It wins over the holiday library."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    hours: Mapped[list[str] | None] = mapped_column(JsonDoc)  # ["09:00-12:00", ...]
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class CalendarYear(Base):
    """A year the library does not know whose holidays an administrator has entered in
    full as calendar days: its other dates are then plain weekdays."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class CalendarGeneration(Base):
    """One row counting changes to calendar_days and calendar_years (bumped by
    triggers): a process's built calendar is valid while it stays the same."""

    __tablename__ = "calendar_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


class AssigneeTurn(Base):
    """A round-robin pick's cursor (ADR 0025): one row per app and role, its turn moved
    on by one conditional upsert inside the step that picks, so concurrent steps take
    turns at the row and a rolled-back step gives its turn back."""

    __tablename__ = "assignee_turns"
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    turn: Mapped[int] = mapped_column(BigInteger)


class TicketWait(Base):
    """A timer or a message subscription of a ticket (ADR 0023): the scheduler's row for
    what the engine's state says waits. A timer (`kind` timer) is due at `due_at` (UTC)
    and fires once: `state` pending -> fired, stale (its task or wait was over when it
    came due) or dropped (the ticket finished first). A message wait (`kind` message) is
    found by its `name` and correlation `key` until a message is received for it."""

    __tablename__ = "ticket_waits"
    __table_args__ = (
        # the worker's query: pending timers by due time
        Index("ix_ticket_waits_state_due", "state", "due_at"),
        # POST /messages: pending waits by message name and key
        Index("ix_ticket_waits_name_key", "name", "key"),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # timer | message | call (ADR 0033)
    node_id: Mapped[str] = mapped_column(String(100))
    activation_id: Mapped[str] = mapped_column(String(32), default="")  # a boundary's task
    fire: Mapped[int] = mapped_column(Integer, default=1)  # a repeating timer's fire number
    due_at: Mapped[datetime | None]
    name: Mapped[str | None] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class CallLink(Base):
    """A child ticket filed by a parent's call activity (ADR 0033): one per call wait
    (`wait_id`, the parent's ticket_waits row of kind call), written with the child."""

    __tablename__ = "call_links"
    __table_args__ = (UniqueConstraint("wait_id"),)
    child_ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    parent_ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    wait_id: Mapped[str] = mapped_column(ForeignKey("ticket_waits.id"))
    node_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class MessageReceipt(Base):
    """A message received through POST /api/v1/messages, by its sender's id: a message sent
    again with the same id gets the first answer, and is never applied twice."""

    __tablename__ = "message_receipts"
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    received_at: Mapped[datetime]


metadata = Base.metadata


class Attachment(Base):
    """An uploaded file (ADR 0028): its bytes live in the blob store under `storage_key`.
    Unlinked (`ticket_id` None) until the action or form field that carries it is
    written, only its uploader may read it then, and the worker purges it after a day."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_unlinked", "created_at", "ticket_id"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # the display name, Unicode
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    linked_at: Mapped[datetime | None]
    # What carries it: "task" (an approve, reject or return of `task_id`), "note" (a
    # comment, `note_id`) or "field" (form field `field_key`); `action` names the verb.
    attached_to: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(Id)
    note_id: Mapped[str | None] = mapped_column(Id)
    field_key: Mapped[str | None] = mapped_column(String(100))


def table_of(cls: type[Base]) -> Table:
    """The Core table of a declarative class, typed as a Table for queries."""
    return cast(Table, cls.__table__)
