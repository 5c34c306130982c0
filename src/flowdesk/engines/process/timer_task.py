"""An auto-approve timeout on a 会签 or a vote times out one approver's task at a time
(APPROVALS.md edge case 35; ADR 0041, beside ADR 0023's node-instance timers).

Such a node starts one timer per approver's task (Walk.arm), named by the task. When one
fires, only that task closes `approved` by nobody, with the reason `timer_fired`, and
counts in the node's tally like an approval; the others still decide. When it was the
approval the node needed, the node is decided as by a person's approval: the rest of
its tasks close (`node_decided`) and the ticket goes on. While added signers (加签) of
the task have not decided, the timer is held and reminds them instead (as ADR 0023).
A timer whose task is no longer open is stale.
"""

from __future__ import annotations

from flowdesk.kernel.errors import Conflict

from .commands import FireTimer
from .effects import Effect, TaskClosed, TimerFired
from .spec import Node, ProcessSpec
from .state import InstanceState, running
from .walk import PER_TASK_MODES, Context, StepResult, Walk, cancelled, decided


def times_out_alone(spec: ProcessSpec, node: Node) -> bool:
    """Whether boundary timer `node` times out one approver's task at a time."""
    timer = node.timer
    if timer is None or timer.action != "approve" or node.attached_to is None:
        return False
    return spec.nodes[node.attached_to].approval.mode in PER_TASK_MODES


def approve_one(
    spec: ProcessSpec, state: InstanceState, command: FireTimer, ctx: Context, node: Node
) -> StepResult:
    task = state.tasks.get(command.activation_id)
    if task is None or task.node_id != node.attached_to:
        raise Conflict("The timer's task is over; the timer does nothing", "timer_stale")
    attached = task.node_id
    activation = state.activations[task.activation_id]
    fire = command.fire
    signers = tuple(
        person
        for sign in state.signs.values()
        if sign.parent == task.task_id
        for child in sign.children
        if child in state.tasks
        for person in state.tasks[child].assignees
    )
    if signers:  # 加签 pending: the added signers are reminded, the timer is held
        return StepResult(state, (TimerFired(node.id, "approve", attached, fire, signers, True),))
    effects: list[Effect] = [
        TimerFired(node.id, "approve", attached, fire),
        TaskClosed(task.task_id, attached, "approved", None, "", "timer_fired", None),
    ]
    tasks = dict(state.tasks)
    del tasks[task.task_id]
    activations = dict(state.activations)
    holder = task.assignees[0] if task.assignees else task.task_id
    approved = (*activation.approved, holder)
    if len(approved) < activation.required:  # the others still decide
        activations[activation.activation_id] = activation.with_approved(approved)
        after = running(
            state.starter,
            tasks,
            state.joins,
            activations,
            state.passed,
            state.acted,
            state.decisions,
            state.signs,
            state.approvals,
            state.waits,
        )
        return StepResult(after, tuple(effects))
    del activations[activation.activation_id]
    for other in tuple(tasks.values()):
        if other.activation_id == activation.activation_id:
            del tasks[other.task_id]
            effects.append(cancelled(other, "node_decided", ""))
    effects.append(decided(activation, "approved", approved, activation.rejected))
    walk = Walk(
        spec,
        ctx,
        state.starter,
        tasks,
        dict(state.joins),
        activations,
        effects,
        dict(state.waits) if state.waits else None,
    )
    passed = state.passed if attached in state.passed else (*state.passed, attached)
    walk.advance(command.values, spec.index.outgoing[attached])
    result = walk.result(passed)
    if result.state.status != "running":
        return result
    kept = result.state._replace(signs=state.signs, approvals=state.approvals)
    return StepResult(kept, result.effects)
