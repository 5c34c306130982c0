"""No one approves twice in one ticket (issue 8, segregation of duties; ADR 0025).

    process: {once_per_ticket: true, nodes: …}          # every user task
    - {id: final, type: user_task, once_per_ticket: true, …}   # one step

Whoever approved an earlier step of the ticket is left out of the candidates of such a
step; when that leaves nobody, the step's `on_empty` applies (skip, a fallback rule's
people, who are filtered the same way) or the step fails with the clear error
`only_earlier_approvers`. A person who still holds a task there (assigned before they
approved elsewhere, say in a parallel branch) is refused with 403 `approved_before` when
they approve, as is a 转交 or 加签 to someone who already approved.

The approvals that count are kept in the state (`InstanceState.approvals`, an
`ApprovalLog` of (node, person) pairs), updated around every step by `counted`:
- an approval (a task closed "approved") counts from the step it was given in;
- 撤回 of an approval takes it out again;
- 退回 to a node (or to the applicant) sets aside the approvals of every node from the
  target on: they were sent back and no longer count. They are dropped when their node
  runs again (the default "rerun"), and count again only for the nodes a "straight_back"
  resubmission jumps over (those nodes count as passed without being decided again).
  Once no node instance opened by a return is left, whatever is still set aside goes.
Only processes with such a step keep the log; every other ticket's state is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from flowdesk.kernel.errors import Forbidden

from . import dedup
from .commands import (
    AddSigners,
    Command,
    CompleteTask,
    RetractDecision,
    ReturnTask,
    TransferTask,
    Withdraw,
)
from .effects import TaskClosed
from .spec import AssigneeRule, ProcessSpec
from .state import ApprovalLog, InstanceState

if TYPE_CHECKING:
    from .walk import Context, StepResult

Inner = Callable[[ProcessSpec, "InstanceState | None", Command, "Context"], "StepResult"]
AddProblem = Callable[[str, str, str], None]
NOBODY: frozenset[str] = frozenset()
EMPTY_LOG = ApprovalLog()


def parse_flag(data: Mapping[str, object], key: str, path: str, add: AddProblem) -> bool:
    if key not in data:
        return False
    value = data[key]
    if not isinstance(value, bool):
        add(f"{path}.{key}", "wrong_type", "true or false")
        return False
    return value


def parse_node_flag(
    raw: Mapping[str, object], node_type: str | None, path: str, add: AddProblem
) -> bool:
    """A user task's `once_per_ticket: true`."""
    if "once_per_ticket" in raw and node_type is not None and node_type != "user_task":
        add(f"{path}.once_per_ticket", "once_per_ticket_not_allowed", "Only user tasks have it")
        return False
    return parse_flag(raw, "once_per_ticket", path, add)


class OnceContext:
    """The step's Context with the people whose approvals count in this ticket, which the
    walk leaves out of the steps where no one approves twice (walk.Walk.resolve), and
    the approvals de-duplication may use (`seen`, dedup.py)."""

    __slots__ = ("approved", "inner", "seen")

    def __init__(
        self, inner: Context, approved: frozenset[str], seen: dedup.Seen | None = None
    ) -> None:
        self.inner = inner
        self.approved = approved
        self.seen = seen

    def principal_of(self, person: str) -> str:
        return dedup.principal_of(self.inner, person)

    def names_only_applicant(
        self, rule: AssigneeRule, starter: str, values: Mapping[str, object], previous: str
    ) -> bool:
        ask = getattr(self.inner, "names_only_applicant", None)
        return ask is not None and bool(ask(rule, starter, values, previous))

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self.inner.evaluate(condition, values)

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = NOBODY,
    ) -> Sequence[str]:
        if values is None and not previous and not exclude:
            return self.inner.resolve_assignees(rule, starter)
        return self.inner.resolve_assignees(
            rule, starter, values=values, previous=previous, exclude=exclude
        )

    def new_id(self) -> str:
        return self.inner.new_id()


def seen(ctx: object) -> dedup.Seen | None:
    """The approvals de-duplication may use in the step (none outside such a process)."""
    return ctx.seen if isinstance(ctx, OnceContext) else None


def approved(ctx: object) -> frozenset[str]:
    """Whose approvals count in the ticket being stepped (none outside such a process)."""
    return ctx.approved if isinstance(ctx, OnceContext) else NOBODY


def counted(
    spec: ProcessSpec, state: InstanceState | None, command: Command, ctx: Context, inner: Inner
) -> StepResult:
    """`inner` (the whole step) with the refusals of a second approval before it and the
    state's approvals that count brought up to date after it."""
    log = state.approvals if state is not None and state.approvals is not None else EMPTY_LOG
    repeats, looked = dedup.before(log.repeats, command)
    if state is not None and spec.index.once:
        _refuse(spec, state, log, command)
        log = _taken_back(spec, state, log, command)
    people = log.people() if spec.index.once else NOBODY
    if spec.index.once and isinstance(command, CompleteTask) and command.outcome == "approve":
        people |= {command.actor}  # this very approval counts for the steps it leads to
    result = inner(spec, state, command, OnceContext(ctx, people, looked))
    if result.state.status != "running":
        return result  # a finished ticket keeps no log
    new_log = _update(state, log, result) if spec.index.once else EMPTY_LOG
    jumped = new_log.people() - people
    if jumped and log.held:
        # a straight-back resubmission jumped over steps whose approvals count again:
        # the step is run once more with them left out too (the step is pure)
        result = inner(spec, state, command, OnceContext(ctx, people | jumped, looked))
        new_log = _update(state, log, result)
    new_log = new_log._replace(repeats=dedup.after(spec, repeats, command, result, ctx))
    return result._replace(state=result.state._replace(approvals=new_log))


def _refuse(spec: ProcessSpec, state: InstanceState, log: ApprovalLog, command: Command) -> None:
    task_id = getattr(command, "task_id", None)
    task = state.tasks.get(task_id) if isinstance(task_id, str) else None
    if task is None or task.node_id not in spec.index.once or not log.counted:
        return
    node_id = task.node_id
    if isinstance(command, CompleteTask) and command.outcome == "approve":
        if command.actor not in task.assignees:
            return  # not theirs: the step refuses it as for anyone (not_assignee)
        earlier = log.elsewhere(command.actor, node_id)
        if earlier is not None:
            raise Forbidden(
                f"You already approved '{spec.nodes[earlier].label()}' on this ticket; no one "
                "approves twice in one ticket, so someone else must approve this step",
                "approved_before",
            )
    elif getattr(command, "actor", "") not in task.assignees:
        return
    elif isinstance(command, TransferTask) and log.elsewhere(command.to, node_id) is not None:
        raise Forbidden(
            "The person you chose already approved an earlier step of this ticket; no one "
            "approves twice in one ticket",
            "approved_before",
        )
    elif isinstance(command, AddSigners) and any(
        log.elsewhere(person, node_id) is not None for person in command.users
    ):
        raise Forbidden(
            "A person you chose already approved an earlier step of this ticket; no one "
            "approves twice in one ticket",
            "approved_before",
        )


def _taken_back(
    spec: ProcessSpec, state: InstanceState, log: ApprovalLog, command: Command
) -> ApprovalLog:
    """The log once a 撤回 took an approval out, or a 退回 set aside every approval from
    its target on (they no longer count, from this step on). The applicant's 撤回 takes
    the whole ticket back: every node runs again, no approval stands."""
    if isinstance(command, Withdraw):
        return EMPTY_LOG
    kept = list(log.counted)
    if isinstance(command, RetractDecision):
        decision = state.decisions.get(command.actor)
        if decision is not None:
            pair = (decision.activation.node_id, command.actor)
            if pair in kept:
                del kept[len(kept) - 1 - kept[::-1].index(pair)]
                return ApprovalLog(tuple(kept), log.held)
    if isinstance(command, ReturnTask):
        reached = _reachable(spec, command.to or spec.index.start.id)
        held = (*log.held, *(pair for pair in kept if pair[0] in reached))
        return ApprovalLog(tuple(pair for pair in kept if pair[0] not in reached), held)
    return log


def _update(before: InstanceState | None, log: ApprovalLog, result: StepResult) -> ApprovalLog:
    """`log` after the step: its approvals added; what a return set aside dropped where a
    node runs again, counted again where a straight-back resubmission jumped over it."""
    after = result.state
    kept = list(log.counted)
    held = list(log.held)
    before_activations = before.activations if before is not None else {}
    rerun = {a.node_id for key, a in after.activations.items() if key not in before_activations}
    if rerun and held:
        held = [pair for pair in held if pair[0] not in rerun]
    for effect in result.effects:
        if type(effect) is TaskClosed and effect.outcome == "approved" and effect.actor:
            kept.append((effect.node_id, effect.actor))
    if held:
        newly = set(after.passed).difference(before.passed if before is not None else ())
        kept.extend(pair for pair in held if pair[0] in newly)  # jumped over: they count
        held = [pair for pair in held if pair[0] not in newly]
        if not any(a.returned_from for a in after.activations.values()):
            held = []
    return ApprovalLog(tuple(kept), tuple(held))


def _reachable(spec: ProcessSpec, origin: str) -> frozenset[str]:
    seen = {origin}
    todo = [origin]
    while todo:
        for flow in spec.index.outgoing[todo.pop()]:
            if flow.target not in seen:
                seen.add(flow.target)
                todo.append(flow.target)
    return frozenset(seen)
