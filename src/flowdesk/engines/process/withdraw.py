"""撤回 and 撤销: the applicant's withdraw and cancel, and an approver's withdraw of their
own approval; part of the pure step (APPROVALS.md 撤回/撤销, edge cases 24-27, ADR 0019).

- `Withdraw` (the applicant's 撤回): while nobody but the applicant acted since the ticket
  was (re)submitted, every open task is cancelled ("withdrawn") and the ticket rests at
  the applicant exactly as after a 退回 to them (returns.rest_at_applicant): they edit
  and resubmit it, or cancel it.
- `CancelInstance` (撤销): every open task in every branch is cancelled ("cancelled") and
  the instance ends with the status cancelled. Revoking an approved ticket (edge case 28)
  is revoke.py's (ADR 0042).
- `RetractDecision` (an approver's 撤回): the approver's last approval is taken back while
  nothing it led to was acted on. The tasks it opened are cancelled ("withdrawn"), the
  join arrivals it left waiting are removed, and the node instance is restored to its
  tally before the approval with a new task for the approver (and, when the approval
  decided a 或签 or a vote, new tasks for the others it closed). In a 会签 still
  deciding only the approver's own approval is removed (edge case 25); an approval that
  completed a parallel join is never withdrawn (edge case 26, refused in v1).

The state keeps, per approver, their last approval while it can still be withdrawn
(state.Decision): `remember` records it after each step and drops those that something
later made final, so `step` stays a pure function of the state and the command.
"""

from __future__ import annotations

from flowdesk.kernel.errors import Conflict, Forbidden

from .commands import (
    CancelInstance,
    ChangeApplicant,
    Command,
    CompleteTask,
    FireTimer,
    ReceiveMessage,
    Resubmit,
    RetractDecision,
    Start,
)
from .commands import Withdraw as WithdrawCommand
from .effects import Effect, ErrorThrown, InstanceFinished, NodePassed, TaskOpened
from .returns import rest_at_applicant
from .spec import ProcessSpec
from .state import Decision, InstanceState, running
from .walk import Context, StepResult, Walk, cancelled

Withdrawal = WithdrawCommand | CancelInstance | RetractDecision
WITHDRAWALS = (WithdrawCommand, CancelInstance, RetractDecision)
# after these nobody but the applicant acted (the command's type: one set look-up)
_FRESH: frozenset[type] = frozenset({Start, Resubmit, WithdrawCommand})
_DECIDING = (CompleteTask, RetractDecision)  # these replace the actor's last approval
# nobody acted on the ticket: a timer, a message, its applicant handed over (ADR 0034)
_PASSIVE: frozenset[type] = frozenset({FireTimer, ReceiveMessage, ChangeApplicant})


def withdrawal(
    spec: ProcessSpec, state: InstanceState | None, command: Withdrawal, ctx: Context
) -> StepResult:
    if isinstance(command, WithdrawCommand):
        return _withdraw(spec, _running(state), command, ctx)
    if isinstance(command, CancelInstance):
        return _cancel(_running(state), command)
    return _retract(spec, _running(state), command, ctx)


def _running(state: InstanceState | None) -> InstanceState:
    if state is None:
        raise Conflict("The process instance has not started", "instance_not_started")
    if state.status != "running":
        raise Conflict("The process instance has already finished", "instance_finished")
    return state


def _applicant(state: InstanceState, actor: str, verb: str) -> None:
    if actor != state.starter:
        raise Forbidden(f"Only the applicant can {verb} the ticket", "not_applicant")


def at_applicant(spec: ProcessSpec, state: InstanceState) -> bool:
    """The ticket rests at its applicant (returned or withdrawn to them)."""
    start_id = spec.index.start.id
    return any(task.node_id == start_id for task in state.tasks.values())


def untouched(state: InstanceState) -> bool:
    """Nobody but the applicant acted since the ticket was (re)submitted. A state stored
    before ADR 0019 does not say; then no node may have passed or counted a decision."""
    if state.acted is not None:
        return not state.acted
    return not state.passed and all(
        not a.approved and not a.rejected and not a.returned_from
        for a in state.activations.values()
    )


def _withdraw(
    spec: ProcessSpec, state: InstanceState, command: WithdrawCommand, ctx: Context
) -> StepResult:
    actor = command.actor
    _applicant(state, actor, "withdraw")
    if at_applicant(spec, state):
        raise Conflict("The ticket is already with its applicant", "ticket_returned")
    if not untouched(state):
        raise Conflict(
            "An approver has already acted on the ticket; it can no longer be withdrawn, "
            "only cancelled",
            "already_processed",
        )
    effects: list[Effect] = [cancelled(task, "withdrawn", actor) for task in state.tasks.values()]
    walk = Walk(spec, ctx, state.starter, {}, {}, {}, effects)
    rest_at_applicant(walk)
    return walk.result(())


def _cancel(state: InstanceState, command: CancelInstance) -> StepResult:
    actor = command.actor
    _applicant(state, actor, "cancel")
    effects: list[Effect] = [cancelled(task, "cancelled", actor) for task in state.tasks.values()]
    effects.append(InstanceFinished("cancelled"))
    return StepResult(InstanceState("cancelled", state.starter), tuple(effects))


def _retract(
    spec: ProcessSpec, state: InstanceState, command: RetractDecision, ctx: Context
) -> StepResult:
    actor = command.actor
    decision = state.decisions.get(actor)
    if decision is None or decision.task_id != command.task_id:
        raise Conflict(
            "Only your last approval can be withdrawn, and only while nothing after it "
            "was acted on",
            "already_processed",
        )
    snapshot = decision.activation
    node = spec.nodes[snapshot.node_id]
    if not node.withdraw:
        raise Conflict(
            f"Step '{node.id}' does not let an approver withdraw an approval",
            "withdraw_not_allowed",
        )
    if decision.blocked == "join":
        raise Conflict(
            "This approval completed a parallel join and the steps after it started; "
            "it can no longer be withdrawn",
            "decision_completed_join",
        )
    if decision.blocked == "swept":
        raise Conflict(
            "This approval reached an error or terminate end that closed other steps; "
            "it can no longer be withdrawn",
            "decision_swept_steps",
        )
    if not retractable(state, decision):  # dropped by `remember` already; kept as a guard
        raise Conflict("Something after this approval was already acted on", "already_processed")

    tasks = dict(state.tasks)
    activations = dict(state.activations)
    joins = dict(state.joins)
    effects: list[Effect] = []
    for task_id in decision.opened:
        task = tasks.pop(task_id)
        effects.append(cancelled(task, "withdrawn", actor))
        if task.activation_id != snapshot.activation_id:
            activations.pop(task.activation_id, None)
    for join_id, flow_id in decision.joined:
        left = joins[join_id] - {flow_id}
        if left:
            joins[join_id] = left
        else:
            del joins[join_id]
    current = state.activations.get(snapshot.activation_id)
    holders: list[tuple[str, ...]]
    if current is not None:  # the node is still deciding: only this approval goes
        approved = list(current.approved)
        del approved[len(approved) - 1 - approved[::-1].index(actor)]
        restored = current._replace(approved=tuple(approved))
        holders = [(actor,)]
    else:  # the approval decided the node: the node instance comes back as it was
        restored = snapshot
        if snapshot.mode == "single":
            holders = [snapshot.approvers]
        elif snapshot.mode == "sequential":
            holders = [(actor,)]
        else:  # 会签, 或签, vote: everyone who had not decided when it was decided
            holders = [
                (person,)
                for person in snapshot.approvers
                if person not in snapshot.approved and person not in snapshot.rejected
            ]
    activations[restored.activation_id] = restored
    walk = Walk(spec, ctx, state.starter, tasks, joins, activations, effects)
    for people in holders:
        walk.open_task(restored.node_id, people, restored.activation_id)
    passed = state.passed
    if decision.passed:
        passed = tuple(node_id for node_id in passed if node_id != restored.node_id)
    return walk.result(passed)


def retractable(state: InstanceState, decision: Decision) -> bool:
    """Whether nothing that `decision` led to was acted on since (the refusal of edge
    case 24: a decision at the next node, even one of three countersigners)."""
    snapshot = decision.activation
    tasks = state.tasks
    if decision.opened and any(task_id not in tasks for task_id in decision.opened):
        return False  # (a 会签 approval still deciding opened nothing: no generator for it)
    current = state.activations.get(snapshot.activation_id)
    if current is not None:  # still deciding: the approval is in its tally
        if decision.decided or decision.actor not in current.approved:
            return False
        if current.mode != "sequential":
            return True
        # 依次: it was the last approval, and the next approver has not acted
        mine = {t.task_id for t in tasks.values() if t.activation_id == current.activation_id}
        return current.approved[-1] == decision.actor and mine == set(decision.opened)
    if not decision.decided:  # another approver's decision decided the node since
        return False
    opened = {tasks[task_id].activation_id for task_id in decision.opened}
    for activation_id in opened:
        activation = state.activations.get(activation_id)
        if activation is None or activation.approved or activation.rejected:
            return False
    now_open = {t.task_id for t in tasks.values() if t.activation_id in opened}
    if now_open != set(decision.opened):  # one was transferred, signed beside …
        return False
    return all(flow_id in state.joins.get(join_id, ()) for join_id, flow_id in decision.joined)


def _decision(
    spec: ProcessSpec, before: InstanceState, command: CompleteTask, result: StepResult
) -> Decision:
    task = before.tasks[command.task_id]
    after = result.state
    joins = spec.index.join_sizes
    or_joins = spec.index.control.or_joins
    opened: list[str] = []
    completed_join = False
    swept = fired_or_join = False
    for e in result.effects:  # one pass: this runs for every approval
        if type(e) is TaskOpened:
            opened.append(e.task_id)
        elif type(e) is NodePassed and e.node_type == "parallel_gateway" and e.node_id in joins:
            completed_join = True
        elif type(e) is NodePassed and e.node_id in or_joins:  # an OR-join fired (ADR 0022)
            fired_or_join = True
        elif type(e) is ErrorThrown or (type(e) is NodePassed and e.node_type == "terminate_end"):
            swept = True  # tokens it swept out of a sub-process cannot come back (ADR 0022)
    joined: tuple[tuple[str, str], ...] = ()
    if after.joins:
        joined = tuple(
            (join_id, flow_id)
            for join_id, arrived in after.joins.items()
            for flow_id in sorted(arrived - before.joins.get(join_id, frozenset()))
        )
    node_id = task.node_id
    return Decision(
        command.actor,
        command.task_id,
        before.activations[task.activation_id],
        tuple(opened),
        joined,
        node_id not in before.passed and node_id in after.passed,
        "join" if completed_join or fired_or_join else "swept" if swept else "",
        task.activation_id not in after.activations,
    )


def remember(
    spec: ProcessSpec, before: InstanceState | None, command: Command, result: StepResult
) -> StepResult:
    """The step's result with what 撤回 needs to know: whether anybody but the applicant
    acted since the last (re)submission, and each approver's last approval while it can
    still be withdrawn. A finished instance keeps neither."""
    after = result.state
    if after.status != "running":
        return result
    acted: bool | None = type(command) not in _FRESH
    if type(command) in _PASSIVE:  # a timer or a message is nobody acting (ADR 0023)
        acted = before.acted if before is not None else False
    decisions: dict[str, Decision] = {}
    if before is not None:
        if before.decisions:
            decider = command.actor if isinstance(command, _DECIDING) else None
            for actor, decision in before.decisions.items():
                if actor != decider and retractable(after, decision):
                    decisions[actor] = decision
        if type(command) is CompleteTask and command.outcome == "approve":
            task = before.tasks.get(command.task_id)
            if task is not None and task.activation_id in before.activations:
                decisions[command.actor] = _decision(spec, before, command, result)
    if after.acted is acted and after.decisions == decisions:
        return result
    state = running(
        after.starter,
        after.tasks,
        after.joins,
        after.activations,
        after.passed,
        acted,
        decisions,
        after.signs,
        None,
        after.waits,
    )
    return StepResult(state, result.effects)
