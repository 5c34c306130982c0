"""加签 (add-sign before, after or in parallel) and 减签 (removing an added signer); part of
the pure step (ADR 0020, APPROVALS.md 前加签/后加签/并加签/减签, edge cases 5–14).

The chain lives in the state's own `signs` (parent task id → AddSign), never in a node's
tally: the added signers' tasks are tasks of the parent's node instance (so a decision of
the node, a rejection or a return closes them with the node's other tasks, edge case 14),
but their approvals and rejections are theirs and the group's, not the node's (edge
case 5). A parent waiting behind its signers (before, or after/parallel once its holder
approved) is refused every command (edge case 7) until the group is done:

- before: the group decides first (approve or reject, by its mode), then the parent is
  actionable again and its holder decides.
- after: the holder approves with the add-sign; that approval counts, as the holder's,
  when the group approved; a rejection by the group rejects the parent and the node
  decides by its policy (edge case 6).
- parallel: the parent stays actionable; its approval counts when the group approved too,
  a group rejection rejects it as for after. The node's approvals needed stay as fixed at
  its start, for a vote too (edge case 13).

`step_with_signs` wraps every other command so a chain survives steps that never heard of
it: the chains of parents that closed have their signers' tasks cancelled, and a task
transferred (转交) keeps its place in a chain (edge case 10).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Literal

from flowdesk.kernel.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed

from .commands import (
    AddSigners,
    Command,
    CompleteTask,
    DelegateTask,
    RemoveSigner,
    ResolveTask,
    ReturnTask,
    TransferTask,
)
from .delegate_task import DELEGATE, delegate, refuse_delegate, refuse_owner, resolve
from .effects import ApprovalHeld, Effect, TaskClosed, TaskOpened
from .spec import ProcessSpec
from .state import AddSign, InstanceState, OpenTask
from .walk import Context, StepResult, actionable, cancelled

POSITIONS = ("before", "after", "parallel")
GROUP_MODES = ("any", "all", "sequential")
MAX_SIGNERS = 10  # signers one add-sign may add
DEFAULT_DEPTH = 1

Inner = Callable[[ProcessSpec, InstanceState | None, Command, Context], StepResult]


def waiting(state: InstanceState | None, task_id: str) -> bool:
    """Whether open task `task_id` waits behind added signers (nobody may act on it)."""
    if state is None:
        return False
    sign = state.signs.get(task_id)
    return sign is not None and (sign.position in ("before", DELEGATE) or bool(sign.held_by))


def added_to(state: InstanceState | None, task_id: str) -> AddSign | None:
    """The add-sign whose signers' tasks include `task_id`, if any."""
    if state is None:
        return None
    for sign in state.signs.values():
        if task_id in sign.children:
            return sign
    return None


def step_with_signs(
    spec: ProcessSpec,
    state: InstanceState | None,
    command: Command,
    ctx: Context,
    inner: Inner,
) -> StepResult:
    """`inner` (the step without add-signs) with the chains of `state` applied around it."""
    if isinstance(command, AddSigners):
        return _add(spec, state, command, ctx)
    if isinstance(command, RemoveSigner):
        return _remove(spec, state, command, ctx, inner)
    if isinstance(command, DelegateTask):  # 委派 (ADR 0034): a chain of its own position
        return delegate(spec, state, command, ctx, _signing_at(state, command.task_id))
    if isinstance(command, ResolveTask):
        return resolve(state, command)
    assert state is not None  # Start is the only command without a state, and has no signs
    task_id = getattr(command, "task_id", "")
    actor = getattr(command, "actor", "")
    signs = state.signs
    if waiting(state, task_id):
        actionable(state, task_id, actor)  # the usual refusals first (403 for a stranger)
        if signs[task_id].position == DELEGATE:
            raise refuse_owner()
        raise Conflict(
            "The task waits for its added signers; it can be decided once they have",
            "waiting_for_added_signers",
        )
    group = added_to(state, task_id)
    if group is not None and group.position == DELEGATE:
        if isinstance(command, CompleteTask | ReturnTask):
            actionable(state, task_id, actor)
            raise refuse_delegate()
    elif group is not None:
        if isinstance(command, CompleteTask):
            return _signer_decides(spec, state, command, ctx, group, inner)
        if isinstance(command, ReturnTask):
            actionable(state, task_id, actor)
            raise Conflict(
                "An added signer approves or rejects; only the step's own approvers return",
                "added_signer_cannot_return",
            )
    # 转交 to someone already signing at this step would let them decide twice (edge 38)
    if isinstance(command, TransferTask) and command.to in _signing_at(state, task_id):
        actionable(state, task_id, actor)
        raise Conflict(
            f"'{command.to}' is already an added signer at this step; they cannot decide it twice",
            "already_approver",
        )
    own = signs.get(task_id)
    if own is not None and isinstance(command, CompleteTask) and command.outcome == "approve":
        # 并加签: the holder approved before the signers; it counts once they approved
        task = actionable(state, task_id, actor)
        held = own._replace(held_by=actor, comment=command.comment)
        return StepResult(
            state._replace(signs={**signs, task_id: held}),
            (ApprovalHeld(task_id, task.node_id, actor, command.comment),),
        )
    return carry(inner(spec, state, command, ctx), signs)


def _signing_at(state: InstanceState | None, task_id: str) -> set[str]:
    """The people signing (加签, 委派) at the node instance of open task `task_id`."""
    if state is None or task_id not in state.tasks:
        return set()
    activation_id = state.tasks[task_id].activation_id
    return {
        user
        for sign in state.signs.values()
        if state.tasks[sign.parent].activation_id == activation_id
        for user in sign.signers
    }


def signed_final(before: InstanceState | None, command: Command, result: StepResult) -> StepResult:
    """`result` without a withdrawable approval (撤回, ADR 0019) of `command`'s actor when
    the command approved an added signer's task or a task with signers: the signer's
    approval is not in the node's tally, and the holder's counts only through the chain,
    so neither can be taken back on its own."""
    task_id = getattr(command, "task_id", "")
    actor = getattr(command, "actor", "")
    involved = before is not None and (task_id in before.signs or added_to(before, task_id))
    decisions = result.state.decisions
    if not involved or actor not in decisions:
        return result
    kept = {who: decision for who, decision in decisions.items() if who != actor}
    return StepResult(result.state._replace(decisions=kept), result.effects)


def carry(result: StepResult, chains: Mapping[str, AddSign]) -> StepResult:
    """`chains` carried into `result`: a transferred task's place passes to the task
    opened for its new holder; signers' tasks whose parent closed are cancelled (and
    theirs in turn); a chain left with no signers' task is over."""
    after = result.state
    if after.status != "running":
        return result
    if not chains:
        return StepResult(after._replace(signs={}), result.effects)
    moved = _transfers(result.effects)
    tasks = dict(after.tasks)
    effects = list(result.effects)
    closer = _closer(result.effects)
    signs: dict[str, AddSign] = {}
    for sign in chains.values():
        parent = moved.get(sign.parent, sign.parent)
        new_holder = after.tasks.get(parent)
        by = sign.by if parent == sign.parent or new_holder is None else new_holder.assignees[0]
        children = tuple(moved.get(child, child) for child in sign.children)
        signs[parent] = sign._replace(parent=parent, by=by, children=children)
    changed = True
    while changed:  # cancel down the chains whose parents are gone
        changed = False
        for key, sign in tuple(signs.items()):
            if key in tasks:
                continue
            del signs[key]
            changed = True
            for child in sign.children:
                task = tasks.pop(child, None)
                if task is not None:
                    effects.append(cancelled(task, "node_decided", closer))
    for key, sign in tuple(signs.items()):
        children = tuple(child for child in sign.children if child in tasks)
        if children:
            signs[key] = sign._replace(children=children)
        else:
            del signs[key]
    state = after._replace(tasks=tasks, signs=signs)
    return StepResult(state, tuple(effects))


def _transfers(effects: tuple[Effect, ...]) -> dict[str, str]:
    """Old task id → the task opened in its place by a transfer in the same step."""
    moved: dict[str, str] = {}
    pending: list[str] = []
    for effect in effects:
        if isinstance(effect, TaskClosed) and effect.outcome == "transferred":
            pending.append(effect.task_id)
        elif isinstance(effect, TaskOpened) and pending:
            moved[pending.pop(0)] = effect.task_id
    return moved


def _closer(effects: tuple[Effect, ...]) -> str:
    for effect in effects:
        if isinstance(effect, TaskClosed) and effect.actor:
            return effect.actor
    return ""


def _holders(state: InstanceState, task: OpenTask) -> set[str]:
    """Everyone who holds, held or will hold a task at `task`'s node instance."""
    activation = state.activations[task.activation_id]
    people = set(activation.approvers)
    for other in state.tasks.values():
        if other.activation_id == task.activation_id:
            people.update(other.assignees)
    return people


def _add(
    spec: ProcessSpec, state: InstanceState | None, command: AddSigners, ctx: Context
) -> StepResult:
    actor = command.actor
    task = actionable(state, command.task_id, actor)
    assert state is not None
    if task.node_id == spec.index.start.id:
        raise Conflict(
            "The ticket was returned to its applicant; only the applicant resubmits it",
            "ticket_returned",
        )
    if command.position not in POSITIONS:
        raise ValidationFailed(
            "position is before, after or parallel",
            [ErrorDetail("position", "invalid_choice", "Choose before, after or parallel")],
            code="invalid_add_sign_position",
        )
    if command.mode not in GROUP_MODES:
        raise ValidationFailed(
            "mode is any, all or sequential",
            [ErrorDetail("mode", "invalid_choice", "Choose any, all or sequential")],
            code="invalid_add_sign_mode",
        )
    users = tuple(dict.fromkeys(command.users))
    if not users:
        raise ValidationFailed(
            "Name at least one person to add",
            [ErrorDetail("users", "required", "Name at least one person to add")],
            code="add_signers_required",
        )
    if len(users) > MAX_SIGNERS:
        raise ValidationFailed(
            f"At most {MAX_SIGNERS} people can be added at once",
            [ErrorDetail("users", "too_many", f"At most {MAX_SIGNERS} people")],
            code="too_many_signers",
        )
    if actor in users:
        raise ValidationFailed(
            "You cannot add yourself as a signer",
            [ErrorDetail("users", "add_sign_self", "You cannot add yourself")],
            code="add_sign_self",
        )
    if waiting(state, task.task_id):
        if state.signs[task.task_id].position == DELEGATE:
            raise refuse_owner()
        raise Conflict(
            "The task waits for its added signers; it can be decided once they have",
            "waiting_for_added_signers",
        )
    if task.task_id in state.signs:
        raise Conflict(
            "Signers added to this task are still deciding; remove them or wait",
            "add_sign_pending",
        )
    outer = added_to(state, task.task_id)
    if outer is not None and outer.position == DELEGATE:
        raise refuse_delegate()  # a delegate resolves; they add nobody (ADR 0034)
    depth = 1 if outer is None else outer.depth + 1
    # the node's own setting, else the caller's (the installation's)
    limit = max(spec.nodes[task.node_id].add_sign_depth or command.max_depth, 1)
    if depth > limit:
        raise Conflict(
            "An added signer cannot add signers in turn"
            if limit <= 1
            else f"Add-signs nest at most {limit} deep",
            "add_sign_too_deep",
        )
    holders = _holders(state, task)
    if outer is not None:  # nested: the chain's own signers hold tasks here too
        holders.update(outer.signers)
    already = [user for user in users if user in holders]
    if already:
        raise Conflict(
            f"Already deciding this step: {', '.join(already)}", "add_sign_already_holder"
        )
    tasks = dict(state.tasks)
    effects: list[Effect] = []
    opened = users[:1] if command.mode == "sequential" else users
    children = tuple(_open(tasks, effects, task, user, ctx) for user in opened)
    held = actor if command.position == "after" else ""
    sign = AddSign(
        task.task_id,
        command.position,
        command.mode,
        actor,
        users,
        children,
        (),
        depth,
        held,
        command.comment if held else "",
    )
    signs = {**state.signs, task.task_id: sign}
    return StepResult(state._replace(tasks=tasks, signs=signs), tuple(effects))


def _open(
    tasks: dict[str, OpenTask], effects: list[Effect], parent: OpenTask, user: str, ctx: Context
) -> str:
    """A signer's task: of the parent's node instance, so the node's end closes it too."""
    task_id = ctx.new_id()
    tasks[task_id] = OpenTask(task_id, parent.node_id, (user,), parent.activation_id)
    effects.append(TaskOpened(task_id, parent.node_id, (user,)))
    return task_id


def _signer_decides(
    spec: ProcessSpec,
    state: InstanceState,
    command: CompleteTask,
    ctx: Context,
    sign: AddSign,
    inner: Inner,
) -> StepResult:
    actor = command.actor
    task = actionable(state, command.task_id, actor)
    if command.outcome not in ("approve", "reject"):
        raise ValidationFailed("The outcome must be approve or reject", code="invalid_outcome")
    outcome: Literal["approved", "rejected"] = (
        "approved" if command.outcome == "approve" else "rejected"
    )
    tasks = dict(state.tasks)
    del tasks[task.task_id]
    effects: list[Effect] = [
        TaskClosed(task.task_id, task.node_id, outcome, actor, command.comment)
    ]
    children = tuple(child for child in sign.children if child != task.task_id)
    signer = task.assignees[0]
    if outcome == "approved":
        approved = (*sign.approved, signer)
        left = [user for user in sign.signers if user not in approved]
        if sign.mode == "sequential" and left:
            parent = tasks[sign.parent]
            children = (_open(tasks, effects, parent, left[0], ctx),)
        if sign.mode != "any" and (children or left):
            rest = sign._replace(children=children, approved=approved)
            signs = {**state.signs, sign.parent: rest}
            return carry(StepResult(state._replace(tasks=tasks), tuple(effects)), signs)
    for child in children:  # the group is decided: its other signers' tasks close
        effects.append(cancelled(tasks.pop(child), "node_decided", actor))
    return _done(
        spec, state, tasks, effects, sign, outcome == "approved", actor, command, ctx, inner
    )


def _done(
    spec: ProcessSpec,
    state: InstanceState,
    tasks: dict[str, OpenTask],
    effects: list[Effect],
    sign: AddSign,
    approved: bool,
    actor: str,
    command: CompleteTask | RemoveSigner,
    ctx: Context,
    inner: Inner,
) -> StepResult:
    """The group of `sign` is decided: its parent is free again (before, parallel not yet
    approved), its held approval counts, or a rejection rejects it (after, parallel)."""
    signs = {key: value for key, value in state.signs.items() if key != sign.parent}
    # chains under closed signers' tasks are cancelled by carry
    mid = carry(StepResult(state._replace(tasks=tasks), tuple(effects)), signs)
    if sign.position in ("before", DELEGATE) or (approved and not sign.held_by):
        return mid
    effects = list(mid.effects)
    tasks = dict(mid.state.tasks)
    holder = sign.held_by or sign.by
    parent = tasks[sign.parent]
    if holder not in parent.assignees:
        holder = parent.assignees[0]
    follow = CompleteTask(
        sign.parent,
        holder,
        "approve" if approved else "reject",
        sign.comment if approved else "",
        command.values,
    )
    result = step_with_signs(spec, mid.state, follow, ctx, inner)
    tail: list[Effect] = []
    for effect in result.effects:
        if approved or not isinstance(effect, TaskClosed):
            tail.append(effect)
        elif effect.task_id == sign.parent:  # rejected because a signer rejected
            tail.append(
                dataclasses.replace(
                    effect,
                    actor=sign.held_by or None,
                    reason="added_signer_rejected",
                    decided_by=actor,
                )
            )
        elif effect.decided_by == holder:  # the others closed by the signer's rejection
            tail.append(dataclasses.replace(effect, decided_by=actor))
        else:
            tail.append(effect)
    return StepResult(result.state, (*effects, *tail))


def _remove(
    spec: ProcessSpec,
    state: InstanceState | None,
    command: RemoveSigner,
    ctx: Context,
    inner: Inner,
) -> StepResult:
    actor = command.actor
    task = actionable(state, command.task_id, actor)
    assert state is not None
    sign = state.signs.get(task.task_id)
    if sign is None:
        raise Conflict("No added signer of this task is pending", "no_added_signers")
    if sign.by != actor:
        raise Forbidden("Only who added the signers removes them", "not_adder")
    users = tuple(dict.fromkeys(command.users))
    if not users:
        raise ValidationFailed(
            "Name the signers to remove",
            [ErrorDetail("users", "required", "Name the signers to remove")],
            code="remove_signers_required",
        )
    pending = [user for user in sign.signers if user not in sign.approved]
    unknown = [user for user in users if user not in pending]
    if unknown:
        raise Conflict(
            f"Not a pending added signer of this task: {', '.join(unknown)}",
            "signer_not_pending",
        )
    tasks = dict(state.tasks)
    effects: list[Effect] = []
    children: list[str] = []
    for child in sign.children:
        if tasks[child].assignees[0] in users:
            effects.append(cancelled(tasks.pop(child), "signer_removed", actor))
        else:
            children.append(child)
    signers = tuple(user for user in sign.signers if user not in users)
    left = [user for user in signers if user not in sign.approved]
    if sign.mode == "sequential" and left and not children:
        children.append(_open(tasks, effects, task, left[0], ctx))
    if left:
        rest = sign._replace(signers=signers, children=tuple(children))
        signs = {**state.signs, task.task_id: rest}
        return carry(StepResult(state._replace(tasks=tasks), tuple(effects)), signs)
    # nobody is left: before → the task is its holder's again; after → its approval counts
    for child in children:
        effects.append(cancelled(tasks.pop(child), "signer_removed", actor))
    return _done(spec, state, tasks, effects, sign, True, actor, command, ctx, inner)
