"""退回: return a ticket to its applicant or to a user-task node it actually passed, and
the applicant's resubmission; part of the pure step (ADR 0015, APPROVALS.md 退回).

A return closes the returning task as returned and cancels every open task at or after
the target, which is every node reachable from it: the other approvers of a 会签 and
the tokens of parallel branches that split after the target (edge cases 15, 16). A
branch that split before the target and is not reachable from it is untouched, and the
joins keep its arrivals (edge case 17). Before anything changes, the token game checks
that what is left can still finish; a return that would strand a branch is refused.
The node the ticket comes back to gets fresh tasks for approvers resolved again (edge
case 20); whether the ticket then runs every node in between again or comes straight
back to the returner is the returning node's `resubmit` setting (edge cases 21, 22).
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.kernel.errors import Conflict, ValidationFailed

from .commands import Resubmit, ResubmitMode, ReturnTask
from .effects import Effect, NodePassed, TaskClosed
from .soundness import can_finish
from .spec import Flow, Node, ProcessSpec
from .state import Activation, InstanceState
from .walk import Context, StepResult, Walk, actionable, cancelled


def return_task(
    spec: ProcessSpec, state: InstanceState | None, command: ReturnTask, ctx: Context
) -> StepResult:
    actor = command.actor
    task = actionable(state, command.task_id, actor)
    assert state is not None
    start_id = spec.index.start.id
    if task.node_id == start_id:
        raise Conflict("The ticket is already with its applicant", "ticket_returned")
    target = command.to
    if target == task.node_id:
        raise ValidationFailed(
            "A step cannot return to itself; choose an earlier step or the applicant",
            code="return_to_current_node",
        )
    if target is not None and target not in state.passed:
        listed = ", ".join(f"'{node_id}'" for node_id in state.passed) or "none yet"
        raise ValidationFailed(
            f"'{target}' is not a step this ticket has passed; return to the applicant "
            f"or to one of: {listed}",
            code="return_target_not_passed",
        )
    mode = _resubmit_mode(spec.nodes[task.node_id], command.resubmit)
    origin = start_id if target is None else target
    after = _reachable(spec, origin)
    if task.node_id not in after:
        raise Conflict(
            f"'{target}' lies on another parallel branch than '{task.node_id}'; return to a "
            "step before the branches split, or to the applicant",
            "return_across_branches",
        )

    effects: list[Effect] = [
        TaskClosed(task.task_id, task.node_id, "returned", actor, command.comment)
    ]
    tasks = {}
    for other in state.tasks.values():
        if other.task_id == task.task_id:
            continue
        if other.node_id in after:
            effects.append(cancelled(other, "returned", actor))
        else:
            tasks[other.task_id] = other
    activations = {
        key: activation
        for key, activation in state.activations.items()
        if activation.node_id not in after
    }
    sources = {flow.id: flow.source for flow in spec.flows}
    joins = {}
    for join_id, arrived in state.joins.items():
        kept = frozenset(flow_id for flow_id in arrived if sources[flow_id] not in after)
        if kept:
            joins[join_id] = kept
    holding = frozenset(
        {other.node_id for other in tasks.values()}
        | {w.node_id for w in state.waits.values() if w.node_id not in after}
        | {origin}
    )
    if not can_finish(spec, holding, frozenset().union(*joins.values())):
        raise Conflict(
            f"Returning to '{origin}' would leave a parallel branch unable to reach its "
            "join; return to a step before the branches split, or to the applicant",
            "return_strands_branch",
        )

    waits = {k: w for k, w in state.waits.items() if w.node_id not in after}  # ADR 0023
    walk = Walk(spec, ctx, state.starter, tasks, joins, activations, effects, waits)
    walk.values = command.values  # for a rule that reads the form (assignees.py)
    if target is None:
        rest_at_applicant(walk, task.node_id, mode)
        return walk.result(())
    walk.activate(spec.nodes[target], task.node_id, mode)
    # nodes passed before the target stay passed; those after it only on a branch it
    # does not reach
    at = state.passed.index(target)
    passed = (*state.passed[:at], *(n for n in state.passed[at + 1 :] if n not in after))
    return walk.result(passed)


def rest_at_applicant(walk: Walk, returned_from: str = "", mode: str = "") -> str:
    """The ticket rests at its applicant: the start node's task, which they resubmit
    (`returned_from` the node that sent it back, "" for the applicant's own 撤回)."""
    start_id = walk.spec.index.start.id
    applicant = (walk.starter,)
    task_id = walk.open_task(start_id, applicant, "")
    walk.activations[task_id] = Activation(
        task_id, start_id, "single", applicant, 1, True, (), (), returned_from, mode
    )
    return task_id


def resubmit(
    spec: ProcessSpec, state: InstanceState | None, command: Resubmit, ctx: Context
) -> StepResult:
    task = actionable(state, command.task_id, command.actor)
    assert state is not None
    start_id = spec.index.start.id
    if task.node_id != start_id:
        raise Conflict("Only a ticket returned to its applicant is resubmitted", "not_returned")
    activation = state.activations[task.activation_id]
    tasks = dict(state.tasks)
    del tasks[task.task_id]
    activations = dict(state.activations)
    del activations[activation.activation_id]
    effects: list[Effect] = [
        TaskClosed(task.task_id, start_id, "resubmitted", command.actor, command.comment),
        NodePassed(start_id, "start"),
    ]
    walk = Walk(
        spec, ctx, state.starter, tasks, dict(state.joins), activations, effects, dict(state.waits)
    )
    if activation.resubmit == "straight_back":
        jumped = straight_back(walk, command.values, start_id, activation.returned_from)
        if jumped is not None:
            return walk.result(jumped)
    walk.advance(command.values, spec.index.outgoing[start_id])
    return walk.result(())


def straight_back(
    walk: Walk, values: Mapping[str, object], done: str, returner: str
) -> tuple[str, ...] | None:
    """After a return's target `done` (or the applicant) is done, go straight to the node
    that returned the ticket, if the values still route there from `done` and no parallel
    branch would be left waiting (else None: the caller re-runs the path, edge case 22).
    Returns the user-task nodes on the route before the returner, which count as passed."""
    spec = walk.spec
    walk.values = values
    route = _route(spec, walk, values, done)
    if returner not in route:
        return None
    holding = frozenset({task.node_id for task in walk.tasks.values()} | {returner})
    if not can_finish(spec, holding, frozenset().union(*walk.joins.values())):
        return None
    walk.activate(spec.nodes[returner])
    return route[: route.index(returner)]


def _resubmit_mode(node: Node, chosen: ResubmitMode | None) -> ResubmitMode:
    setting = node.resubmit
    if setting == "returner_chooses":
        if chosen not in (None, "rerun", "straight_back"):
            raise ValidationFailed("resubmit is rerun or straight_back", code="invalid_resubmit")
        return chosen or "rerun"
    if chosen is not None and chosen != setting:
        raise ValidationFailed(
            f"Step '{node.id}' always resubmits by {setting}; the returner cannot choose",
            code="resubmit_fixed_by_node",
        )
    return setting


def _reachable(spec: ProcessSpec, origin: str) -> frozenset[str]:
    """`origin` and every node a flow path leads to from it."""
    seen = {origin}
    todo = [origin]
    jumps = spec.index.control.successors  # with sub-process entries and exits (ADR 0022)
    while todo:
        node_id = todo.pop()
        for target in jumps.get(node_id) or [f.target for f in spec.index.outgoing[node_id]]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return frozenset(seen)


def _route(
    spec: ProcessSpec, walk: Walk, values: Mapping[str, object], origin: str
) -> tuple[str, ...]:
    """The user tasks a token leaving `origin` would meet with these `values`, in order,
    passing through them (a dry run: nothing opens, each node is visited once)."""
    index = spec.index
    seen = {origin}
    found: list[str] = []
    queue: list[Flow] = list(index.outgoing[origin])
    for flow in queue:  # the loop also visits flows appended while it runs
        node = spec.nodes[flow.target]
        if node.id in seen:
            continue
        seen.add(node.id)
        if node.type == "user_task":
            found.append(node.id)
            queue.extend(index.outgoing[node.id])
        elif node.type == "exclusive_gateway":
            branches = index.branches[node.id]
            for condition, out in branches.conditional:
                if condition is None or walk.ctx.evaluate(condition, values):
                    queue.append(out)
                    break
            else:
                if branches.default is not None:
                    queue.append(branches.default)
        elif node.type in ("parallel_gateway", "cc", "service_task"):  # these pass at once
            queue.extend(index.outgoing[node.id])
        elif node.type == "inclusive_gateway":  # every exit whose condition holds
            for condition, out in index.branches[node.id].conditional:
                if condition is None or walk.ctx.evaluate(condition, values):
                    queue.append(out)
        elif node.type == "sub_process":  # in at its own start (ADR 0022)
            queue.extend(index.outgoing[index.control.starts[node.id]])
        elif node.type == "end" and node.scope:  # out of the sub-process it ends
            queue.extend(index.outgoing[node.scope])
    return tuple(found)
