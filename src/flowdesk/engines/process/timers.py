"""Timers and messages in the pure step (ADR 0023): a timer firing, a message arriving.

A boundary timer belongs to a node instance (an activation): it starts with it (Walk.arm)
and its row names it, so a timer whose node instance has gone (decided, returned,
withdrawn, cancelled) is stale, and firing it is refused with `timer_stale`, changing
nothing. What a boundary timer does when it fires:

- remind: the task's holders are told again (the service sends a notice per holder);
- escalate: the people of its `to` rule are added to each of the node's own open tasks,
  beside their holders; either may decide (the holder's manager by default: `to` is
  resolved with the holder as the previous approver);
- approve / reject / return: the node is decided as by a person: approved (the ticket
  goes on along the task's own flow), rejected (the ticket ends rejected), returned to
  the applicant. While added signers (加签) of the node have not decided, a deciding
  timer does not skip them: it is held and reminds them instead;
- no action: the token leaves by the boundary's outgoing flow, cancelling the task when
  the boundary interrupts; a non-interrupting boundary with an outgoing flow starts a
  token there besides whatever action it has.

A non-interrupting timer with `repeat` starts its next fire each time it fires, until it
fired 1 + repeat times. A timer catch event's token goes on when its timer fires; a
message catch event's when a message with its name and key arrives.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.kernel.errors import Conflict, NotFound

from .commands import FireTimer, ReceiveMessage, ReturnTask
from .effects import (
    CloseReason,
    Effect,
    InstanceFinished,
    MessageReceived,
    TaskClosed,
    TaskEscalated,
    TimerFired,
    TimerSet,
    WaitCancelled,
)
from .spec import Node, ProcessSpec
from .state import Activation, InstanceState, OpenTask, Wait
from .timer_task import approve_one, times_out_alone
from .walk import Context, StepResult, Walk, cancelled


def _stale() -> Conflict:
    return Conflict("The timer's task or wait is over; the timer does nothing", "timer_stale")


def _running(state: InstanceState | None) -> InstanceState:
    if state is None or state.status != "running":
        raise _stale()
    return state


def fire_timer(
    spec: ProcessSpec, state: InstanceState | None, command: FireTimer, ctx: Context
) -> StepResult:
    state = _running(state)
    node = spec.nodes.get(command.node_id)
    if node is None or node.timer is None:
        raise _stale()
    if node.type == "timer_catch":
        wait = state.waits.get(command.timer_id)
        if wait is None or wait.node_id != node.id:
            raise _stale()
        effects: list[Effect] = [TimerFired(node.id, "", fire=command.fire)]
        return _resume(spec, state, ctx, wait, command.values, effects)
    if times_out_alone(spec, node):  # one 会签 or vote task at a time (edge case 35)
        return approve_one(spec, state, command, ctx, node)
    activation = state.activations.get(command.activation_id)
    if activation is None or activation.node_id != node.attached_to:
        raise _stale()
    return _boundary(spec, state, command, ctx, node, activation)


def _resume(
    spec: ProcessSpec,
    state: InstanceState,
    ctx: Context,
    wait: Wait,
    values: Mapping[str, object],
    effects: list[Effect],
) -> StepResult:
    """The token waiting at `wait` goes on along its node's flow; after an event-based
    gateway, the other waits of its group are cancelled (ADR 0035)."""
    waits = {k: w for k, w in state.waits.items() if k != wait.wait_id}
    if wait.group:
        for other in tuple(waits.values()):
            if other.group == wait.group:
                del waits[other.wait_id]
                effects.append(WaitCancelled(other.wait_id, other.node_id, wait.node_id))
    walk = Walk(
        spec,
        ctx,
        state.starter,
        dict(state.tasks),
        dict(state.joins),
        dict(state.activations),
        effects,
        waits,
    )
    walk.advance(values, spec.index.outgoing[wait.node_id])
    return _kept(state, walk.result(state.passed))


def _kept(before: InstanceState, result: StepResult) -> StepResult:
    """The result with the add-sign chains and the approvals log of `before` kept (Walk's
    result builds a plain state; the wrappers of runtime.step bring the rest up to date)."""
    after = result.state
    if after.status != "running":
        return result
    return StepResult(
        after._replace(signs=before.signs, approvals=before.approvals, acted=before.acted),
        result.effects,
    )


def _own_tasks(state: InstanceState, activation: Activation) -> list[OpenTask]:
    """The node instance's open tasks, added signers' (加签) tasks left out."""
    children = {child for sign in state.signs.values() for child in sign.children}
    return [
        task
        for task in state.tasks.values()
        if task.activation_id == activation.activation_id and task.task_id not in children
    ]


def _pending_signers(state: InstanceState, tasks: list[OpenTask]) -> tuple[str, ...]:
    """Who of the people added (加签) to these tasks still has to decide."""
    ids = {task.task_id for task in tasks}
    people: list[str] = []
    for sign in state.signs.values():
        if sign.parent in ids:
            for child in sign.children:
                open_task = state.tasks.get(child)
                if open_task is not None:
                    people.extend(open_task.assignees)
    return tuple(dict.fromkeys(people))


def _holders(tasks: list[OpenTask]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(person for task in tasks for person in task.assignees))


def _boundary(
    spec: ProcessSpec,
    state: InstanceState,
    command: FireTimer,
    ctx: Context,
    node: Node,
    activation: Activation,
) -> StepResult:
    timer = node.timer
    assert timer is not None and node.attached_to is not None
    action = timer.action
    attached = node.attached_to
    own = _own_tasks(state, activation)
    fire = command.fire
    if action in ("approve", "reject", "return"):
        signers = _pending_signers(state, own)
        if signers:  # 加签 pending: the added signers are not skipped, they are reminded
            return StepResult(
                state, (TimerFired(node.id, action, attached, fire, signers, held=True),)
            )
        if action == "approve":
            return _auto_approve(spec, state, command, ctx, node, activation)
        if action == "reject":
            return _auto_reject(state, node, activation)
        return _auto_return(spec, state, command, ctx, node, activation, own)
    effects: list[Effect] = []
    tasks = dict(state.tasks)
    if action == "remind":
        effects.append(TimerFired(node.id, action, attached, fire, _holders(own)))
    elif action == "escalate":
        assert timer.to is not None
        effects.append(TimerFired(node.id, action, attached, fire))
        for task in own:
            holder = task.assignees[0] if task.assignees else ""
            found = ctx.resolve_assignees(
                timer.to, state.starter, values=command.values, previous=holder
            )
            added = tuple(p for p in dict.fromkeys(found) if p not in task.assignees)
            if added:
                tasks[task.task_id] = task._replace(assignees=(*task.assignees, *added))
                effects.append(TaskEscalated(task.task_id, task.node_id, added))
    else:  # no action of its own: the token leaves by the boundary's flow
        effects.append(TimerFired(node.id, "", attached, fire))
    if node.interrupting:
        return _leave_by(spec, state, ctx, node, activation, tasks, effects, command.values)
    if timer.repeat and fire <= timer.repeat:  # the next fire of a repeating timer
        effects.append(
            TimerSet(
                ctx.new_id(),
                node.id,
                activation.activation_id,
                fire + 1,
                timer.delay(fire + 1),
                "",
                timer.working,
            )
        )
    return _leave_by(spec, state, ctx, node, None, tasks, effects, command.values)


def _leave_by(
    spec: ProcessSpec,
    state: InstanceState,
    ctx: Context,
    node: Node,
    interrupted: Activation | None,
    tasks: dict[str, OpenTask],
    effects: list[Effect],
    values: Mapping[str, object],
    reason: CloseReason = "timer_fired",
) -> StepResult:
    """A boundary event happened: an interrupting one closes the node instance
    `interrupted` (its tasks with `reason`), and a token leaves by the boundary's own
    flow (a non-interrupting one's runs beside the task)."""
    activations = dict(state.activations)
    if interrupted is not None:
        for task in state.tasks.values():
            if task.activation_id == interrupted.activation_id:
                del tasks[task.task_id]
                effects.append(_timer_closed(task, reason))
        del activations[interrupted.activation_id]
    walk = _walk_on(spec, ctx, state, tasks, activations, effects)
    flows = spec.index.outgoing[node.id]
    if flows:
        walk.advance(values, flows)
    return _kept(state, walk.result(state.passed))


def _walk_on(
    spec: ProcessSpec,
    ctx: Context,
    state: InstanceState,
    tasks: dict[str, OpenTask],
    activations: dict[str, Activation],
    effects: list[Effect],
) -> Walk:
    """A walk from `state` with its node's tasks and instance already taken out."""
    return Walk(
        spec,
        ctx,
        state.starter,
        tasks,
        dict(state.joins),
        activations,
        effects,
        dict(state.waits) if state.waits else None,
    )


def _timer_closed(task: OpenTask, reason: CloseReason = "timer_fired") -> TaskClosed:
    return TaskClosed(task.task_id, task.node_id, "cancelled", None, "", reason, None)


def _auto_approve(
    spec: ProcessSpec,
    state: InstanceState,
    command: FireTimer,
    ctx: Context,
    node: Node,
    activation: Activation,
) -> StepResult:
    """The node passes as approved: its open tasks close (by the timer), the ticket goes on
    along the task's own flow."""
    assert node.attached_to is not None
    attached = node.attached_to
    effects: list[Effect] = [TimerFired(node.id, "approve", attached, command.fire)]
    tasks = dict(state.tasks)
    for task in state.tasks.values():
        if task.activation_id == activation.activation_id:
            del tasks[task.task_id]
            effects.append(_timer_closed(task))
    activations = dict(state.activations)
    del activations[activation.activation_id]
    walk = _walk_on(spec, ctx, state, tasks, activations, effects)
    passed = state.passed if attached in state.passed else (*state.passed, attached)
    walk.advance(command.values, spec.index.outgoing[attached])
    return _kept(state, walk.result(passed))


def _auto_reject(state: InstanceState, node: Node, activation: Activation) -> StepResult:
    """The node is rejected, and with it the ticket: every open task closes."""
    assert node.attached_to is not None
    effects: list[Effect] = [TimerFired(node.id, "reject", node.attached_to)]
    for task in state.tasks.values():
        if task.activation_id == activation.activation_id:
            effects.append(_timer_closed(task))
    for task in state.tasks.values():
        if task.activation_id != activation.activation_id:
            effects.append(cancelled(task, "ticket_rejected", ""))
    effects.append(InstanceFinished("rejected"))
    return StepResult(InstanceState("rejected", state.starter), tuple(effects))


def _auto_return(
    spec: ProcessSpec,
    state: InstanceState,
    command: FireTimer,
    ctx: Context,
    node: Node,
    activation: Activation,
    own: list[OpenTask],
) -> StepResult:
    """The ticket goes back to its applicant as a 退回 from the node would send it; the
    returning task closes as returned by nobody (the timer)."""
    from .returns import return_task  # returns imports walk, as this module does

    assert node.attached_to is not None
    if not own or not own[0].assignees:
        raise _stale()
    first = own[0]
    result = return_task(
        spec,
        state,
        ReturnTask(first.task_id, first.assignees[0], None, values=command.values),
        ctx,
    )
    effects: list[Effect] = [TimerFired(node.id, "return", node.attached_to, command.fire)]
    for effect in result.effects:
        if isinstance(effect, TaskClosed) and effect.task_id == first.task_id:
            effects.append(effect.__class__(effect.task_id, effect.node_id, "returned", None, ""))
        elif isinstance(effect, TaskClosed) and effect.reason == "returned":
            effects.append(_timer_closed_as(effect))
        else:
            effects.append(effect)
    return _kept(state, StepResult(result.state, tuple(effects)))


def _timer_closed_as(effect: TaskClosed) -> TaskClosed:
    return TaskClosed(effect.task_id, effect.node_id, "cancelled", None, "", "returned", None)


def receive_message(
    spec: ProcessSpec, state: InstanceState | None, command: ReceiveMessage, ctx: Context
) -> StepResult:
    """The first token waiting for message `name` with `key` goes on (or wait
    `command.wait_id`, or the boundary message on a node instance); 404 when none waits."""
    if state is None or state.status != "running":
        raise NotFound("No ticket waits for this message", "no_waiting_ticket")
    if command.activation_id:
        return _boundary_message(spec, state, command, ctx)
    for wait in state.waits.values():
        if command.wait_id and wait.wait_id != command.wait_id:
            continue
        node = spec.nodes.get(wait.node_id)
        message = node.message if node is not None else None
        if message is not None and message.name == command.name and wait.key == command.key:
            effects: list[Effect] = [
                MessageReceived(wait.wait_id, wait.node_id, command.name, command.key)
            ]
            return _resume(spec, state, ctx, wait, command.values, effects)
    raise NotFound("No ticket waits for this message", "no_waiting_ticket")


def _boundary_message(
    spec: ProcessSpec, state: InstanceState, command: ReceiveMessage, ctx: Context
) -> StepResult:
    """A message for the boundary message `command.node_id` on node instance
    `command.activation_id` (ADR 0035): interrupting, the task closes ("interrupted by
    the message", reason message_received) and the token leaves by the boundary's flow;
    not interrupting, a token starts there and the task stays. 404 when the node
    instance is gone (decided, returned, withdrawn)."""
    node = spec.nodes.get(command.node_id)
    activation = state.activations.get(command.activation_id)
    if (
        node is None
        or node.type != "boundary_message"
        or node.message is None
        or node.message.name != command.name
        or activation is None
        or activation.node_id != node.attached_to
    ):
        raise NotFound("No ticket waits for this message", "no_waiting_ticket")
    effects: list[Effect] = [MessageReceived(command.wait_id, node.id, command.name, command.key)]
    interrupted = activation if node.interrupting else None
    return _leave_by(
        spec,
        state,
        ctx,
        node,
        interrupted,
        dict(state.tasks),
        effects,
        command.values,
        "message_received",
    )
