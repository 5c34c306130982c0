"""转交: the holder of an open task hands it to another person, who becomes its full
approver; part of the pure step (APPROVALS.md 转交, edge case 38).

The task closes as transferred (kept, with who and why) and a new task opens at the same
node instance for the new holder, who takes the transferring person's place among the
node's approvers: a 会签 still needs the same number of approvals, a 依次 sequence goes on
in the same order, a shared task keeps its other holders. Transferring to oneself, or to
someone who already is one of the node's approvers (they would decide twice), is refused.
Whether the new holder may be assigned at all (an active user) is the caller's check.
"""

from __future__ import annotations

from flowdesk.kernel.errors import Conflict, ValidationFailed

from .commands import TransferTask
from .effects import TaskClosed, TaskOpened
from .spec import ProcessSpec
from .state import InstanceState, OpenTask
from .walk import Context, StepResult, actionable


def transfer_task(
    spec: ProcessSpec, state: InstanceState | None, command: TransferTask, ctx: Context
) -> StepResult:
    actor = command.actor
    task = actionable(state, command.task_id, actor)
    assert state is not None
    if task.node_id == spec.index.start.id:
        raise Conflict(
            "The ticket was returned to its applicant; only the applicant resubmits it",
            "ticket_returned",
        )
    to = command.to
    if to == actor:
        raise ValidationFailed("You cannot transfer a task to yourself", code="transfer_to_self")
    activation = state.activations[task.activation_id]
    if to in activation.approvers or to in task.assignees:
        raise Conflict(
            f"'{to}' is already an approver at this step; they cannot decide it twice",
            "already_approver",
        )
    holders = tuple(to if person == actor else person for person in task.assignees)
    approvers = tuple(to if person == actor else person for person in activation.approvers)
    new_id = ctx.new_id()
    tasks = {key: value for key, value in state.tasks.items() if key != task.task_id}
    tasks[new_id] = OpenTask(new_id, task.node_id, holders, activation.activation_id)
    activations = dict(state.activations)
    activations[activation.activation_id] = activation._replace(approvers=approvers)
    effects = (
        TaskClosed(task.task_id, task.node_id, "transferred", actor, command.comment),
        TaskOpened(new_id, task.node_id, holders),
    )
    return StepResult(
        InstanceState(
            "running",
            state.starter,
            tasks,
            state.joins,
            activations,
            state.passed,
            waits=state.waits,
        ),
        effects,
    )
