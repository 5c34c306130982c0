"""Admin repairs of a running instance, as pure functions (ADR 0026): jump the ticket to a
user task, reassign an open task, cancel the ticket, move it to a newer version.

They are not commands of `step`: no approver's rule applies to them (who may act, which
node comes next), only the graph's. Each returns a `StepResult` like `step`, so the
services write it through the one step path (task_steps, StepWrite), raced on the
ticket's version. What 撤回 remembers (`acted`, `decisions`) and the 加签 chains are
reset: every repair that moves tokens closes the tasks they were about.

The jump rule: a jump moves *every* token. All open tasks in every branch close (reason
`moved`), the waiting joins are cleared, and one token is placed at the target, which is
activated as a token arriving there would be (approvers resolved as usual). So the target
must be a place one token can finish from: a node inside a parallel block (between a
split and its join) is refused, since its join would wait forever for the branches the
jump closed (`soundness.can_finish`, the check 退回 uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flowdesk.kernel.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed

from .effects import Effect, InstanceFinished, TaskOpened
from .returns import rest_at_applicant
from .soundness import can_finish
from .spec import ProcessSpec
from .state import Activation, InstanceState, OpenTask
from .walk import Context, StepResult, Walk, cancelled


def running(state: InstanceState | None) -> InstanceState:
    """The running instance, or the 409 every repair gives for one that is not."""
    if state is None or state.status != "running":
        raise Conflict("The ticket has finished; it cannot be repaired", "ticket_not_running")
    return state


def _fresh(state: InstanceState, result: StepResult) -> StepResult:
    """The result with what 撤回 and 加签 remembered dropped: a repair acted on the ticket,
    and the approvals and add-signs it had were about tasks now closed."""
    after = result.state
    if after.status != "running":
        return result
    return StepResult(
        InstanceState(
            "running",
            after.starter,
            after.tasks,
            after.joins,
            after.activations,
            after.passed,
            True,
            {},
            waits=after.waits,
        ),
        result.effects,
    )


def jump_targets(spec: ProcessSpec) -> tuple[str, ...]:
    """The user tasks a jump may land on: those one token can finish from."""
    return tuple(
        node.id
        for node in spec.nodes.values()
        if node.type == "user_task" and can_finish(spec, frozenset({node.id}), frozenset())
    )


def jump(
    spec: ProcessSpec, state: InstanceState | None, target: str, actor: str, ctx: Context
) -> StepResult:
    """Moves the ticket to user task `target`: every open task closes (`moved`, decided by
    the admin `actor`), the joins are cleared and `target` is activated afresh."""
    state = running(state)
    node = spec.nodes.get(target)
    if node is None:
        raise ValidationFailed(
            f"The process has no step '{target}'",
            [ErrorDetail("node", "unknown_node", f"No step '{target}' in this version")],
            code="unknown_node",
        )
    if node.type != "user_task":
        raise ValidationFailed(
            f"'{target}' is a {node.type}, not an approval step; a jump lands on a user task",
            [ErrorDetail("node", "not_user_task", f"'{target}' is not a user task")],
            code="not_user_task",
        )
    if not can_finish(spec, frozenset({target}), frozenset()):
        raise Conflict(
            f"'{target}' lies inside parallel branches: one token there would wait at their "
            "join forever; jump to a step before the branches split or after they join",
            "jump_into_parallel",
        )
    effects: list[Effect] = [cancelled(task, "moved", actor) for task in state.tasks.values()]
    walk = Walk(spec, ctx, state.starter, {}, {}, {}, effects)
    walk.activate(node)
    passed = state.passed
    if target in passed:  # the steps after the target are to come again
        passed = passed[: passed.index(target)]
    return _fresh(state, walk.result(passed))


def reassign(
    spec: ProcessSpec,
    state: InstanceState | None,
    task_id: str,
    assignees: tuple[str, ...],
    actor: str,
    new_id: str,
) -> StepResult:
    """An admin sets who holds open task `task_id`: it closes (`reassigned`) and a task for
    `assignees` opens at the same node instance, in the holders' place among its
    approvers (a 会签 still needs as many approvals, a 依次 sequence keeps its order).

    A task of a multi-person step is one person's: it goes to exactly one other person,
    who must not already be one of the step's approvers (they would decide twice). The
    applicant's own task (a returned ticket) and tasks inside an add-sign chain are not
    reassigned; maker-checker (the applicant as approver) is the caller's check, as it
    knows who filed the ticket."""
    state = running(state)
    task = state.tasks.get(task_id)
    if task is None:
        raise Conflict("The task is no longer open", "task_not_open")
    if not assignees:
        raise ValidationFailed(
            "Name at least one person",
            [ErrorDetail("assignees", "required", "Name at least one person")],
            code="assignees_required",
        )
    if len(set(assignees)) != len(assignees):
        raise ValidationFailed(
            "A person is named twice",
            [ErrorDetail("assignees", "duplicate", "A person is named twice")],
            code="duplicate_assignee",
        )
    if state.starter in assignees:
        raise Forbidden("The applicant cannot decide their own ticket", "self_approval")
    activation = state.activations[task.activation_id]
    if task.node_id == spec.index.start.id:
        raise Conflict(
            "The ticket rests with its applicant; only they resubmit it", "ticket_returned"
        )
    if task_id in state.signs or any(task_id in s.children for s in state.signs.values()):
        raise Conflict(
            "The task is part of an add-sign; remove the added signers first",
            "task_in_add_sign",
        )
    if set(assignees) == set(task.assignees):
        raise ValidationFailed(
            "The task already has exactly these holders",
            [ErrorDetail("assignees", "unchanged", "Nothing would change")],
            code="assignees_unchanged",
        )
    if activation.mode == "single":
        approvers = assignees
    else:
        if len(assignees) != 1 or len(task.assignees) != 1:
            raise ValidationFailed(
                "A task of a step with several approvers is one person's; name one",
                [ErrorDetail("assignees", "one_person", "Name exactly one person")],
                code="one_assignee_only",
            )
        if assignees[0] in activation.approvers:
            raise Conflict(
                f"'{assignees[0]}' is already an approver at this step; they cannot decide "
                "it twice",
                "already_approver",
            )
        holder = task.assignees[0]
        approvers = tuple(assignees[0] if p == holder else p for p in activation.approvers)
    tasks = {key: value for key, value in state.tasks.items() if key != task_id}
    tasks[new_id] = OpenTask(new_id, task.node_id, assignees, activation.activation_id)
    activations = dict(state.activations)
    activations[activation.activation_id] = activation._replace(approvers=approvers)
    effects: tuple[Effect, ...] = (
        cancelled(task, "reassigned", actor),
        TaskOpened(new_id, task.node_id, assignees),
    )
    return StepResult(
        InstanceState(
            "running",
            state.starter,
            tasks,
            state.joins,
            activations,
            state.passed,
            True,
            {},
            signs=state.signs,
            waits=state.waits,
        ),
        effects,
    )


def cancel(state: InstanceState | None, actor: str) -> StepResult:
    """An admin ends the running ticket: every open task in every branch is cancelled
    (`cancelled`, decided by the admin) and its status is cancelled, as the applicant's
    撤销 (ADR 0019)."""
    state = running(state)
    effects: list[Effect] = [cancelled(task, "cancelled", actor) for task in state.tasks.values()]
    effects.append(InstanceFinished("cancelled"))
    return StepResult(InstanceState("cancelled", state.starter), tuple(effects))


# --- migrating to a newer version -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """Why a ticket cannot move with the mapping: at `node` (an old node id, or a join
    flow), `code` and a message naming both versions' ids."""

    node: str
    code: str
    message: str


def migration_problems(
    old: ProcessSpec, new: ProcessSpec, state: InstanceState | None, mapping: Mapping[str, str]
) -> list[MappingProblem]:
    """Everything that keeps `state` from moving to `new` with `mapping` {old node id: new
    node id}, all at once (none: it can move). Every node holding a token must map to a
    user task of the new version, no two tokens to one node, the joins they wait at must
    exist with the same incoming flows, and the tokens so placed must be able to finish."""
    if state is None or state.status != "running":
        return [MappingProblem("", "ticket_not_running", "The ticket has finished")]
    problems: list[MappingProblem] = [
        MappingProblem(
            wait.node_id,
            "token_waits",
            f"A token waits at '{wait.node_id}' for a timer or a message; migrate the ticket "
            "once it has moved on (ADR 0023)",
        )
        for wait in state.waits.values()
    ]
    start_id = old.index.start.id
    holding: set[str] = set()
    for activation in state.activations.values():
        node_id = activation.node_id
        if node_id == start_id:  # resting at the applicant: the new start holds it
            holding.add(new.index.start.id)
            continue
        target = mapping.get(node_id)
        if target is None:
            problems.append(
                MappingProblem(
                    node_id, "node_not_mapped", f"'{node_id}' holds a token but is not mapped"
                )
            )
            continue
        node = new.nodes.get(target)
        if node is None:
            problems.append(
                MappingProblem(
                    node_id,
                    "unknown_node",
                    f"'{node_id}' maps to '{target}', which the new version does not have",
                )
            )
            continue
        if node.type != "user_task":
            problems.append(
                MappingProblem(
                    node_id,
                    "not_user_task",
                    f"'{node_id}' maps to '{target}', a {node.type} in the new version, "
                    "not a user task",
                )
            )
            continue
        if target in holding:
            problems.append(
                MappingProblem(
                    node_id,
                    "tokens_merge",
                    f"'{node_id}' maps to '{target}', which another token of the ticket "
                    "maps to as well",
                )
            )
            continue
        holding.add(target)
    joins, lost = _mapped_joins(old, new, state, mapping)
    problems.extend(
        MappingProblem(
            join_id,
            "join_changed",
            f"A token waits at join '{join_id}', which the new version does not have with "
            "a matching incoming flow",
        )
        for join_id in lost
    )
    arrivals = set().union(*joins.values()) if joins else set()
    if not problems and not can_finish(new, frozenset(holding), frozenset(arrivals)):
        problems.append(
            MappingProblem(
                "",
                "tokens_strand",
                "Placed this way in the new version, the ticket's tokens could not all reach "
                "the end (a join would wait forever); map them into matching branches",
            )
        )
    return problems


def migrate(
    old: ProcessSpec,
    new: ProcessSpec,
    state: InstanceState | None,
    mapping: Mapping[str, str],
    actor: str,
    ctx: Context,
) -> StepResult:
    """Moves the ticket's tokens to `new` (call `migration_problems` first: this assumes it
    found none). Each node instance restarts at its mapped node: its open tasks close
    (`migrated`) and the new node is activated, approvers resolved by the new version's
    rule (a 会签's tally so far is not carried over: the new step may ask other people in
    another mode). A ticket resting at its applicant stays with them; the joins keep their
    arrivals; the nodes passed keep those the new version has."""
    state = running(state)
    old_start = old.index.start.id
    effects: list[Effect] = [cancelled(task, "migrated", actor) for task in state.tasks.values()]
    joins, _ = _mapped_joins(old, new, state, mapping)
    walk = Walk(new, ctx, state.starter, {}, joins, {}, effects)
    for activation in state.activations.values():
        if activation.node_id == old_start:
            rest_at_applicant(walk, _moved(new, mapping, activation), activation.resubmit)
            continue
        walk.activate(
            new.nodes[mapping[activation.node_id]],
            _moved(new, mapping, activation),
            activation.resubmit if activation.returned_from else "",
        )
    passed: list[str] = []
    for node_id in state.passed:
        moved = mapping.get(node_id, node_id)
        node = new.nodes.get(moved)
        if node is not None and node.type == "user_task" and moved not in passed:
            passed.append(moved)
    return _fresh(state, walk.result(tuple(passed)))


def _mapped_joins(
    old: ProcessSpec, new: ProcessSpec, state: InstanceState, mapping: Mapping[str, str]
) -> tuple[dict[str, frozenset[str]], list[str]]:
    """The arrivals waiting at joins, as flows of the new version: each arrival is the
    join's incoming flow from the (mapped) node it came from. Also the joins that have no
    such flow in the new version."""
    sources = {flow.id: flow.source for flow in old.flows}
    joins: dict[str, frozenset[str]] = {}
    lost: list[str] = []
    for join_id, arrived in state.joins.items():
        incoming = {flow.source: flow.id for flow in new.index.incoming.get(join_id, ())}
        moved = set()
        for flow_id in arrived:
            source = sources.get(flow_id, "")
            flow = incoming.get(mapping.get(source, source))
            if flow is None or join_id not in new.index.join_sizes:
                lost.append(join_id)
                break
            moved.add(flow)
        else:
            joins[join_id] = frozenset(moved)
    return joins, lost


def _moved(new: ProcessSpec, mapping: Mapping[str, str], activation: Activation) -> str:
    """The node a return came from, in the new version ("" when it has none such)."""
    source = activation.returned_from
    if not source:
        return ""
    moved = mapping.get(source, source)
    node = new.nodes.get(moved)
    return moved if node is not None and node.type == "user_task" else ""
