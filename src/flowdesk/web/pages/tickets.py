"""The ticket page (values, current steps, timeline, approve/reject) and my tickets list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from flowdesk.engines.files import AttachmentRefused
from flowdesk.engines.forms import FieldType, FormSpec
from flowdesk.engines.forms.messages import message as form_message
from flowdesk.engines.forms.parse import KEY_PATTERN as FIELD_KEY
from flowdesk.engines.process import parse_delay
from flowdesk.kernel.errors import (
    Conflict,
    ErrorDetail,
    FlowdeskError,
    Forbidden,
    ValidationFailed,
)
from flowdesk.services import (
    add_signs,
    apps,
    repairs,
    revocations,
    task_returns,
    ticket_export,
    tickets,
    views,
    withdrawals,
)
from flowdesk.services.auth import WebSession
from flowdesk.services.context import ServiceContext
from flowdesk.services.list_query import parse_list_query
from flowdesk.services.record_access import may_write
from flowdesk.services.task_steps import StepOutcome
from flowdesk.web import bpmn_assets
from flowdesk.web.copy_form import COPY_KINDS, mark_copy_read, may_copy
from flowdesk.web.decision_edits import edit_fields, is_edit, posted_edits
from flowdesk.web.forms import display_text, value_rows, with_links
from flowdesk.web.i18n import Locale
from flowdesk.web.pages.common import checked_id
from flowdesk.web.pages.list_page import fetch_page, list_page, read_query
from flowdesk.web.render import redirect, render, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession
from flowdesk.web.uploads import UPLOAD_FIELD, upload_files
from flowdesk.web.urge_button import urge_button

router = APIRouter()
PAGE_SIZE = 20
STATUS_FILTERS = ("running", "approved", "rejected", "cancelled", "revoked")
OUTCOMES = frozenset(
    {
        "ticket_approved",
        "ticket_rejected",
        "ticket_withdrawn",
        "ticket_cancelled",
        "ticket_revoked",  # 通过后撤销 (ADR 0042)
        "revoke_requested",
        "ticket_owner_changed",  # a hand-over gave the ticket to a new owner (ADR 0034)
    }
)
# A step with several approvers (会签, 或签, 依次, vote) shows its result, and the tasks
# closed by another approver's decision say whose it was.
DECISIONS = frozenset({"node_decided", "task_cancelled", "node_skipped", "error_thrown"})
REPAIR_KINDS = frozenset(  # ADR 0026, 0041
    {"ticket_jumped", "task_reassigned", "task_approver_removed", "ticket_migrated"}
)
# tasks closed by the engine that the timeline shows: by a decision on their step, and
# swept by an error or terminate end (ADR 0022); the others closed with their ticket
SHOWN_CANCELLATIONS = frozenset(
    {"node_decided", "error_thrown", "terminated", "message_received"}  # + a boundary message
)
# A service task's webhook: sent, or given up (the worker's notes, ADR 0024).
WEBHOOK_KINDS = frozenset({"webhook_sent", "webhook_failed"})
# Timers and messages (ADR 0023): a timer fired (reminded, escalated, decided), a task
# escalated, a message awaited or received, a timer that could not act.
TIMER_KINDS = frozenset(
    {
        "timer_fired",
        "task_escalated",
        "message_awaited",
        "message_received",
        "timer_failed",
        "wait_cancelled",  # after an event-based gateway, another event came first (ADR 0035)
    }
)
# Call activities (ADR 0033): a sub-ticket asked for, filed, finished, or not filed.
CALL_KINDS = frozenset({"child_called", "child_started", "child_ended", "call_failed"})
# What the approve/reject form posts; a value field would be an edit (refused, 422).
# The return's target and resubmit choice share the form (its 退回 button posts them).
DECISION_FIELDS = frozenset(
    {"csrf_token", "ticket_id", "comment", "target", "resubmit", UPLOAD_FIELD}
)


@dataclass(frozen=True)
class ValueChange:
    """One field an approver changed, as the form shows values; `recorded` is False for
    an event from before old and new values were kept (only the field is known)."""

    key: str
    label: str
    old: str
    new: str
    multiline: bool
    recorded: bool = True


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    node: str
    actor: str
    comment: str
    people: tuple[str, ...]
    minor: bool
    changes: tuple[ValueChange, ...] = ()
    decided_by: str = ""  # a task closed by this person's decision on its step
    tally: Mapping[str, int] | None = None  # a decided step: approved, rejected, required…
    returned_to: str = ""  # 退回: the applicant or the step the ticket went back to
    handed_to: str = ""  # 转交: the task's new holder
    handed_over_by: str = ""  # an administrator's hand-over of a leaver's tasks
    delegated_to: str = ""  # 委派: who was asked to work the task (ADR 0034)
    opinion: str = ""  # 委派: the delegate's advice when resolving (approve, reject)
    # the form values the decision saw (masked), for an auditor's look (ADR 0034)
    decided_values: tuple[Any, ...] = ()
    on_behalf_of: str = ""  # 代理: the person away whom the actor stood in for
    skipped: Mapping[str, str] | None = None  # a step passed without a person: reason, why
    add_sign: str = ""  # 加签: where the added signers decide (before, after, parallel)
    add_sign_mode: str = ""  # 加签: how they decide among themselves (any, all, sequential)
    repair: Mapping[str, Any] | None = None  # an admin repair's data (ADR 0026)
    error_code: str = ""  # an error end's code (ADR 0022)
    webhook: Mapping[str, Any] | None = None  # a webhook's delivery: host, status or error
    timer: Mapping[str, Any] | None = None  # a timer's or message's event (timer_view)
    attachments: tuple[Mapping[str, Any], ...] = ()  # files the action carried (ADR 0028)
    interrupted: bool = False  # a task a boundary message closed (ADR 0035)


@dataclass(frozen=True)
class ActionError:
    """Why an approve/reject did not happen, shown on the ticket page."""

    task_id: str
    code: str
    message: str
    # the field errors of values sent with the decision (ADR 0037), shown at their inputs
    fields: Mapping[str, str] = dataclass_field(default_factory=dict)

    @classmethod
    def of(cls, exc: FlowdeskError, task_id: str) -> ActionError:
        """The refusal as the page shows it: its first field error, else the problem."""
        detail = exc.errors[0] if exc.errors else None
        if detail is None:
            return cls(task_id, exc.code, exc.message)
        fields: dict[str, str] = {}
        for error in exc.errors:
            fields.setdefault(error.path, error.message)
        return cls(task_id, detail.code, detail.message, fields)


# Refusals shown above the page (the task closed meanwhile, the ticket busy); the others
# beside the form that was sent.
PAGE_ERRORS = frozenset({"task_not_open", "instance_finished", "ticket_busy"})
# 403s an approver is shown on the ticket page, with why (the others: the error page)
PAGE_FORBIDDEN = frozenset({"approved_before"})


def task_action(
    request: Request,
    ctx: ServiceContext,
    session: WebSession,
    *,
    task_id: str,
    ticket_id: str,
    run: Callable[[], StepOutcome],
    flash: str,
    error_key: str,
    typed: Mapping[str, Any] | None = None,
) -> Response:
    """Runs an action on open task `task_id` from the ticket page: on success the ticket
    with `flash`; refused, the page again, the reason at the form (`error_key`) or above
    the page, with what was typed (`typed`) kept."""
    try:
        result = run()
    except (Conflict, Forbidden, ValidationFailed) as exc:
        if not ticket_id:
            raise
        error = ActionError.of(exc, task_id)
        at_form = error.code not in PAGE_ERRORS
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            action_error=None if at_form else error,
            status=exc.status,
            extra={error_key: error if at_form else None, **(typed or {})},
        )
    return redirect(f"/tickets/{result.ticket_id}", flash=flash)


def _node_name(name: Mapping[str, str] | None, node_id: str | None, locale: Locale) -> str:
    if name:
        return name.get(locale) or name.get("en") or node_id or ""
    return node_id or ""


WHOM_KINDS = frozenset(
    {"task_add_sign", "task_remove_signer", "task_reassigned", "task_approver_removed"}
)


def _approved_at_once(kind: str, data: Mapping[str, object]) -> bool:
    """A task approved without its holder deciding: de-duplicated, or timed out (ADR 0041)."""
    return kind == "task_approved" and data.get("reason") in ("same_approver", "timer_fired")


def timeline_rows(view: views.TicketView, locale: Locale) -> list[TimelineRow]:
    people: dict[str, str] = {view.requester.id: view.requester.name}
    for task in view.tasks:
        people.update({p.id: p.name for p in task.assignees})
        if task.completed_by:
            people[task.completed_by.id] = task.completed_by.name
    holders = {task.id: tuple(p.name for p in task.assignees) for task in view.tasks}
    seen = {task.id: task.decided_values for task in view.tasks if task.decided_values}
    rows = []
    standing: dict[str, Mapping[str, str]] = {}  # task id -> delegate -> principal (代理)
    # What people did and the outcome it led to; the engine's passes (gateways, opened
    # tasks) stay in the event log, the audit and the API (by_person false).
    for entry in view.timeline:
        data = entry.data or {}
        decided_by = ""
        if entry.kind == "task_opened" and entry.task_id and data.get("on_behalf_of"):
            standing[entry.task_id] = data["on_behalf_of"]
            people.update(data.get("on_behalf_names") or {})
        if entry.kind == "task_cancelled":
            if data.get("reason") not in SHOWN_CANCELLATIONS:
                continue  # closed because the ticket ended: its outcome row says so
            by = str(data.get("decided_by") or "")
            decided_by = people.get(by, by)
        elif not (
            entry.by_person
            or entry.kind in OUTCOMES
            or entry.kind in DECISIONS
            or entry.kind in COPY_KINDS  # a CC node's copies (抄送), or its skip
            or entry.kind in WEBHOOK_KINDS
            or entry.kind in TIMER_KINDS
            or entry.kind in CALL_KINDS
        ):
            continue
        assigned = data.get("assignees") if entry.kind == "task_opened" else None
        if entry.kind == "ticket_urged":  # whom the urge reached
            assigned = data.get("users")
        if entry.kind in WHOM_KINDS:  # whom
            assigned = data.get("users")
        names = tuple(people.get(str(u), str(u)) for u in assigned or ())
        if entry.kind == "timer_fired":  # whom a reminder reached
            names = tuple(people.get(str(u), str(u)) for u in data.get("notified") or ())
        if entry.kind == "task_escalated":  # whom an escalation added
            names = tuple(people.get(str(u), str(u)) for u in data.get("added") or ())
        if entry.kind in COPY_KINDS:  # whom it copied (views names them)
            names = tuple(str(n) for n in data.get("names") or data.get("users") or ())
        if entry.kind == "task_cancelled" and entry.task_id:
            names = holders.get(entry.task_id, ())
        # 转交, and a hand-over of the ticket itself to a new owner (ADR 0034)
        transferred = entry.kind in ("task_transferred", "ticket_owner_changed")
        delegated = entry.kind == "task_delegated"
        resolved = entry.kind == "task_resolved"
        actor_id = entry.actor.id if entry.actor else ""
        principal = standing.get(entry.task_id or "", {}).get(actor_id)
        rows.append(
            TimelineRow(
                at=entry.at,
                kind=entry.kind,
                node=_node_name(entry.node_name, entry.node_id, locale),
                actor=entry.actor.name if entry.actor else "",
                comment=entry.comment or "",
                people=names,
                minor=entry.kind == "node_passed",
                changes=value_changes(view.form, entry.data, locale)
                if entry.kind == "values_changed"
                else (),
                decided_by=decided_by,
                tally=_tally(data) if entry.kind == "node_decided" else None,
                returned_to=_returned_to(data, locale) if entry.kind == "task_returned" else "",
                handed_to=_person(people, data.get("to")) if transferred else "",
                handed_over_by=str(data.get("by_name") or "") if transferred else "",
                delegated_to=_person(people, data.get("to")) if delegated else "",
                opinion=str(data.get("opinion") or "") if resolved else "",
                decided_values=tuple(value_rows(view.form, seen[entry.task_id], locale))
                if entry.kind in views.DECIDED_KINDS and entry.task_id in seen
                else (),
                on_behalf_of=_person(people, principal),
                skipped={
                    "reason": str(data.get("reason") or ""),
                    "condition": str(data.get("condition") or ""),
                }
                if entry.kind == "node_skipped" or _approved_at_once(entry.kind, data)
                else None,
                add_sign=str(data.get("position") or "") if entry.kind == "task_add_sign" else "",
                add_sign_mode=str(data.get("mode") or "") if entry.kind == "task_add_sign" else "",
                repair=data if entry.kind in REPAIR_KINDS else None,
                error_code=str(data.get("code") or "") if entry.kind == "error_thrown" else "",
                webhook=data if entry.kind in WEBHOOK_KINDS else None,
                timer=timer_view(data) if entry.kind in TIMER_KINDS else None,
                attachments=tuple(a for a in data.get("attachments") or () if isinstance(a, dict)),
                interrupted=entry.kind == "task_cancelled"
                and data.get("reason") == "message_received",
            )
        )
    return rows


def timer_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """A timer's or message's event as the timeline words it: the action, how long after
    (amount and unit: days, hours or minutes, working or calendar time), whether it was
    late (the worker was down) and how many repeats it missed."""
    view: dict[str, Any] = {
        "action": str(data.get("action") or ""),
        "held": bool(data.get("held")),
        "late": bool(data.get("late")),
        "missed": int(data.get("missed") or 0),
        "working": bool(data.get("working")),
        "name": str(data.get("name") or ""),
        "key": str(data.get("key") or ""),
        "code": str(data.get("code") or ""),
        "amount": "",
        "unit": "",
    }
    delay = parse_delay(data.get("after"))
    if delay is not None:
        if delay.days:
            view["amount"], view["unit"] = delay.days, "days"
        elif delay.seconds % 3600 == 0:
            view["amount"], view["unit"] = delay.seconds // 3600, "hours"
        elif delay.seconds % 1800 == 0:
            view["amount"], view["unit"] = f"{delay.seconds / 3600:g}", "hours"
        else:
            view["amount"], view["unit"] = delay.seconds // 60, "minutes"
    return view


def _person(people: Mapping[str, str], user_id: object) -> str:
    return people.get(str(user_id), str(user_id)) if user_id else ""


def _returned_to(data: Mapping[str, Any], locale: Locale) -> str:
    name = data.get("to_name")
    if isinstance(name, Mapping):
        return str(name.get(locale) or name.get("en") or data.get("to") or "")
    return str(data.get("to") or "")


def _tally(data: Mapping[str, Any]) -> dict[str, int]:
    keys = ("approved", "rejected", "required", "approvers")
    return {key: int(data.get(key) or 0) for key in keys}


def value_changes(
    form: FormSpec, data: Mapping[str, Any] | None, locale: Locale
) -> tuple[ValueChange, ...]:
    """A `values_changed` event's old and new values (free text already masked when it was
    recorded), labelled and formatted in the page's language like the ticket's details."""
    data = data or {}
    recorded = data.get("changes")
    if not isinstance(recorded, list):
        # Kept before old and new values were: the changed fields' names only.
        names = data.get("fields")
        fields = names if isinstance(names, list) else []
        return tuple(_change(form, str(key), None, None, locale, recorded=False) for key in fields)
    return tuple(
        _change(form, str(change.get("field", "")), change.get("old"), change.get("new"), locale)
        for change in recorded
        if isinstance(change, Mapping)
    )


def _change(
    form: FormSpec, key: str, old: object, new: object, locale: Locale, *, recorded: bool = True
) -> ValueChange:
    try:
        field = form.field(key)
    except KeyError:  # not in this version's form: shown by its key, values as kept
        return ValueChange(
            key, key, "" if old is None else str(old), "" if new is None else str(new), False
        )
    return ValueChange(
        key=key,
        label=field.label.get(locale),
        old=display_text(field, old, locale),
        new=display_text(field, new, locale),
        multiline=field.type is FieldType.LONG_TEXT,
        recorded=recorded,
    )


def ticket_page(
    request: Request,
    ctx: ServiceContext,
    session: WebSession,
    ticket_id: str,
    *,
    action_error: ActionError | None = None,
    comment: str = "",
    status: int = 200,
    extra: Mapping[str, Any] | None = None,
    on_open: Callable[[ServiceContext, WebSession, views.TicketView], None] | None = None,
    unmasked: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    locale = request_locale(request)
    view = views.ticket(
        ctx, session.actor, checked_id(ticket_id), locale=locale, with_decided_values=True
    )
    if on_open is not None:  # the viewer opened it: their copy (抄送) is read
        on_open(ctx, session, view)
    # A ticket returned to its applicant waits on their resubmission, not a decision.
    resubmit_task = task_returns.returned_task_id(session.actor, view)
    # A task waiting behind added signers (加签) is decided by nobody until they have.
    actionable = tuple(
        t for t in view.actionable_by(session.actor) if t.id != resubmit_task and not t.waiting
    )
    return_options = _return_options(ctx, session, actionable)
    # the fields each decision may change (ADR 0037), with the errors of a refused try
    edits = {
        t.id: edit_fields(
            view,
            t,
            locale,
            action_error.fields if action_error and action_error.task_id == t.id else None,
        )
        for t in actionable
    }
    return render(
        request,
        "ticket.html",
        {
            "ticket": view,
            # a record app's record (ADR 0038): its editors edit and delete it here
            "record_app": view.published is not None and view.published.spec.is_records,
            "record_writable": view.published is not None
            and may_write(session.actor, view.published),
            "rows": with_links(
                value_rows(
                    view.form,
                    view.values,
                    locale,
                    unmasked,
                    {a.id: (a.filename, a.size) for a in view.attachments if a.field_key},
                ),
                view.links,
                view.rollups,
                locale,
            ),
            # personal numbers in full (ADR 0027): offered to holders of the role
            "unmask_offered": _unmask_offered(session, view) and unmasked is None,
            "unmasked": unmasked is not None,
            "unmask_error": None,
            "open_tasks": view.open_tasks,
            "actionable": actionable,
            "return_options": return_options,
            "edits": edits,
            "app_key": view.app_key,  # the edit inputs' 大写 preview
            "resubmit_task": resubmit_task,
            "return_error": None,  # a return that failed (pages/ticket_returns.py)
            "return_target": "",
            "timeline": timeline_rows(view, locale),
            "timers": view.timers,  # still to fire (ADR 0023): "reminds in 3 hours"
            "bpmn_assets": bpmn_assets,
            "action_error": action_error,
            "comment": comment,
            "attachment_limit": ctx.attachments.policy.max_bytes if ctx.attachments else 0,
            "urge": urge_button(view, session.actor, ctx.clock.now(), ctx.urge_interval),
            "note_error": None,  # an urge or comment that failed (pages/ticket_notes.py)
            "note_text": "",
            "copy_shown": may_copy(view, session),  # 抄送 (pages/copies.py)
            "copy_error": None,
            "copy_users": "",
            "copy_note": "",
            "sign_cards": add_signs.sign_cards(ctx, session.actor, view),  # 加签 (ADR 0020)
            "add_sign_error": None,  # an add-sign or removal that failed (pages/add_signs.py)
            "add_sign_typed": {},
            "remove_sign_error": None,
            # 委派 (pages/delegate_task.py): the viewer's tasks delegated to someone
            "delegated_mine": tuple(t for t in view.actionable_by(session.actor) if t.delegated_to),
            "delegate_error": None,
            "delegate_typed": {},
            "transfer_error": None,  # a transfer that failed (pages/transfers.py)
            "transfer_to": "",
            "transfer_comment": "",
            # 撤回/撤销 (pages/withdrawals.py): what the viewer may withdraw or cancel
            "withdraw": withdrawals.options(session.actor, view),
            # 通过后撤销 (ADR 0042): the applicant may revoke their approved ticket now
            "revoke": revocations.may_revoke(ctx, session.actor, view),
            "withdraw_error": None,
            # admin repairs (pages/repairs.py, ADR 0026): None for anyone else
            "repair": repairs.options(ctx, session.actor, view),
            "repair_error": None,
            "repair_typed": {},
            "repair_problems": [],
            **(extra or {}),
        },
        status=status,
        session=session,
    )


def _unmask_offered(session: WebSession, view: views.TicketView) -> bool:
    if views.UNMASK_ROLE not in session.actor.roles:
        return False
    return any(f.personal and view.values.get(f.key) is not None for f in view.form.fields)


@router.post("/tickets/{ticket_id}/unmask")
def unmask(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, ticket_id: str
) -> Response:
    """The ticket page again with its personal numbers in full, for a holder of
    `personal_data_viewer` who gives a reason; the look is audited (views.unmask_values)."""
    locale = request_locale(request)
    checked_id(ticket_id)
    reason = form.get("reason")
    try:
        shown = views.unmask_values(
            ctx,
            session.actor,
            ticket_id,
            reason=reason if isinstance(reason, str) else "",
            locale=locale,
        )
    except ValidationFailed as refused:
        message = refused.errors[0].message if refused.errors else refused.message
        return ticket_page(
            request, ctx, session, ticket_id, status=422, extra={"unmask_error": message}
        )
    return ticket_page(request, ctx, session, ticket_id, unmasked=shown)


def _return_options(
    ctx: ServiceContext, session: WebSession, tasks: tuple[views.TaskView, ...]
) -> dict[str, task_returns.ReturnOptions]:
    """Where each of my open tasks may be returned (退回); a task closed since the page's
    read (someone decided it) offers none."""
    found = {}
    for task in tasks:
        try:
            found[task.id] = task_returns.return_options(ctx, session.actor, task.id)
        except FlowdeskError:
            continue
    return found


@router.get("/tickets/export")
def ticket_export_file(
    request: Request, ctx: Ctx, session: CurrentSession, scope: str = "mine", format: str = "xlsx"
) -> Response:
    """The list as shown (我发起 or all tickets, with the URL's filters) as XLSX or CSV."""
    chosen: views.TicketScope = "all" if scope == "all" else "mine"
    params = {
        k: v for k, v in request.query_params.items() if k not in ("scope", "format") and v != ""
    }
    query = parse_list_query(params, default_sort="created", default_limit=PAGE_SIZE)
    export = ticket_export.export_tickets(
        ctx,
        session.actor,
        query,
        scope=chosen,
        format="csv" if format == "csv" else "xlsx",
        locale=request_locale(request),
    )
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": export.content_disposition},
    )


@router.get("/tickets/{ticket_id}")
def ticket_detail(request: Request, ctx: Ctx, session: CurrentSession, ticket_id: str) -> Response:
    return ticket_page(request, ctx, session, ticket_id, on_open=mark_copy_read)


def _act(
    request: Request,
    ctx: ServiceContext,
    session: WebSession,
    form: CheckedForm,
    task_id: str,
    outcome: Literal["approve", "reject"],
) -> Response:
    locale = request_locale(request)
    checked_id(task_id, "task")
    edits = sorted(
        key
        for key in form
        if key not in DECISION_FIELDS and not (outcome == "approve" and is_edit(key))
    )
    if edits:
        # The decision form offers no value inputs: anything else posted is an attempt to
        # change the ticket while deciding, refused whole (nothing is decided either).
        refused = ValidationFailed(
            form_message("edits_refused", locale),
            [
                ErrorDetail(
                    _posted_path(key),
                    "field_not_editable",
                    form_message("field_not_editable", locale),
                )
                for key in edits
            ],
            "values_not_editable",
        )
        raw_ticket_id = form.get("ticket_id")
        if not isinstance(raw_ticket_id, str) or not raw_ticket_id:
            raise refused
        error = ActionError(task_id, "values_not_editable", refused.message)
        return ticket_page(request, ctx, session, raw_ticket_id, action_error=error, status=422)
    raw_comment = form.get("comment")
    comment = raw_comment if isinstance(raw_comment, str) else ""
    raw_ticket = form.get("ticket_id")
    ticket_id = raw_ticket if isinstance(raw_ticket, str) else ""
    if outcome == "reject" and not comment.strip():
        if not ticket_id:
            raise ValidationFailed("A reason is required to reject", code="comment_required")
        error = ActionError(task_id, "comment_required", "")
        return ticket_page(
            request, ctx, session, ticket_id, action_error=error, comment=comment, status=422
        )
    try:
        carried = upload_files(ctx, session, form, locale)
        result = tickets.complete_task(
            ctx,
            actor=session.actor,
            task_id=task_id,
            outcome=outcome,
            comment=comment,
            # the fields the step opens (ADR 0037), as the decision form posts them
            values=posted_edits(form) if outcome == "approve" else None,
            source="html",
            locale=locale,
            attachments=carried,
        )
    except (Conflict, ValidationFailed, Forbidden, AttachmentRefused) as exc:
        if not ticket_id or (isinstance(exc, Forbidden) and exc.code not in PAGE_FORBIDDEN):
            raise
        # A bad comment names the field error (too_long, invalid_characters), whose message
        # the service gave in the request's language; it is shown next to the comment box.
        return ticket_page(
            request,
            ctx,
            session,
            ticket_id,
            action_error=ActionError.of(exc, task_id),
            comment=comment,
            status=exc.status,
        )
    flash = "approved" if outcome == "approve" else "rejected"
    return redirect(f"/tickets/{result.ticket_id}", flash=flash)


def _posted_path(key: str) -> str:
    """The posted key as an error path, unless it could be personal data (not a field key)."""
    return key if FIELD_KEY.fullmatch(key) else "(unknown)"


@router.post("/tasks/{task_id}/approve")
def approve(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    return _act(request, ctx, session, form, task_id, "approve")


@router.post("/tasks/{task_id}/reject")
def reject(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, task_id: str
) -> Response:
    return _act(request, ctx, session, form, task_id, "reject")


@router.get("/tickets")
def ticket_list(
    request: Request, ctx: Ctx, session: CurrentSession, scope: str = "mine"
) -> Response:
    """我发起 (the tickets I filed) or, for those who may see every ticket, all of them."""
    chosen: views.TicketScope = "all" if scope == "all" else "mine"
    query, errors = read_query(
        request, ignore=("scope",), default_sort="created", page_size=PAGE_SIZE
    )
    page, errors = fetch_page(
        errors,
        lambda: views.ticket_list(
            ctx, session.actor, query, scope=chosen, locale=request_locale(request)
        ),
    )
    return list_page(
        request,
        session,
        query,
        errors,
        page,
        full="tickets.html",
        rows="_ticket_rows.html",
        extra={
            "scope": chosen,
            "sees_all": views.sees_all_tickets(session.actor),
            "apps": apps.list_apps(ctx),
            "statuses": STATUS_FILTERS,
            "base_params": {"scope": "all"} if chosen == "all" else {},
            "export_params": {
                **({"scope": "all"} if chosen == "all" else {}),
                **query.filter_params(),
            },
        },
    )
