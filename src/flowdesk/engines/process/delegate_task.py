"""委派 (per-task delegation): the holder of an open task asks someone to work it, and the
task comes back to them to decide; part of the pure step (APPROVALS.md 委派, edge case
29, ADR 0034). Not 代理, the out-of-office substitute who decides in the principal's place
(services/delegations.py, ADR 0021).

A delegation is a chain of the state's `signs` (ADR 0020) with position "delegate": the
owner's task waits (nobody may approve, reject, return or transfer it, 409
`task_delegated`), and the delegate gets one task of the same node instance, which never
counts in the node's tally. The delegate *resolves* that task (Flowable's `resolveTask`):
it closes as `resolved`, with their comment and opinion, and the owner's task, which
stayed open all along, is actionable again. Completing the delegate's task (approve or
reject as final) is refused with 409 `delegated_task_resolve`, so no second task appears
(Flowable #3932: resolve, then complete, left two). A node decided meanwhile (或签, a
rejection, a return) closes the delegate's task like any signer's.
"""

from __future__ import annotations

from flowdesk.kernel.errors import Conflict, ErrorDetail, ValidationFailed

from .commands import DelegateTask, ResolveTask
from .effects import Effect, TaskClosed, TaskOpened
from .spec import ProcessSpec
from .state import AddSign, InstanceState, OpenTask
from .walk import Context, StepResult, actionable

DELEGATE = "delegate"  # the AddSign position of a 委派


def delegated_task(state: InstanceState | None, task_id: str) -> AddSign | None:
    """The delegation whose delegate's task is `task_id`, if any."""
    if state is None:
        return None
    for sign in state.signs.values():
        if sign.position == DELEGATE and task_id in sign.children:
            return sign
    return None


def delegation_of(state: InstanceState | None, task_id: str) -> AddSign | None:
    """The delegation of the owner's task `task_id`, if it is delegated."""
    sign = state.signs.get(task_id) if state is not None else None
    return sign if sign is not None and sign.position == DELEGATE else None


def delegations(state: InstanceState | None) -> dict[str, tuple[str, str]]:
    """Every delegation's two open tasks: the owner's task id → ("to", the delegate), and
    the delegate's task id → ("by", the owner); none for a state without any."""
    found: dict[str, tuple[str, str]] = {}
    if state is None:
        return found
    for sign in state.signs.values():
        if sign.position == DELEGATE:
            found[sign.parent] = ("to", sign.signers[0])
            for child in sign.children:
                found[child] = ("by", sign.by)
    return found


def refuse_owner() -> Conflict:
    return Conflict(
        "The task is delegated; it comes back to you to decide once the delegate resolves it",
        "task_delegated",
    )


def refuse_delegate() -> Conflict:
    return Conflict(
        "A delegated task is resolved, not decided: resolve it and its owner decides",
        "delegated_task_resolve",
    )


def delegate(
    spec: ProcessSpec,
    state: InstanceState | None,
    command: DelegateTask,
    ctx: Context,
    signers_at: set[str],
) -> StepResult:
    """`command.actor`'s open task waits for `command.to`, who gets a task to resolve.
    `signers_at` are the people signing (加签) at the task's node instance."""
    actor = command.actor
    task = actionable(state, command.task_id, actor)
    assert state is not None
    if task.node_id == spec.index.start.id:
        raise Conflict(
            "The ticket was returned to its applicant; only the applicant resubmits it",
            "ticket_returned",
        )
    if delegated_task(state, task.task_id) is not None:
        raise refuse_delegate()  # one hop: the delegate resolves, never delegates on
    if delegation_of(state, task.task_id) is not None:
        raise refuse_owner()
    if task.task_id in state.signs:
        raise Conflict(
            "Signers added to this task are still deciding; delegate it once they have",
            "add_sign_pending",
        )
    to = command.to
    if to == actor:
        raise ValidationFailed(
            "You cannot delegate a task to yourself",
            [ErrorDetail("to", "delegate_to_self", "You already hold this task")],
            code="delegate_to_self",
        )
    activation = state.activations[task.activation_id]
    holders = set(activation.approvers) | signers_at
    for other in state.tasks.values():
        if other.activation_id == task.activation_id:
            holders.update(other.assignees)
    if to in holders:  # they would decide this step twice (edge case 38's analogue)
        raise Conflict(
            f"'{to}' already holds a task at this step; they cannot work it twice",
            "already_approver",
        )
    child_id = ctx.new_id()
    tasks = dict(state.tasks)
    tasks[child_id] = OpenTask(child_id, task.node_id, (to,), task.activation_id)
    sign = AddSign(task.task_id, DELEGATE, "any", actor, (to,), (child_id,))
    effects: tuple[Effect, ...] = (TaskOpened(child_id, task.node_id, (to,)),)
    return StepResult(
        state._replace(tasks=tasks, signs={**state.signs, task.task_id: sign}), effects
    )


def resolve(state: InstanceState | None, command: ResolveTask) -> StepResult:
    """The delegate's task closes as resolved; the owner's task is theirs to decide again."""
    task = actionable(state, command.task_id, command.actor)
    assert state is not None
    sign = delegated_task(state, task.task_id)
    if sign is None:
        raise Conflict("Only a delegated task is resolved", "task_not_delegated")
    if command.opinion not in ("", "approve", "reject"):
        raise ValidationFailed(
            "opinion is approve, reject or empty",
            [ErrorDetail("opinion", "invalid_choice", "Choose approve or reject")],
            code="invalid_opinion",
        )
    tasks = {key: value for key, value in state.tasks.items() if key != task.task_id}
    signs = {key: value for key, value in state.signs.items() if key != sign.parent}
    closed = TaskClosed(task.task_id, task.node_id, "resolved", command.actor, command.comment)
    return StepResult(state._replace(tasks=tasks, signs=signs), (closed,))
