"""加签 (add signers before, after or in parallel) and 减签 (remove a pending added signer)
through the services: the engine's AddSigners and RemoveSigner, run on an open task like
every task action (services/task_steps: read and refused once, raced on the ticket's
version, written as one step with its audit entry), ADR 0020.

The holder of an open task names the people to add by username (active users only), where
they decide (before, after, parallel), how they decide among themselves (any, all,
sequential) and why. The added signers are notified (`task_assigned`) and the timeline
says who added whom; the audit entry `task.add_sign` keeps the same. Who added them
removes pending ones (`task.remove_signer`). How deep add-signs nest is the setting
`FLOWDESK_TICKETS__ADD_SIGN_DEPTH` (default 1: an added signer cannot add again).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.process import (
    AddSign,
    AddSigners,
    InstanceState,
    RemoveSigner,
    load_state,
    step,
)
from flowdesk.engines.process.add_sign import (
    GROUP_MODES,
    MAX_SIGNERS,
    POSITIONS,
    added_to,
    waiting,
)
from flowdesk.engines.process.delegate_task import DELEGATE
from flowdesk.kernel.errors import ErrorDetail, Forbidden, ValidationFailed
from flowdesk.services import people
from flowdesk.services.context import ServiceContext
from flowdesk.services.task_steps import (
    StepOutcome,
    event,
    open_task_row,
    raced,
    step_context,
    task_step,
)
from flowdesk.services.tickets import MAX_COMMENT
from flowdesk.services.views import TicketView
from flowdesk.store import org as org_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import read_document
from flowdesk.store.steps import AuditRecord, StepWrite


@dataclass(frozen=True)
class Person:
    user_id: str
    username: str


@dataclass(frozen=True)
class SignView:
    """What a task's page shows of 加签: whether it waits behind added signers, the ones
    its holder added (pending or approved, for 减签), and whether it is itself an added
    signer's task."""

    waiting: bool
    position: str = ""
    mode: str = ""
    by: str = ""  # user id of who added them
    pending: tuple[str, ...] = ()  # user ids, in order
    approved: tuple[str, ...] = ()
    added: bool = False  # the task is an added signer's


def sign_view(state: InstanceState | None, task_id: str) -> SignView:
    """The add-sign facts of open task `task_id` (all empty for a plain task)."""
    if state is None:
        return SignView(False)
    sign: AddSign | None = state.signs.get(task_id)
    added = added_to(state, task_id) is not None
    if sign is None:
        return SignView(False, added=added)
    pending = tuple(user for user in sign.signers if user not in sign.approved)
    return SignView(
        waiting(state, task_id),
        sign.position,
        sign.mode,
        sign.by,
        pending,
        sign.approved,
        added,
    )


@dataclass(frozen=True)
class Signer:
    id: str
    username: str  # what 减签 names them by
    name: str  # display name


@dataclass(frozen=True)
class SignCard:
    """One of the viewer's open tasks with signers they added (the ticket page's 加签 card):
    whether it waits behind them, and the pending signers they may remove (减签)."""

    task_id: str
    node_name: dict[str, str]
    waiting: bool
    position: str
    mode: str
    pending: tuple[Signer, ...]
    removable: bool  # the viewer added them


def sign_cards(ctx: ServiceContext, actor: Actor, view: TicketView) -> tuple[SignCard, ...]:
    """The 加签 cards of `actor`'s open tasks on the ticket `view` shows; none (and no
    read) for a ticket without add-signs."""
    mine = [task for task in view.actionable_by(actor) if task.signed]
    if not mine:  # the view knows: nothing to read
        return ()
    with ctx.db.read() as conn:
        row = tickets_store.ticket_by_id(conn, view.id)
        data = read_document(row.state) if row is not None else None
        if not isinstance(data, dict) or "signs" not in data:
            return ()
        state = load_state(data)
        found = [  # 委派 (ADR 0034) has a card of its own
            (task, sign_view(state, task.id))
            for task in mine
            if task.id in state.signs and state.signs[task.id].position != DELEGATE
        ]
        names = org_store.display_names(conn, [u for _, v in found for u in v.pending])
        usernames = {}
        for user_id in {u for _, v in found for u in v.pending}:
            user = org_store.user_by_id(conn, user_id)
            usernames[user_id] = str(user.username) if user is not None else user_id
    return tuple(
        SignCard(
            task.id,
            task.name,
            sign.waiting,
            sign.position,
            sign.mode,
            tuple(Signer(u, usernames[u], names.get(u, u)) for u in sign.pending),
            sign.by == actor.user_id,
        )
        for task, sign in found
    )


def _people(conn: Connection, usernames: object) -> tuple[Person, ...]:
    """The active people `usernames` names (a list, or one comma/space-separated text),
    in order, or a 422 on `users` naming the first bad one."""
    if isinstance(usernames, str):
        usernames = usernames.replace(",", " ").replace("，", " ").split()
    if not isinstance(usernames, list | tuple) or not all(isinstance(u, str) for u in usernames):
        raise ValidationFailed(
            "users is a list of usernames",
            [ErrorDetail("users", "invalid_type", "A list of usernames")],
            code="add_signers_required",
        )
    names = list(dict.fromkeys(name.strip().lower()[:64] for name in usernames if name.strip()))
    if not names:
        raise ValidationFailed(
            "Name at least one person",
            [ErrorDetail("users", "required", "Name at least one person")],
            code="add_signers_required",
        )
    if len(names) > MAX_SIGNERS:
        raise ValidationFailed(
            f"At most {MAX_SIGNERS} people at once",
            [ErrorDetail("users", "too_many", f"At most {MAX_SIGNERS} people")],
            code="too_many_signers",
        )
    found = []
    for name in names:
        row = people.active(conn, name, "users")
        found.append(Person(str(row.id), str(row.username)))
    return tuple(found)


def _choice(value: object, choices: tuple[str, ...], field: str, code: str) -> str:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(choices)
        raise ValidationFailed(
            f"{field} is one of {listed}",
            [ErrorDetail(field, "invalid_choice", f"Choose {listed}")],
            code=code,
        )
    return value


def add_signers(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    users: object,
    position: object,
    mode: object = "all",
    comment: str = "",
    locale: str = "en",
) -> StepOutcome:
    """加签 on open task `task_id`: `users` (usernames) decide `position` the holder, among
    themselves by `mode`; `comment` is the reason (and, after, the holder's approval)."""
    chosen = _choice(position, POSITIONS, "position", "invalid_add_sign_position")
    group = _choice(mode, GROUP_MODES, "mode", "invalid_add_sign_mode")
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(
        ctx,
        lambda conn: _add_once(ctx, conn, actor, task_id, users, chosen, group, comment),
    )


def _add_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    task_id: str,
    users: object,
    position: str,
    mode: str,
    comment: str,
) -> tuple[StepWrite, StepOutcome]:
    row, state = open_task_row(conn, actor, task_id)
    people = _people(conn, users)
    if any(person.user_id == row.requester_id for person in people):  # maker-checker
        raise Forbidden("The applicant cannot decide their own ticket", "self_approval")
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        state,
        AddSigners(
            task_id,
            actor.user_id,
            tuple(person.user_id for person in people),
            position,  # type: ignore[arg-type]  # checked against POSITIONS
            mode,  # type: ignore[arg-type]  # checked against GROUP_MODES
            comment,
            ctx.add_sign_depth,
            values=row.values,
        ),
        step_context(ctx, conn, app, row),
    )
    usernames = [person.username for person in people]
    return task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.add_sign",
            details={
                "task": task_id,
                "node": row.node_id,
                "users": usernames,
                "position": position,
                "mode": mode,
                "reason": comment,
            },
        ),
        first_event=event(
            "task_add_sign",
            actor_id=actor.user_id,
            node_id=row.node_id,
            task_id=task_id,
            comment=comment or None,
            data={
                "users": [person.user_id for person in people],
                "position": position,
                "mode": mode,
            },
        ),
    )


def remove_signers(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    users: object,
    comment: str = "",
    locale: str = "en",
) -> StepOutcome:
    """减签: who added signers to open task `task_id` removes pending ones (usernames)."""
    comment = clean_comment(comment, max_length=MAX_COMMENT, locale=locale)
    return raced(ctx, lambda conn: _remove_once(ctx, conn, actor, task_id, users, comment))


def _remove_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    task_id: str,
    users: object,
    comment: str,
) -> tuple[StepWrite, StepOutcome]:
    row, state = open_task_row(conn, actor, task_id)
    people = _people(conn, users)
    app = ctx.apps.version(conn, row.app_version_id)
    result = step(
        app.spec.process,
        state,
        RemoveSigner(
            task_id,
            actor.user_id,
            tuple(person.user_id for person in people),
            comment,
            values=row.values,
        ),
        step_context(ctx, conn, app, row),
    )
    return task_step(
        app,
        row,
        result,
        ctx.clock.now(),
        AuditRecord(
            actor=actor.username,
            action="task.remove_signer",
            details={
                "task": task_id,
                "node": row.node_id,
                "users": [person.username for person in people],
                "reason": comment,
            },
        ),
        first_event=event(
            "task_remove_signer",
            actor_id=actor.user_id,
            node_id=row.node_id,
            task_id=task_id,
            comment=comment or None,
            data={"users": [person.user_id for person in people]},
        ),
    )
