"""Admin repairs of running tickets (ADR 0026): jump a ticket to a step, reassign any open
task, cancel a ticket, migrate selected tickets to a newer version of their app.

Only for administrators and process admins (`ticket.repair`); every repair is one step
through services/task_steps (one transaction, raced on the ticket's version, its audit
entry in the same transaction), so a jump racing an approval has exactly one winner. The
timeline names the admin ("moved to X by admin Y"). A migration checks the whole mapping
against every selected ticket before anything changes and answers with every problem
(422); then each ticket moves in its own transaction, re-checked there: a ticket that
moved meanwhile so that the mapping no longer fits is left on its version and reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.forms import clean_comment
from flowdesk.engines.forms.compat import form_problems
from flowdesk.engines.process import (
    InstanceState,
    ProcessSpec,
    StepResult,
    TaskClosed,
    load_state,
)
from flowdesk.engines.process import repair as engine
from flowdesk.engines.process.repair_remove import REMOVABLE_MODES
from flowdesk.engines.process.repair_remove import remove_approver as remove_approver_step
from flowdesk.kernel.errors import (
    Conflict,
    ErrorDetail,
    FlowdeskError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.services import people, views
from flowdesk.services.context import ServiceContext
from flowdesk.services.delegations import ON_BEHALF
from flowdesk.services.registry import PublishedApp
from flowdesk.services.task_steps import (
    StepOutcome,
    event,
    new_step_context,
    raced,
    step_context,
    task_step,
)
from flowdesk.services.tickets import MAX_COMMENT
from flowdesk.store import apps as apps_store
from flowdesk.store import repairs as repairs_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.sql import read_document
from flowdesk.store.steps import AuditRecord, StepWrite
from flowdesk.store.tickets import TaskForStep

MOVED_NOTICE = "task_moved"  # to the holders of tasks a jump or a reassign closed
CANCELLED_NOTICE = "ticket_cancelled"  # to those of tasks an admin cancel closed
MAX_MIGRATE = 500  # tickets per migration request; more are migrated in further requests


def may_repair(actor: Actor) -> bool:
    return bool(decide(actor, "ticket.repair"))


def _check(actor: Actor) -> None:
    if not may_repair(actor):
        raise Forbidden("Only administrators and process admins repair tickets", "not_repair_admin")


def _open_row(conn: Connection, ticket_id: str) -> TaskForStep | None:
    """The ticket as a step reads it, through one of its open tasks (a running ticket
    always has one)."""
    for task in tickets_store.tasks_of_ticket(conn, ticket_id):
        if task.state == "open":
            return tickets_store.task_for_step(conn, task.id)
    # a ticket whose tokens all wait at timer or message events has no open task (ADR 0023)
    return tickets_store.ticket_for_step(conn, ticket_id)


def _ticket_row(
    ctx: ServiceContext, conn: Connection, ticket_id: str
) -> tuple[TaskForStep, InstanceState, PublishedApp]:
    ticket = tickets_store.ticket_by_id(conn, ticket_id)
    if ticket is None:
        raise NotFound("Ticket not found", "ticket_not_found")
    row = _open_row(conn, ticket_id) if ticket.status == "running" else None
    if row is None:
        raise Conflict("The ticket has finished; it cannot be repaired", "ticket_not_running")
    return row, load_state(row.ticket_state), ctx.apps.version(conn, row.app_version_id)


def _reason(comment: str, locale: str, *, required: bool = False) -> str:
    return clean_comment(comment, max_length=MAX_COMMENT, locale=locale, required=required)


def _closed(result: StepResult) -> list[TaskClosed]:
    return [e for e in result.effects if isinstance(e, TaskClosed) and e.reason]


def _tell_holders(
    conn: Connection, write: StepWrite, closed: list[TaskClosed], actor: Actor, kind: str
) -> None:
    """The holders of the tasks a repair closed hear of it (the admin never of their own)."""
    holders = tickets_store.assignees_of(conn, [c.task_id for c in closed])
    seen: set[str] = set()
    for c in closed:
        for user_id in holders.get(c.task_id, ()):
            if user_id != actor.user_id and user_id not in seen:
                seen.add(user_id)
                write.notices.append({"user_id": user_id, "kind": kind, "task_id": c.task_id})


# --- jump ---------------------------------------------------------------------------------


def _admin_step(
    ctx: ServiceContext,
    app: PublishedApp,
    row: TaskForStep,
    result: StepResult,
    actor: Actor,
    action: str,
    details: dict[str, Any],
    kind: str | None = None,
    *,
    comment: str = "",
    data: dict[str, Any] | None = None,
    **where: str,
) -> tuple[StepWrite, StepOutcome]:
    """The step of an admin repair: audited as `action` with the reason, and (given `kind`)
    its first timeline event says who did it, by name, and why."""
    first = None
    if kind is not None:
        first = event(
            kind,
            actor_id=actor.user_id,
            comment=comment or None,
            data={**(data or {}), "by_name": actor.display_name},
            **where,
        )
    audit = AuditRecord(actor=actor.username, action=action, details={**details, "reason": comment})
    return task_step(app, row, result, ctx.clock.now(), audit, first_event=first)


def jump(
    ctx: ServiceContext,
    *,
    actor: Actor,
    ticket_id: str,
    node: str,
    comment: str = "",
    open_tasks: Sequence[str] | None = None,
    locale: str = "en",
) -> StepOutcome:
    """Moves running ticket `ticket_id` to user task `node`: its open tasks close ("moved
    by admin X") and `node` opens with its approvers resolved as usual. `open_tasks`, the
    open task ids the admin saw, makes it refuse (409 `ticket_changed`) a ticket that moved
    on meanwhile: of a jump and an approval racing, exactly one wins."""
    _check(actor)
    comment = _reason(comment, locale)
    seen = None if open_tasks is None else frozenset(open_tasks)
    return raced(ctx, lambda conn: _jump_once(ctx, conn, actor, ticket_id, node, comment, seen))


def _jump_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    ticket_id: str,
    node: str,
    comment: str,
    seen: frozenset[str] | None,
) -> tuple[StepWrite, StepOutcome]:
    row, state, app = _ticket_row(ctx, conn, ticket_id)
    if seen is not None and seen != frozenset(state.tasks):
        raise Conflict(
            "The ticket moved on since you looked at it; look again before moving it",
            "ticket_changed",
        )
    result = engine.jump(
        app.spec.process, state, node, actor.user_id, step_context(ctx, conn, app, row)
    )
    closed = _closed(result)
    moved_from = sorted({c.node_id for c in closed})
    write, outcome = _admin_step(
        ctx,
        app,
        row,
        result,
        actor,
        "ticket.jump",
        {"ticket": ticket_id, "to": node, "from": moved_from},
        "ticket_jumped",
        comment=comment,
        data={"from": moved_from},
        node_id=node,
    )
    _tell_holders(conn, write, closed, actor, MOVED_NOTICE)
    return write, outcome


# --- reassign -----------------------------------------------------------------------------


def reassign(
    ctx: ServiceContext,
    *,
    actor: Actor,
    task_id: str,
    to: list[str],
    comment: str = "",
    locale: str = "en",
) -> StepOutcome:
    """Gives open task `task_id` to the active users named `to` (usernames), in its holders'
    place; the applicant is never made an approver of their own ticket (403)."""
    _check(actor)
    comment = _reason(comment, locale)
    return raced(ctx, lambda conn: _reassign_once(ctx, conn, actor, task_id, to, comment))


def _reassign_once(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    task_id: str,
    to: list[str],
    comment: str,
) -> tuple[StepWrite, StepOutcome]:
    row = tickets_store.task_for_step(conn, task_id)
    if row is None:
        raise NotFound("Task not found", "task_not_found")
    if row.state != "open" or row.ticket_status != "running":
        raise Conflict("The task is no longer open", "task_not_open")
    if not to:
        raise ValidationFailed(
            "Name at least one person",
            [ErrorDetail("to", "required", "Name at least one person")],
            code="assignees_required",
        )
    found = [people.active(conn, name, f"to[{i}]") for i, name in enumerate(to)]
    ids = tuple(str(person.id) for person in found)
    if row.requester_id in ids:
        raise Forbidden("The applicant cannot decide their own ticket", "self_approval")
    app = ctx.apps.version(conn, row.app_version_id)
    state = load_state(row.ticket_state)
    before = state.tasks.get(task_id)
    step_ctx = step_context(ctx, conn, app, row)
    result = engine.reassign(
        app.spec.process, state, task_id, ids, actor.user_id, step_ctx.new_id()
    )
    write, outcome = _admin_step(
        ctx,
        app,
        row,
        result,
        actor,
        "task.reassign",
        {"task": task_id, "node": row.node_id, "to": [str(p.username) for p in found]},
        "task_reassigned",
        comment=comment,
        data={"users": list(ids), "from": list(before.assignees) if before else []},
        node_id=row.node_id,
        task_id=task_id,
    )
    _tell_holders(conn, write, _closed(result), actor, MOVED_NOTICE)
    return write, outcome


# --- remove a pending 会签 approver (APPROVALS.md edge case 12, ADR 0041) -------------------


def remove_approver(
    ctx: ServiceContext, *, actor: Actor, task_id: str, comment: str = "", locale: str = "en"
) -> StepOutcome:
    """Removes the pending approver of open task `task_id` from its 会签 or vote; the node
    is decided at once when the approvals given are then enough."""
    _check(actor)
    comment = _reason(comment, locale)
    return raced(ctx, lambda conn: _remove_once(ctx, conn, actor, task_id, comment))


def _remove_once(
    ctx: ServiceContext, conn: Connection, actor: Actor, task_id: str, comment: str
) -> tuple[StepWrite, StepOutcome]:
    row = tickets_store.task_for_step(conn, task_id)
    if row is None:
        raise NotFound("Task not found", "task_not_found")
    if row.state != "open" or row.ticket_status != "running":
        raise Conflict("The task is no longer open", "task_not_open")
    app = ctx.apps.version(conn, row.app_version_id)
    state = load_state(row.ticket_state)
    before = state.tasks.get(task_id)
    step_ctx = step_context(ctx, conn, app, row)
    result = remove_approver_step(
        app.spec.process, state, task_id, actor.user_id, dict(row.values), step_ctx
    )
    removed = list(before.assignees) if before else []
    write, outcome = _admin_step(
        ctx,
        app,
        row,
        result,
        actor,
        "task.remove_approver",
        {"task": task_id, "node": row.node_id, "removed": removed},
        "task_approver_removed",
        comment=comment,
        data={"users": removed},
        node_id=row.node_id,
        task_id=task_id,
    )
    _tell_holders(conn, write, _closed(result), actor, MOVED_NOTICE)
    return write, outcome


# --- cancel -------------------------------------------------------------------------------


def cancel(
    ctx: ServiceContext, *, actor: Actor, ticket_id: str, comment: str, locale: str = "en"
) -> StepOutcome:
    """Ends running ticket `ticket_id`, as the applicant's 撤销 but by an admin, who must say
    why: every open task is cancelled and the status is cancelled."""
    _check(actor)
    comment = _reason(comment, locale, required=True)
    return raced(ctx, lambda conn: _cancel_once(ctx, conn, actor, ticket_id, comment))


def _cancel_once(
    ctx: ServiceContext, conn: Connection, actor: Actor, ticket_id: str, comment: str
) -> tuple[StepWrite, StepOutcome]:
    row, state, app = _ticket_row(ctx, conn, ticket_id)
    result = engine.cancel(state, actor.user_id)
    closed = _closed(result)
    write, outcome = _admin_step(
        ctx,
        app,
        row,
        result,
        actor,
        "ticket.admin_cancel",
        {"ticket": ticket_id, "cancelled": [c.node_id for c in closed]},
        comment=comment,
    )
    for entry in write.events:
        if entry["kind"] == "ticket_cancelled":  # who cancelled, why, and as an admin
            entry["actor_id"] = actor.user_id
            entry["comment"] = comment
            entry["data"] = {"by_admin": True, "by_name": actor.display_name}
    _tell_holders(conn, write, closed, actor, CANCELLED_NOTICE)
    return write, outcome


# --- migrate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """What a migration did: the tickets moved, and those left with a reason each."""

    version: int
    moved: tuple[str, ...]
    left: tuple[tuple[str, str], ...]  # (ticket id, error code)


def migrate(
    ctx: ServiceContext,
    *,
    actor: Actor,
    ticket_ids: list[str],
    version: int,
    mapping: Mapping[str, str],
    comment: str = "",
    locale: str = "en",
) -> Migration:
    """Moves running tickets `ticket_ids` (one app's) to its published `version` with
    `mapping` {old node id: new node id}. Checked first, for every ticket: a 422 listing
    every problem, nothing changed; then each ticket moves in its own step."""
    _check(actor)
    comment = _reason(comment, locale)
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise ValidationFailed(
            "Choose the tickets to migrate",
            [ErrorDetail("ticket_ids", "required", "Choose at least one ticket")],
            code="tickets_required",
        )
    if len(ids) > MAX_MIGRATE:
        raise ValidationFailed(
            f"At most {MAX_MIGRATE} tickets per migration",
            [ErrorDetail("ticket_ids", "too_many", f"At most {MAX_MIGRATE} tickets")],
            code="too_many_tickets",
        )
    with ctx.db.read() as conn:
        target = _check_all(ctx, conn, ids, version, mapping)
    moved: list[str] = []
    left: list[tuple[str, str]] = []
    for ticket_id in ids:
        try:
            raced(
                ctx,
                partial(
                    _migrate_once,
                    ctx,
                    actor=actor,
                    ticket_id=ticket_id,
                    target=target,
                    mapping=mapping,
                    comment=comment,
                ),
            )
        except FlowdeskError as exc:  # it changed since the check: reported, not forced
            left.append((ticket_id, exc.errors[0].code if exc.errors else exc.code))
        else:
            moved.append(ticket_id)
    return Migration(target.version, tuple(moved), tuple(left))


def _check_all(
    ctx: ServiceContext,
    conn: Connection,
    ids: list[str],
    version: int,
    mapping: Mapping[str, str],
) -> PublishedApp:
    """The target version, once every ticket was found to fit it; else a 422 naming every
    problem of every ticket (paths `ticket_ids[i]` and `mapping.<old node>`)."""
    found = repairs_store.running_ticket_ids(conn, ids)
    problems: list[ErrorDetail] = []
    app_ids: set[str] = set()
    for i, ticket_id in enumerate(ids):
        if ticket_id not in found:
            problems.append(
                ErrorDetail(f"ticket_ids[{i}]", "ticket_not_found", f"No ticket '{ticket_id}'")
            )
            continue
        status, version_id = found[ticket_id]
        if status != "running":
            problems.append(
                ErrorDetail(f"ticket_ids[{i}]", "ticket_not_running", f"{ticket_id}: finished")
            )
            continue
        app_ids.add(ctx.apps.version(conn, version_id).app_id)
    if len(app_ids) > 1:
        problems.append(
            ErrorDetail("ticket_ids", "several_apps", "The tickets belong to different apps")
        )
    if problems or not app_ids:
        raise ValidationFailed("The tickets cannot be migrated", problems, "migration_invalid")
    target = _version(ctx, conn, app_ids.pop(), version)
    for i, ticket_id in enumerate(ids):
        row, state, app = _ticket_row(ctx, conn, ticket_id)
        problems.extend(_problems(ctx, conn, i, row, state, app, target, mapping))
    if problems:
        raise ValidationFailed(
            "The mapping does not fit every ticket; nothing was changed",
            problems,
            "migration_invalid",
        )
    return target


def _version(ctx: ServiceContext, conn: Connection, app_id: str, version: int) -> PublishedApp:
    for row in apps_store.versions_of(conn, app_id):
        if row.version == version:
            return ctx.apps.version(conn, str(row.id))
    raise ValidationFailed(
        f"The app has no published version {version}",
        [ErrorDetail("version", "version_not_found", f"No version {version}")],
        code="version_not_found",
    )


def _problems(
    ctx: ServiceContext,
    conn: Connection,
    i: int,
    row: TaskForStep,
    state: InstanceState,
    app: PublishedApp,
    target: PublishedApp,
    mapping: Mapping[str, str],
) -> list[ErrorDetail]:
    """Every reason ticket `row` cannot move to `target`, its migration run dry (so a step
    nobody can be assigned to in the new version is found now, not half-way)."""
    serial = f"ticket_ids[{i}]"
    if target.version <= app.version:
        return [
            ErrorDetail(
                serial,
                "version_not_newer",
                f"{row.ticket_id} runs version {app.version}; migrate only to a newer one",
            )
        ]
    found = [
        ErrorDetail(
            f"mapping.{p.node}" if p.node else serial, p.code, f"{row.ticket_id}: {p.message}"
        )
        for p in engine.migration_problems(app.spec.process, target.spec.process, state, mapping)
    ]
    found.extend(
        ErrorDetail(serial, p.code, f"{row.ticket_id}: {p.message}")
        for p in form_problems(app.spec.form, target.spec.form, row.values)
    )
    if found:
        return found
    try:
        engine.migrate(
            app.spec.process,
            target.spec.process,
            state,
            mapping,
            "",
            new_step_context(ctx, conn, target, row.requester_id, row.org_generation),
        )
    except FlowdeskError as exc:
        return [ErrorDetail(serial, exc.code, f"{row.ticket_id}: {exc.message}")]
    finally:
        conn.info.pop(ON_BEHALF, None)
    return []


def _migrate_once(
    ctx: ServiceContext,
    conn: Connection,
    *,
    actor: Actor,
    ticket_id: str,
    target: PublishedApp,
    mapping: Mapping[str, str],
    comment: str,
) -> tuple[StepWrite, StepOutcome]:
    row, state, app = _ticket_row(ctx, conn, ticket_id)
    problems = _problems(ctx, conn, 0, row, state, app, target, mapping)
    if problems:
        raise ValidationFailed(
            "The mapping no longer fits the ticket", problems, "migration_invalid"
        )
    result = engine.migrate(
        app.spec.process,
        target.spec.process,
        state,
        mapping,
        actor.user_id,
        new_step_context(ctx, conn, target, row.requester_id, row.org_generation),
    )
    used = {
        a.node_id: mapping[a.node_id] for a in state.activations.values() if a.node_id in mapping
    }
    versions = {"from_version": app.version, "to_version": target.version, "mapping": used}
    write, outcome = _admin_step(
        ctx,
        target,
        row,
        result,
        actor,
        "ticket.migrate",
        {"ticket": ticket_id, **versions},
        "ticket_migrated",
        comment=comment,
        data=versions,
    )
    # the new tasks' step (written next) bumps the version this guards
    repairs_store.move_to_version(
        conn,
        ticket_id=ticket_id,
        expected_version=row.version,
        app_version_id=target.version_id,
    )
    return write, outcome


# --- the ticket page ----------------------------------------------------------------------


@dataclass(frozen=True)
class JumpTarget:
    node_id: str
    name: Mapping[str, str]


@dataclass(frozen=True)
class MappedNode:
    """A step holding a token, the new version's user tasks it may map to, and the one
    proposed (the step of the same id, if the new version has one as a user task)."""

    node_id: str
    name: Mapping[str, str]
    choices: tuple[JumpTarget, ...]
    proposed: str


@dataclass(frozen=True)
class MigrationOffer:
    """Moving this ticket to its app's newest published version, when it is newer."""

    version: int
    nodes: tuple[MappedNode, ...]


@dataclass(frozen=True)
class RepairOptions:
    """What the ticket page's admin section offers: the steps a jump may land on (all
    but the one the single token rests at), the open tasks to reassign, and a move to
    the app's newest version (None: the ticket runs it)."""

    targets: tuple[JumpTarget, ...]
    tasks: tuple[views.TaskView, ...]
    migration: MigrationOffer | None = None
    # the open tasks whose approver can be removed from a 会签 or vote (ADR 0041)
    removable: frozenset[str] = frozenset()


def _names(process: ProcessSpec, node_id: str) -> dict[str, str]:
    return {loc: process.nodes[node_id].label(loc) for loc in ("en", "zh")}


def options(ctx: ServiceContext, actor: Actor, view: views.TicketView) -> RepairOptions | None:
    """None for anyone who may not repair tickets, or a ticket that is not running."""
    if not may_repair(actor) or view.status != "running" or view.published is None:
        return None
    process = view.published.spec.process
    state = load_state(read_document(view.state)) if view.state is not None else None
    here = {a.node_id for a in state.activations.values()} if state is not None else set()
    targets = tuple(
        JumpTarget(node_id, _names(process, node_id))
        for node_id in engine.jump_targets(process)
        if here != {node_id}
    )
    start = process.index.start.id
    tasks = tuple(t for t in view.open_tasks if t.node_id != start)
    removable = frozenset(
        task_id
        for task_id, task in (state.tasks.items() if state is not None else ())
        if state is not None
        and state.activations[task.activation_id].mode in REMOVABLE_MODES
        and task_id not in state.signs
        and not any(task_id in sign.children for sign in state.signs.values())
    )
    offer = _offer(ctx, view.published, here - {start})
    return RepairOptions(targets, tasks, offer, removable)


def _offer(ctx: ServiceContext, app: PublishedApp, here: set[str]) -> MigrationOffer | None:
    with ctx.db.read() as conn:
        newest = next(iter(apps_store.versions_of(conn, app.app_id)), None)
        if newest is None or newest.version <= app.version:
            return None
        new = ctx.apps.version(conn, str(newest.id)).spec.process
    choices = tuple(
        JumpTarget(node.id, _names(new, node.id))
        for node in new.nodes.values()
        if node.type == "user_task"
    )
    ids = {choice.node_id for choice in choices}
    old = app.spec.process
    nodes = tuple(
        MappedNode(node_id, _names(old, node_id), choices, node_id if node_id in ids else "")
        for node_id in old.nodes
        if node_id in here
    )
    return MigrationOffer(int(newest.version), nodes)
