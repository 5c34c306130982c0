"""通过后撤销: revoking an approved ticket (APPROVALS.md edge case 28, ADR 0042).

The app's `withdraw.revoke_days` in force when the ticket was approved is kept with the
approved state (`RevokeTerms`, recorded by `recorded`), so a later app version that turns
it on never opens older tickets. Within that many days of the approval its applicant may
ask to revoke it (`RequestRevoke`): the ticket runs again with one node instance, a 会签
(`all`, one rejection decides) of the people who approved it, at the reserved node
`REVOKE_NODE`. When all of them approve, the ticket ends `revoked`; when one rejects,
the others' tasks are cancelled and it is approved again exactly as it was (same terms:
the window still counts from the first approval).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flowdesk.kernel.errors import Conflict, Forbidden, ValidationFailed

from .commands import Command, CompleteTask, RequestRevoke
from .effects import Effect, InstanceFinished, TaskClosed, TaskOpened, TaskOutcome
from .state import Activation, InstanceState, OpenTask, RevokeTerms, running
from .walk import Context, StepResult, actionable, cancelled, decided

REVOKE_NODE = "__revoke__"  # the revocation round's node: in no process spec
REVOKE_NAMES = {"en": "Revocation", "zh": "撤销审批"}


def recorded(state: InstanceState, days: int, at: datetime) -> InstanceState:
    """`state` with the revoke terms in force at `at`, when it has just been approved
    (an approval with the setting off records nothing: it can never be revoked)."""
    if state.status != "approved" or state.revoke is not None or days <= 0:
        return state
    return state._replace(revoke=RevokeTerms(days, at.isoformat()))


def revoking(state: InstanceState | None) -> bool:
    """The ticket is in its revocation round."""
    return (
        state is not None
        and state.status == "running"
        and any(a.node_id == REVOKE_NODE for a in state.activations.values())
    )


def handles(state: InstanceState | None, command: Command) -> bool:
    """Whether `command` is this module's: a revocation request, or any command during a
    revocation round (which always carries its terms: two attribute reads per step)."""
    return type(command) is RequestRevoke or (
        state is not None and state.revoke is not None and state.status == "running"
    )


def refusal(state: InstanceState | None, actor: str, now: datetime) -> Conflict | Forbidden | None:
    """Why `actor` may not ask to revoke the ticket now (None: they may)."""
    if state is None or state.status != "approved":
        return Conflict("Only an approved ticket can be revoked", "ticket_not_approved")
    if actor != state.starter:
        return Forbidden("Only the applicant can revoke the ticket", "not_applicant")
    terms = state.revoke
    if terms is None:
        return Conflict(
            "Revoking was not allowed by the app when this ticket was approved", "revoke_off"
        )
    if now > datetime.fromisoformat(terms.approved_at) + timedelta(days=terms.days):
        return Conflict(
            f"A ticket can be revoked only within {terms.days} days of its approval",
            "revoke_window_passed",
        )
    return None


def revoke_step(state: InstanceState | None, command: Command, ctx: Context) -> StepResult:
    if type(command) is RequestRevoke:
        return _request(state, command, ctx)
    assert state is not None
    if type(command) is not CompleteTask:
        raise Conflict(
            "The ticket is waiting for its approvers to agree to revoke it", "revoke_pending"
        )
    return _decide(state, command)


def _request(state: InstanceState | None, command: RequestRevoke, ctx: Context) -> StepResult:
    problem = refusal(state, command.actor, command.now)
    if problem is not None:
        raise problem
    assert state is not None
    approvers = tuple(dict.fromkeys(p for p in command.approvers if p != state.starter))
    if not approvers:  # nobody approved it (automatic approvals): nobody to ask
        return StepResult(InstanceState("revoked", state.starter), (InstanceFinished("revoked"),))
    activation_id = ctx.new_id()
    activation = Activation(activation_id, REVOKE_NODE, "all", approvers, len(approvers), True)
    tasks: dict[str, OpenTask] = {}
    effects: list[Effect] = []
    for person in approvers:
        task_id = ctx.new_id()
        tasks[task_id] = OpenTask(task_id, REVOKE_NODE, (person,), activation_id)
        effects.append(TaskOpened(task_id, REVOKE_NODE, (person,)))
    after = running(
        state.starter, tasks, {}, {activation_id: activation}, (), True, {}, {}, None, {}
    )
    return StepResult(after._replace(revoke=state.revoke), tuple(effects))


def _decide(state: InstanceState, command: CompleteTask) -> StepResult:
    task = actionable(state, command.task_id, command.actor)
    if command.outcome not in ("approve", "reject"):
        raise ValidationFailed("The outcome must be approve or reject", code="invalid_outcome")
    activation = state.activations[task.activation_id]
    tasks = {k: v for k, v in state.tasks.items() if k != task.task_id}
    outcome: TaskOutcome = "approved" if command.outcome == "approve" else "rejected"
    effects: list[Effect] = [
        TaskClosed(task.task_id, REVOKE_NODE, outcome, command.actor, command.comment)
    ]
    if command.outcome == "reject":
        effects.extend(cancelled(t, "revoke_rejected", command.actor) for t in tasks.values())
        effects.append(decided(activation, "rejected", activation.approved, (command.actor,)))
        effects.append(InstanceFinished("approved"))  # approved again, as it was
        back = InstanceState("approved", state.starter, revoke=state.revoke)
        return StepResult(back, tuple(effects))
    approved = (*activation.approved, command.actor)
    if tasks:
        after = running(
            state.starter,
            tasks,
            {},
            {activation.activation_id: activation.with_approved(approved)},
            (),
            True,
            {},
            {},
            None,
            {},
        )
        return StepResult(after._replace(revoke=state.revoke), tuple(effects))
    effects.append(decided(activation, "approved", approved, ()))
    effects.append(InstanceFinished("revoked"))
    return StepResult(InstanceState("revoked", state.starter), tuple(effects))
