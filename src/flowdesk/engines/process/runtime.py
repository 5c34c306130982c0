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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from flowdesk.kernel.errors import Conflict, ErrorDetail, FlowdeskError, Forbidden, ValidationFailed

from .commands import Command, CompleteTask, Start
from .effects import Effect, InstanceFinished, NodePassed, TaskClosed, TaskOpened
from .spec import AssigneeRule, Flow, ProcessSpec
from .state import InstanceState, OpenTask


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
        tasks: dict[str, OpenTask] = {}
        joins: dict[str, frozenset[str]] = {}
        _advance(
            spec,
            ctx,
            command.starter,
            command.values,
            spec.index.outgoing[start_id],
            tasks,
            joins,
            effects,
        )
        return _result(spec, command.starter, tasks, joins, effects)
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
    if command.actor not in task.assignees:
        raise Forbidden("Only the task's assignees can complete it", "not_assignee")
    outcome = command.outcome
    if outcome == "approve":
        effects: list[Effect] = [
            TaskClosed(task.task_id, task.node_id, "approved", command.actor, command.comment)
        ]
        tasks = dict(state.tasks)
        del tasks[task.task_id]
        joins = dict(state.joins)
        _advance(
            spec,
            ctx,
            state.starter,
            command.values,
            spec.index.outgoing[task.node_id],
            tasks,
            joins,
            effects,
        )
        return _result(spec, state.starter, tasks, joins, effects)
    if outcome == "reject":
        effects = [
            TaskClosed(task.task_id, task.node_id, "rejected", command.actor, command.comment)
        ]
        effects.extend(
            TaskClosed(other.task_id, other.node_id, "cancelled", None, "")
            for other in state.tasks.values()
            if other.task_id != task.task_id
        )
        effects.append(InstanceFinished("rejected"))
        return StepResult(InstanceState("rejected", state.starter), tuple(effects))
    raise ValidationFailed("The outcome must be approve or reject", code="invalid_outcome")


def _advance(
    spec: ProcessSpec,
    ctx: Context,
    starter: str,
    values: Mapping[str, object],
    flows: tuple[Flow, ...],
    tasks: dict[str, OpenTask],
    joins: dict[str, frozenset[str]],
    effects: list[Effect],
) -> None:
    """Move tokens along `flows` until each rests at a user task or join, or ends.

    Tokens move breadth-first, so the effects of parallel branches come out in
    the definition order of their flows.
    """
    index = spec.index
    nodes = spec.nodes
    queue = list(flows)
    for flow in queue:  # the loop also visits flows appended while it runs
        node = nodes[flow.target]
        node_type = node.type
        node_id = node.id
        if node_type == "user_task":
            rule = node.assignee
            assert rule is not None  # parse_process guarantees it
            assignees = tuple(dict.fromkeys(ctx.resolve_assignees(rule, starter)))
            if not assignees:
                raise StepFailed(
                    spec,
                    node_id,
                    "no_assignee",
                    f"Nobody can be assigned to '{node_id}' ({rule.kind})",
                )
            task_id = ctx.new_id()
            tasks[task_id] = OpenTask(task_id, node_id, assignees)
            effects.append(TaskOpened(task_id, node_id, assignees))
        elif node_type == "exclusive_gateway":
            effects.append(NodePassed(node_id, node_type))
            branches = index.branches[node_id]
            for condition, out in branches.conditional:
                if condition is None or ctx.evaluate(condition, values):
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


def _result(
    spec: ProcessSpec,
    starter: str,
    tasks: dict[str, OpenTask],
    joins: dict[str, frozenset[str]],
    effects: list[Effect],
) -> StepResult:
    if tasks:
        return StepResult(InstanceState("running", starter, tasks, joins), tuple(effects))
    if joins:  # unreachable for a spec that passed parse_process's soundness check
        node_id = next(iter(joins))
        raise StepFailed(
            spec,
            node_id,
            "join_stuck",
            f"Parallel join '{node_id}' waits for tokens that can never come",
        )
    effects.append(InstanceFinished("approved"))
    return StepResult(InstanceState("approved", starter), tuple(effects))
