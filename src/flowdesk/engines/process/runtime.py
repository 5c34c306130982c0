"""Advance a process instance by one command, as a pure function.

`step(spec, state, command, ctx)` returns the next state and what happened; it
never mutates its input and performs no I/O, so the service layer can persist
state and effects in one transaction and simply discard them on failure, and
tests can replay any scenario. Everything outside the graph — branch conditions,
who holds a role, fresh ids — comes through the caller's `Context`.

Semantics are token-based: a token leaves the start node and moves through
automatic nodes until it rests at a user task (a wait state) or is consumed by
an end node. An exclusive gateway sends it down the first flow, in definition
order, whose condition holds, else the default flow. A parallel gateway sends a
token down every outgoing flow, and joins (more than one incoming flow) wait
for a token from each before passing one on. When the last token ends, the
instance is approved; a rejection ends it at once and cancels every other task.

A token resting at a user task is an activation (ADR 0015): the approvers resolved
when it arrived, the approvals its mode requires, and the tally so far. Its tasks are
opened by mode (one shared task, one per approver, or one at a time in order) and the
node is decided exactly when the outcome is certain; its other open tasks are then
cancelled with the reason and the deciding approver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowdesk.kernel.errors import Conflict, ValidationFailed

from .add_sign import signed_final, step_with_signs
from .call_step import finish_call
from .commands import (
    AddSigners,
    ChangeApplicant,
    Command,
    CompleteTask,
    DelegateTask,
    FinishCall,
    FireTimer,
    ReceiveMessage,
    RemoveSigner,
    ResolveTask,
    Resubmit,
    ReturnTask,
    Start,
    TransferTask,
)
from .effects import Effect, InstanceFinished, NodePassed, TaskClosed
from .once import counted
from .owner import change_applicant
from .returns import resubmit, return_task, straight_back
from .revoke import handles, revoke_step
from .spec import ProcessSpec
from .state import EMPTY, Activation, InstanceState, OpenTask, Wait, running
from .timers import fire_timer, receive_message
from .transfer import transfer_task
from .walk import Context, StepFailed, StepResult, Walk, actionable, cancelled, decided
from .withdraw import WITHDRAWALS, remember, withdrawal

__all__ = ["Context", "StepFailed", "StepResult", "step"]

# 加签 and 委派 commands; a tuple: isinstance on it beats a union type
_SIGNING = (AddSigners, RemoveSigner, DelegateTask, ResolveTask)


def step(
    spec: ProcessSpec, state: InstanceState | None, command: Command, ctx: Context
) -> StepResult:
    """Apply `command` to `state` (None before the start) and return the new state and effects."""
    if handles(state, command):  # 通过后撤销: the revocation round (revoke.py, ADR 0042)
        return revoke_step(state, command, ctx)
    if spec.index.once or spec.index.dedup:  # the approvals kept (once.py, dedup.py)
        return counted(spec, state, command, ctx, _signed)
    return _signed(spec, state, command, ctx)


def _signed(
    spec: ProcessSpec, state: InstanceState | None, command: Command, ctx: Context
) -> StepResult:
    if (state is not None and state.signs) or isinstance(command, _SIGNING):
        result = step_with_signs(spec, state, command, ctx, _step)  # 加签 chains (ADR 0020)
        # an approval inside an add-sign chain is final: never 撤回-able (ADR 0020)
        return signed_final(state, command, remember(spec, state, command, result))
    result = _step(spec, state, command, ctx)
    # what 撤回 needs to know is kept beside every command's result (withdraw.py, ADR 0019)
    return remember(spec, state, command, result)


def _step(
    spec: ProcessSpec, state: InstanceState | None, command: Command, ctx: Context
) -> StepResult:
    handler = _HANDLERS.get(type(command))  # one look-up, not a chain of isinstance
    if handler is None:
        raise TypeError(f"not a process command: {command!r}")
    return handler(spec, state, command, ctx)


def _start(
    spec: ProcessSpec, state: InstanceState | None, command: Start, ctx: Context
) -> StepResult:
    if state is not None:
        raise Conflict("The process instance has already started", "instance_exists")
    start_id = spec.index.start.id
    effects: list[Effect] = [NodePassed(start_id, "start")]
    walk = Walk(spec, ctx, command.starter, {}, {}, {}, effects)
    walk.advance(command.values, spec.index.outgoing[start_id])
    return walk.result(())


def _complete(
    spec: ProcessSpec, state: InstanceState | None, command: CompleteTask, ctx: Context
) -> StepResult:
    task = actionable(state, command.task_id, command.actor)
    assert state is not None
    actor = command.actor
    if task.node_id == spec.index.start.id:
        raise Conflict(
            "The ticket was returned to its applicant; resubmit it to go on", "ticket_returned"
        )
    outcome = command.outcome
    if outcome not in ("approve", "reject"):
        raise ValidationFailed("The outcome must be approve or reject", code="invalid_outcome")
    activation = state.activations[task.activation_id]
    tasks = dict(state.tasks)
    del tasks[task.task_id]
    activations = dict(state.activations)
    node_id = task.node_id
    if outcome == "reject":
        effects: list[Effect] = [
            TaskClosed(task.task_id, node_id, "rejected", actor, command.comment)
        ]
        rejected = (*activation.rejected, actor)
        can_pass = len(rejected) <= len(activation.approvers) - activation.required
        if can_pass and not activation.veto:  # a vote that can still pass goes on
            activations[activation.activation_id] = activation._replace(rejected=rejected)
            return _still_deciding(state, tasks, activations, effects)
        # The node failed, and with it the ticket: every other task closes, its own
        # node's first (they were decided by this rejection), then the others.
        for other in tasks.values():
            if other.activation_id == activation.activation_id:
                effects.append(cancelled(other, "node_decided", actor))
        for other in tasks.values():
            if other.activation_id != activation.activation_id:
                effects.append(cancelled(other, "ticket_rejected", actor))
        if activation.mode != "single":
            effects.append(decided(activation, "rejected", activation.approved, rejected))
        effects.append(InstanceFinished("rejected"))
        return StepResult(InstanceState("rejected", state.starter), tuple(effects))

    effects = [TaskClosed(task.task_id, node_id, "approved", actor, command.comment)]
    approved = (*activation.approved, actor)
    if len(approved) < activation.required:
        activations[activation.activation_id] = activation.with_approved(approved)
        if activation.mode != "sequential":  # 会签/vote still deciding: nothing moves
            return _still_deciding(state, tasks, activations, effects)
    walk = Walk(
        spec, ctx, state.starter, tasks, dict(state.joins), activations, effects, _waits(state)
    )
    if len(approved) < activation.required:  # 依次: the next approver in order takes over
        walk.open_task(node_id, (activation.approvers[len(approved)],), activation.activation_id)
        return walk.result(state.passed)
    del activations[activation.activation_id]
    if activation.mode != "single":
        for other in tuple(tasks.values()):
            if other.activation_id == activation.activation_id:
                del tasks[other.task_id]
                effects.append(cancelled(other, "node_decided", actor))
        effects.append(decided(activation, "approved", approved, activation.rejected))
    passed = state.passed if node_id in state.passed else (*state.passed, node_id)
    if activation.resubmit == "straight_back":  # done after a return: back to the returner
        jumped = straight_back(walk, command.values, node_id, activation.returned_from)
        if jumped is not None:
            return walk.result((*passed, *(n for n in jumped if n not in passed)))
    walk.approver = actor
    walk.advance(command.values, spec.index.outgoing[node_id])
    return walk.result(passed)


def _still_deciding(
    state: InstanceState,
    tasks: dict[str, OpenTask],
    activations: dict[str, Activation],
    effects: list[Effect],
) -> StepResult:
    """A decision counted at a node that is still deciding: no token moves."""
    return StepResult(
        running(
            state.starter,
            tasks,
            state.joins,
            activations,
            state.passed,
            None,
            EMPTY,
            EMPTY,
            None,
            state.waits,
        ),
        tuple(effects),
    )


def _waits(state: InstanceState) -> dict[str, Wait] | None:
    """The step's own copy of the timer and message waits (None: none, the common case)."""
    return dict(state.waits) if state.waits else None


# Every command the plain step takes, by its exact type; 加签 commands go through
# step_with_signs first (add_sign.py), which calls back into `_step`.
_HANDLERS: dict[type, Callable[[ProcessSpec, InstanceState | None, Any, Context], StepResult]] = {
    CompleteTask: _complete,
    Start: _start,
    ReturnTask: return_task,
    Resubmit: resubmit,
    TransferTask: transfer_task,
    FireTimer: fire_timer,  # timers and messages (ADR 0023)
    ReceiveMessage: receive_message,
    FinishCall: finish_call,  # a call activity's child ended (ADR 0033)
    ChangeApplicant: change_applicant,  # a hand-over of the applicant's tickets (ADR 0034)
    **dict.fromkeys(WITHDRAWALS, withdrawal),
}
