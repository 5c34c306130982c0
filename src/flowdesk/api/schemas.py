"""Request and response shapes of the REST API. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def list_text(description: str) -> Any:
    # Text only, read and checked together by services/list_query.py: a bad value is a
    # 422 invalid_query naming every bad parameter, never a framework error per type.
    return Field(default=None, max_length=200, description=description)


class ListParams(BaseModel):
    """The query parameters of every list (/tickets, /tasks): filters, search, sort and
    page, declared once. Unknown and repeated parameters are refused (422)."""

    app: str | None = list_text("The ticket's app (its key), e.g. loan")
    status: str | None = list_text("The ticket's status: running, approved, rejected or cancelled")
    node: str | None = list_text("The step the ticket is at (its id), e.g. legal_review")
    assignee: str | None = list_text(
        "An open task of the ticket is held by this person: me or a username"
    )
    requester: str | None = list_text("The ticket was filed by this person: me or a username")
    department: str | None = list_text("The ticket was filed from this department (its code)")
    created_from: str | None = list_text("Filed on or after this day (YYYY-MM-DD, China time)")
    created_to: str | None = list_text("Filed on or before this day (YYYY-MM-DD, China time)")
    finished_from: str | None = list_text("Finished on or after this day (YYYY-MM-DD, China time)")
    finished_to: str | None = list_text("Finished on or before this day (YYYY-MM-DD, China time)")
    q: str | None = list_text(
        "Search the serial (or its start, e.g. LN-2026), the title and the text fields;"
        " Chinese words of two characters are found too"
    )
    sort: str | None = list_text(
        "created, updated or waiting (how long the current step has waited)"
    )
    order: str | None = list_text("desc (the default: newest or longest waiting first) or asc")
    cursor: str | None = list_text(
        "The next_cursor of the previous page; only valid with the sort and order it came with"
    )
    limit: str | None = list_text("Rows per page, 1 to 100 (default 50)")


class TicketListParams(ListParams):
    scope: Literal["visible", "mine", "all"] = Field(
        default="visible",
        description="visible: tickets the caller filed or works on (for administrators and"
        " auditors, every ticket); mine: those the caller filed (我发起); all: every ticket"
        " (administrators and auditors only)",
    )
    mine: bool = Field(default=False, description="The same as scope=mine")


class TicketExportParams(TicketListParams):
    format: Literal["xlsx", "csv"] = Field(
        default="xlsx",
        description="xlsx (typed cells) or csv (UTF-8 with BOM, for Excel)",
    )


class TaskListParams(ListParams):
    assignee: str | None = list_text(
        "Whose tasks: me (the default), or the username of another person: for"
        " administrators and auditors only (others get 403), e.g. to cover for someone on leave"
    )
    state: Literal["open", "done"] = Field(
        default="open",
        description="open: tasks waiting for a decision (待办); done: tasks decided (已办)",
    )


class TokenRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="api", min_length=1, max_length=100)


class TokenResponse(BaseModel):
    token: str
    token_type: str = "bearer"


class SubmitTicket(Strict):
    values: dict[str, Any]


class TaskAction(Strict):
    comment: str = Field(default="", max_length=2000)
    values: dict[str, Any] | None = Field(
        default=None,
        description="Changes to fields the task's step marks editable (ADR 0037; none in the"
        " bundled loan app); a read-only field is refused with 422 field_not_editable, one"
        " the step hides with 422 field_hidden, and nothing is decided. Every accepted change"
        " is kept with its old and new value.",
    )
    attachments: list[str] = Field(
        default=[],
        max_length=20,
        description="Ids from POST /attachments: the caller's own uploads, not yet attached"
        " (422 attachment_not_usable naming each other one); listed with the action in the"
        " timeline and downloadable by whoever may read the ticket",
    )


class PersonOut(BaseModel):
    id: str
    name: str


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    is_admin: bool
    roles: list[str]
    open_tasks: int


class FieldOut(BaseModel):
    key: str
    type: str
    label: dict[str, str]
    required: bool


class AppOut(BaseModel):
    key: str
    name: dict[str, str]
    category: str | None
    version: int


class AppDetailOut(AppOut):
    fields: list[FieldOut]
    nodes: list[dict[str, Any]] = Field(description="The process's nodes (none: a record app)")
    records: dict[str, list[str]] | None = Field(
        default=None,
        description="A record app's roles (ADR 0038): editors and readers; null for an app"
        " with a process",
    )


SERIAL = "The ticket's serial number, such as LN-2026-000123 (prefix, year, sequence)"


class SummaryOut(BaseModel):
    """One of the fields the app shows in list rows (its definition's `summary`)."""

    key: str
    label: dict[str, str]
    value: Any = Field(description="As stored: money and decimals as strings")
    text: str = Field(description="As people read it, in the language of Accept-Language")


class TaskOut(BaseModel):
    id: str
    ticket_id: str
    serial: str = Field(default="", description=SERIAL)
    node_id: str
    name: dict[str, str]
    state: str
    assignees: list[PersonOut]
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: PersonOut | None = None
    comment: str | None = None
    ticket_title: str | None = Field(
        default=None, description="The ticket's title in the language of Accept-Language"
    )
    ticket_subject: str | None = Field(
        default=None, description="What the ticket is about: its first filled text field"
    )
    ticket_status: str | None = None
    summary: list[SummaryOut] = Field(default_factory=list)
    waiting: bool = Field(
        default=False,
        description="加签: the task is open but waits for the signers added to it (every"
        " action on it is 409 waiting_for_added_signers); said in a ticket's tasks",
    )
    delegated_by: PersonOut | None = Field(
        default=None,
        description="委派: this is a delegate's task, working on this person's task; it is"
        " resolved (POST /tasks/{id}/resolve), never approved or rejected",
    )
    delegated_to: PersonOut | None = Field(
        default=None,
        description="委派: this task is delegated to this person; it waits (409"
        " task_delegated) until they resolve it, then its holder decides",
    )
    decided_values: dict[str, Any] | None = Field(
        default=None,
        description="The form values as they were when the task was decided (approved,"
        " rejected, returned, resolved, resubmitted), an approver's own edit included;"
        " personal numbers masked as in `values`. Only in a ticket's tasks; null for open"
        " tasks and for decisions made before flowdesk kept them",
    )


class EventOut(BaseModel):
    at: datetime
    kind: str
    node_id: str | None
    task_id: str | None = None
    node_name: dict[str, str] | None
    actor: PersonOut | None
    comment: str | None
    data: dict[str, Any] | None
    by_person: bool = Field(
        description="True for what people did (submitted, approved, rejected, changed"
        " values); false for the engine's own passes (gateways, opened tasks, a step's"
        " tally, tasks closed by another approver's decision, the outcome): the ticket"
        " page shows only the tallies and closures among those"
    )


TITLE = 'The app\'s name in the language of Accept-Language, " · ", then the subject'
SUBJECT = "What the ticket is about: its first filled text field, or empty"


class TimerOut(BaseModel):
    node_id: str = Field(description="The timer event (a boundary timer or a timer catch event)")
    attached_to: str = Field(description="The user task a boundary timer is on; empty otherwise")
    action: str = Field(
        description="remind, escalate, approve, reject, return, or empty (leaves by its flow)"
    )
    due_at: datetime = Field(description="When it fires (UTC), in working time where it says so")


class TicketAttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    attached_to: str = Field(description="task (an approve, reject or return) or note (a comment)")
    action: str = Field(description="approve, reject, return or comment")
    task_id: str | None
    note_id: str | None
    uploaded_by: str = Field(description="The uploader's user id")
    created_at: datetime


class LinkedTicketOut(BaseModel):
    id: str
    serial: str = Field(description=SERIAL)
    app: str
    status: str
    node_id: str = Field(description="The parent's call activity")


class LookupOut(BaseModel):
    key: str
    label: dict[str, str]
    text: str = Field(description="As shown (personal numbers masked)")


class LinkedRecordOut(BaseModel):
    id: str
    serial: str
    title: str
    status: str
    lookup: list[LookupOut] = Field(description="The link field's look-up fields, read live")


class TicketOut(BaseModel):
    id: str
    serial: str = Field(description=SERIAL)
    app: str
    app_version: int
    title: str = Field(description=TITLE)
    subject: str = Field(description=SUBJECT)
    status: str
    values: dict[str, Any] = Field(
        description="The form's values as stored, except personal numbers (resident ID,"
        " mobile, bank card), which are masked: 110***********002X, 138****5678,"
        " 622202*********0128. POST /tickets/{id}/unmask gives them in full to a permitted"
        " reader; sending a masked value back keeps the stored number."
    )
    requester: PersonOut
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    open_tasks: list[TaskOut]
    tasks: list[TaskOut]
    timeline: list[EventOut]
    timers: list[TimerOut] = Field(
        default_factory=list, description="Its timers still to fire, soonest first (ADR 0023)"
    )
    attachments: list[TicketAttachmentOut] = Field(
        description="Every file attached to the ticket's actions, in the order attached"
    )
    parent: LinkedTicketOut | None = Field(
        default=None, description="The ticket whose call activity filed this one (ADR 0033)"
    )
    children: list[LinkedTicketOut] = Field(
        default_factory=list, description="The tickets its call activities filed, in order"
    )
    links: dict[str, list[LinkedRecordOut]] = Field(
        default_factory=dict,
        description="Each link field's records (ADR 0038) with their look-ups, as they are now",
    )
    rollups: dict[str, str | None] = Field(
        default_factory=dict,
        description="Each roll-up field's value over its linked records now, as a decimal"
        " string (count: a whole number); null when there is nothing to aggregate",
    )


class CurrentStepOut(BaseModel):
    task_id: str
    node_id: str
    name: dict[str, str]
    holders: list[PersonOut]
    since: datetime


class TicketSummaryOut(BaseModel):
    id: str
    serial: str = Field(description=SERIAL)
    app: str
    title: str = Field(description=TITLE)
    subject: str = Field(description=SUBJECT)
    status: str
    requester: PersonOut
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    summary: list[SummaryOut]
    current: list[CurrentStepOut] = Field(description="The steps it waits at and who holds them")
    waiting_since: datetime | None = Field(
        description="Since when its longest-waiting current step waits; null when finished"
    )


class TicketPage(BaseModel):
    items: list[TicketSummaryOut]
    next_cursor: str | None


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class LinkOut(BaseModel):
    href: str
    title: str


class IndexOut(BaseModel):
    """What the API offers, as links: a client can start here."""

    name: str
    version: str
    links: dict[str, LinkOut]


class StepOut(BaseModel):
    ticket_id: str
    status: str
    opened_task_ids: list[str]


NOTIFICATION_KINDS = (
    "task_assigned: a task waits for you; ticket_approved / ticket_rejected: a ticket you"
    " filed finished; ticket_urged: the requester urges (催办) your open task (task_id);"
    " ticket_commented: someone commented on a ticket you filed or hold a task of;"
    " ticket_returned: a ticket was returned (退回) to you, its applicant or an earlier step's"
    " approver (task_id: your task); ticket_withdrawn / ticket_cancelled: the applicant"
    " withdrew (撤回) or cancelled (撤销) a ticket, or an approver withdrew an approval, and"
    " your open task of it was cancelled; task_transferred: a task was handed (转交) to you"
    "; task_delegated: a task was delegated (委派) to you to resolve; task_resolved: your"
    " delegated task was resolved and waits for your decision (task_id); ticket_handed_over:"
    " a leaver's ticket is yours now, as its applicant"
    "; ticket_copied: you were copied (抄送) on a ticket, by a CC node or a person"
    "; task_reminder: a timer reminds you of your open task (task_id); task_escalated: a"
    " timer escalated a task to you, beside its holder (task_id)"
)


class NotificationOut(BaseModel):
    id: str
    kind: str = Field(description=NOTIFICATION_KINDS)
    ticket_id: str | None
    task_id: str | None
    serial: str = Field(description=SERIAL + "; empty when the notification names no ticket")
    title: str = Field(description=TITLE)
    created_at: datetime
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(description="How many unread notifications the caller has in all")


NotificationId = Annotated[str, Field(pattern="^[0-9a-f]{32}$")]


class MarkRead(Strict):
    """Either the notifications to mark read (`ids`) or all of them (`all`: true)."""

    ids: list[NotificationId] | None = Field(default=None, min_length=1, max_length=100)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if (self.ids is None) == (not self.all):
            raise ValueError("give either 'ids' or 'all': true")
        return self


class MarkedOut(BaseModel):
    marked: int = Field(description="Notifications that were unread and are now read")


class ImportColumnOut(BaseModel):
    column: str = Field(description="The spreadsheet's column letter: A, B, …")
    header: str
    field: str | None = Field(description="The form field it fills; null: left out")


class ImportProblemOut(BaseModel):
    path: str = Field(description="rows[<row number>].<field key>, the row as Excel numbers it")
    code: str
    message: str


class TicketImportOut(BaseModel):
    app: str
    mode: Literal["all", "valid_rows"]
    dry_run: bool
    sha256: str
    columns: list[ImportColumnOut]
    rows: int = Field(description="Rows with any value (blank rows are skipped)")
    valid: int
    invalid: int
    errors: list[ImportProblemOut]
    errors_truncated: bool
    created: int
    ticket_ids: list[str] = Field(description="The first 1000 tickets filed")
