"""An admin removes a pending base approver from a 会签 or vote (APPROVALS.md edge case
12; ADRs 0026 and 0041): a repair, like jump and reassign (repair.py).

The approver's task closes `cancelled` (reason `approver_removed`, decided by the admin)
and they leave the node's approvers. A 会签 then needs one approval fewer; a vote keeps
the count fixed when it started (edge case 13), so a removal that would leave too few
people to reach it is refused (409 `too_few_approvers`). When the approvals already
given are now enough, the node is decided at once, as approved, and the ticket goes on:
it never hangs. A task inside an add-sign chain and the tasks of other modes (single,
或签, 依次: jump or reassign instead) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.kernel.errors import Conflict

from .effects import Effect
from .repair import running
from .spec import ProcessSpec
from .state import InstanceState
from .walk import Context, StepResult, Walk, cancelled, decided

REMOVABLE_MODES = frozenset({"all", "vote"})


def remove_approver(
    spec: ProcessSpec,
    state: InstanceState | None,
    task_id: str,
    actor: str,
    values: Mapping[str, object],
    ctx: Context,
) -> StepResult:
    state = running(state)
    task = state.tasks.get(task_id)
    if task is None:
        raise Conflict("The task is no longer open", "task_not_open")
    activation = state.activations[task.activation_id]
    if activation.mode not in REMOVABLE_MODES:
        raise Conflict(
            "Only an approver of a countersign or a vote can be removed; jump the ticket "
            "or reassign the task instead",
            "not_a_countersign",
        )
    if task_id in state.signs or any(task_id in s.children for s in state.signs.values()):
        raise Conflict(
            "The task is part of an add-sign; remove the added signers first",
            "task_in_add_sign",
        )
    holder = task.assignees[0]
    approvers = tuple(p for p in activation.approvers if p != holder)
    required = activation.required - 1 if activation.mode == "all" else activation.required
    tasks = {key: value for key, value in state.tasks.items() if key != task_id}
    pending = [t for t in tasks.values() if t.activation_id == activation.activation_id]
    enough = len(activation.approved) >= required
    if len(approvers) - len(activation.rejected) < required:
        raise Conflict(
            f"Without them the step cannot reach the {required} approvals it needs",
            "too_few_approvers",
        )
    effects: list[Effect] = [cancelled(task, "approver_removed", actor)]
    activations = dict(state.activations)
    node_id = task.node_id
    if not enough:
        activations[activation.activation_id] = activation._replace(
            approvers=approvers, required=required
        )
        after = InstanceState(
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
        )
        return StepResult(after, tuple(effects))
    del activations[activation.activation_id]
    for other in pending:
        del tasks[other.task_id]
        effects.append(cancelled(other, "node_decided", actor))
    decided_now = activation._replace(approvers=approvers, required=required)
    effects.append(decided(decided_now, "approved", activation.approved, activation.rejected))
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
    passed = state.passed if node_id in state.passed else (*state.passed, node_id)
    walk.advance(values, spec.index.outgoing[node_id])
    result = walk.result(passed)
    if result.state.status != "running":
        return result
    return StepResult(result.state._replace(acted=True, signs=state.signs), result.effects)
