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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from flowdesk.kernel.errors import Conflict, ErrorDetail, FlowdeskError, Forbidden, ValidationFailed

from .commands import Command, CompleteTask, Start
from .effects import (
    CloseReason,
    Effect,
    InstanceFinished,
    NodeDecided,
    NodePassed,
    TaskClosed,
    TaskOpened,
)
from .spec import AssigneeRule, Flow, Node, ProcessSpec
from .state import Activation, InstanceState, OpenTask


class Context(Protocol):
    """What the engine asks of the outside world during a step."""

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        """Whether branch `condition` holds for the ticket's form `values`."""
        ...

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        """The usernames `rule` designates for an instance started by `starter`."""
        ...

    def new_id(self) -> str:
        """A fresh, unique task id."""
        ...


@dataclass(frozen=True, slots=True)
class StepResult:
    state: InstanceState
    effects: tuple[Effect, ...]


class StepFailed(FlowdeskError):
    """The step cannot go on at `node_id` (no branch holds, nobody to assign); nothing changed."""

    def __init__(self, spec: ProcessSpec, node_id: str, code: str, message: str) -> None:
        position = list(spec.nodes).index(node_id)
        detail = ErrorDetail(path=f"process.nodes[{position}]", code=code, message=message)
        super().__init__(message, code, [detail], 422)
        self.node_id = node_id


def step(
    spec: ProcessSpec, state: InstanceState | None, command: Command, ctx: Context
) -> StepResult:
    """Apply `command` to `state` (None before the start) and return the new state and effects."""
    if isinstance(command, CompleteTask):
        return _complete(spec, state, command, ctx)
    if isinstance(command, Start):
        if state is not None:
            raise Conflict("The process instance has already started", "instance_exists")
        start_id = spec.index.start.id
        effects: list[Effect] = [NodePassed(start_id, "start")]
        walk = _Walk(spec, ctx, command.starter, {}, {}, {}, effects)
        walk.advance(command.values, spec.index.outgoing[start_id])
        return walk.result(())
    raise TypeError(f"not a process command: {command!r}")


def _complete(
    spec: ProcessSpec, state: InstanceState | None, command: CompleteTask, ctx: Context
) -> StepResult:
    if state is None:
        raise Conflict("The process instance has not started", "instance_not_started")
    if state.status != "running":
        raise Conflict("The process instance has already finished", "instance_finished")
    task = state.tasks.get(command.task_id)
    if task is None:
        raise Conflict("The task is no longer open", "task_not_open")
    actor = command.actor
    if actor not in task.assignees:
        raise Forbidden("Only the task's assignees can complete it", "not_assignee")
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
            return StepResult(
                InstanceState(
                    "running", state.starter, tasks, state.joins, activations, state.passed
                ),
                tuple(effects),
            )
        # The node failed, and with it the ticket: every other task closes, its own
        # node's first (they were decided by this rejection), then the others.
        for other in tasks.values():
            if other.activation_id == activation.activation_id:
                effects.append(_cancelled(other, "node_decided", actor))
        for other in tasks.values():
            if other.activation_id != activation.activation_id:
                effects.append(_cancelled(other, "ticket_rejected", actor))
        if activation.mode != "single":
            effects.append(_decided(activation, "rejected", activation.approved, rejected))
        effects.append(InstanceFinished("rejected"))
        return StepResult(InstanceState("rejected", state.starter), tuple(effects))

    effects = [TaskClosed(task.task_id, node_id, "approved", actor, command.comment)]
    approved = (*activation.approved, actor)
    walk = _Walk(spec, ctx, state.starter, tasks, dict(state.joins), activations, effects)
    if len(approved) < activation.required:
        activations[activation.activation_id] = activation._replace(approved=approved)
        if activation.mode == "sequential":  # the next approver in order takes over
            walk.open_task(
                node_id, (activation.approvers[len(approved)],), activation.activation_id
            )
        return walk.result(state.passed)
    del activations[activation.activation_id]
    if activation.mode != "single":
        for other in tuple(tasks.values()):
            if other.activation_id == activation.activation_id:
                del tasks[other.task_id]
                effects.append(_cancelled(other, "node_decided", actor))
        effects.append(_decided(activation, "approved", approved, activation.rejected))
    passed = state.passed if node_id in state.passed else (*state.passed, node_id)
    walk.advance(command.values, spec.index.outgoing[node_id])
    return walk.result(passed)


def _cancelled(task: OpenTask, reason: CloseReason, decided_by: str) -> TaskClosed:
    return TaskClosed(task.task_id, task.node_id, "cancelled", None, "", reason, decided_by)


def _decided(
    activation: Activation,
    outcome: Literal["approved", "rejected"],
    approved: tuple[str, ...],
    rejected: tuple[str, ...],
) -> NodeDecided:
    return NodeDecided(
        activation.node_id,
        activation.mode,
        outcome,
        len(approved),
        len(rejected),
        activation.required,
        len(activation.approvers),
    )


class _Walk:
    """The new state being built by one step: tasks, activations and joins, mutated in
    place (they are the step's own copies), and the effects in order."""

    __slots__ = ("activations", "ctx", "effects", "joins", "spec", "starter", "tasks")

    def __init__(
        self,
        spec: ProcessSpec,
        ctx: Context,
        starter: str,
        tasks: dict[str, OpenTask],
        joins: dict[str, frozenset[str]],
        activations: dict[str, Activation],
        effects: list[Effect],
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.starter = starter
        self.tasks = tasks
        self.joins = joins
        self.activations = activations
        self.effects = effects

    def open_task(self, node_id: str, assignees: tuple[str, ...], activation_id: str) -> str:
        """Opens a task of activation `activation_id` ("": a new one keyed by the task's id)."""
        task_id = self.ctx.new_id()
        activation_id = activation_id or task_id
        self.tasks[task_id] = OpenTask(task_id, node_id, assignees, activation_id)
        self.effects.append(TaskOpened(task_id, node_id, assignees))
        return task_id

    def activate(self, node: Node) -> None:
        """A token arrives at user task `node`: resolve its approvers once, open its tasks."""
        spec = self.spec
        node_id = node.id
        rule = node.assignee
        assert rule is not None  # parse_process guarantees it
        assignees = tuple(dict.fromkeys(self.ctx.resolve_assignees(rule, self.starter)))
        if not assignees:
            raise StepFailed(
                spec,
                node_id,
                "no_assignee",
                f"Nobody can be assigned to '{node_id}' ({rule.kind})",
            )
        approval = node.approval
        mode = approval.mode
        if mode == "single":  # the common case, kept short
            task_id = self.open_task(node_id, assignees, "")
            self.activations[task_id] = Activation(task_id, node_id, mode, assignees, 1, True)
            return
        required = approval.required(len(assignees))
        if required > len(assignees):
            raise StepFailed(
                spec,
                node_id,
                "too_few_approvers",
                f"'{node_id}' needs {required} approvals but only {len(assignees)} "
                f"people can be assigned ({rule.kind})",
            )
        people = assignees[:1] if mode == "sequential" else assignees
        first = self.open_task(node_id, (people[0],), "")
        for person in people[1:]:
            self.open_task(node_id, (person,), first)
        self.activations[first] = Activation(
            first, node_id, mode, assignees, required, approval.veto
        )

    def advance(self, values: Mapping[str, object], flows: tuple[Flow, ...]) -> None:
        """Move tokens along `flows` until each rests at a user task or join, or ends.

        Tokens move breadth-first, so the effects of parallel branches come out in
        the definition order of their flows.
        """
        spec = self.spec
        index = spec.index
        nodes = spec.nodes
        joins = self.joins
        effects = self.effects
        queue = list(flows)
        for flow in queue:  # the loop also visits flows appended while it runs
            node = nodes[flow.target]
            node_type = node.type
            node_id = node.id
            if node_type == "user_task":
                self.activate(node)
            elif node_type == "exclusive_gateway":
                effects.append(NodePassed(node_id, node_type))
                branches = index.branches[node_id]
                for condition, out in branches.conditional:
                    if condition is None or self.ctx.evaluate(condition, values):
                        queue.append(out)
                        break
                else:
                    if branches.default is None:
                        raise StepFailed(
                            spec,
                            node_id,
                            "no_branch_taken",
                            f"No condition leaving '{node_id}' holds and it has no default flow",
                        )
                    queue.append(branches.default)
            elif node_type == "parallel_gateway":
                size = index.join_sizes.get(node_id)
                if size is not None:
                    arrived = joins.get(node_id, frozenset()) | {flow.id}
                    if len(arrived) < size:
                        joins[node_id] = arrived
                        continue
                    del joins[node_id]
                effects.append(NodePassed(node_id, node_type))
                queue.extend(index.outgoing[node_id])
            else:  # end: the token is consumed
                effects.append(NodePassed(node_id, node_type))

    def result(self, passed: tuple[str, ...]) -> StepResult:
        effects = self.effects
        if self.tasks:
            return StepResult(
                InstanceState(
                    "running", self.starter, self.tasks, self.joins, self.activations, passed
                ),
                tuple(effects),
            )
        if self.joins:  # unreachable for a spec that passed parse_process's soundness check
            node_id = next(iter(self.joins))
            raise StepFailed(
                self.spec,
                node_id,
                "join_stuck",
                f"Parallel join '{node_id}' waits for tokens that can never come",
            )
        effects.append(InstanceFinished("approved"))
        return StepResult(InstanceState("approved", self.starter), tuple(effects))
