"""A ticket's applicant changes hands: the bulk hand-over of a person who leaves or moves
gives their running tickets to someone else (their manager by default), who then holds
what the applicant holds (ADR 0034); part of the pure step.

The state's `starter` becomes the new owner, so every later step resolves "the
applicant's …" rules, maker-checker and a return to the applicant against them. A ticket
resting at the applicant (returned, or withdrawn) has its task there closed as
transferred and reopened for the new owner. Maker-checker holds: someone who decides a
step of the ticket now cannot also own it (403 `self_approval`).
"""

from __future__ import annotations

from flowdesk.kernel.errors import Conflict, Forbidden, ValidationFailed

from .commands import ChangeApplicant
from .effects import Effect, TaskClosed, TaskOpened
from .spec import ProcessSpec
from .state import InstanceState, OpenTask
from .walk import Context, StepResult


def change_applicant(
    spec: ProcessSpec, state: InstanceState | None, command: ChangeApplicant, ctx: Context
) -> StepResult:
    if state is None or state.status != "running":
        raise Conflict("The process instance has already finished", "instance_finished")
    old, to = state.starter, command.to
    if to == old:
        raise ValidationFailed("The ticket already belongs to that person", code="same_owner")
    start = spec.index.start.id
    deciding = {
        person
        for task in state.tasks.values()
        if task.node_id != start
        for person in task.assignees
    } | {
        person
        for activation in state.activations.values()
        if activation.node_id != start
        for person in activation.approvers
    }
    if to in deciding:
        raise Forbidden(
            "That person decides a step of this ticket; they cannot own it as well",
            "self_approval",
        )
    tasks = dict(state.tasks)
    activations = dict(state.activations)
    effects: list[Effect] = []
    for task in state.tasks.values():
        if task.node_id != start or old not in task.assignees:
            continue
        del tasks[task.task_id]
        new_id = ctx.new_id()
        holders = tuple(to if person == old else person for person in task.assignees)
        tasks[new_id] = OpenTask(new_id, start, holders, task.activation_id)
        activation = activations[task.activation_id]
        approvers = tuple(to if person == old else person for person in activation.approvers)
        activations[task.activation_id] = activation._replace(approvers=approvers)
        effects.append(TaskClosed(task.task_id, start, "transferred", old, ""))
        effects.append(TaskOpened(new_id, start, holders))
    return StepResult(
        state._replace(starter=to, tasks=tasks, activations=activations), tuple(effects)
    )
