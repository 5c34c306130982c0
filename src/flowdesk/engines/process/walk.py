"""The parts of a step shared by its commands: the Context protocol, results and
failures, and `Walk`, which moves tokens and opens activations while a step builds the
new state (runtime.py completes tasks, returns.py sends tickets back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Literal, NamedTuple, Protocol

from flowdesk.kernel.errors import Conflict, ErrorDetail, FlowdeskError, Forbidden

from . import dedup, once
from .assignees import STEP_KINDS
from .calls import ChildCalled
from .cc import copies
from .control import CONTROL_TYPES, WAIT_TYPES
from .control_walk import Pending, _clear, move, scope_ended, settle
from .effects import (
    CloseReason,
    Effect,
    InstanceFinished,
    MessageAwaited,
    NodeDecided,
    NodePassed,
    NodeSkipped,
    SkipReason,
    TaskClosed,
    TaskOpened,
    TimerSet,
)
from .spec import APPLICANT_LEADER, PROCESS_ADMINS, AssigneeRule, Flow, Node, ProcessSpec
from .state import EMPTY, Activation, InstanceState, OpenTask, Wait, running
from .webhook import requested

# the modes whose auto-approve timeout approves one approver's task at a time (ADR 0041)
PER_TASK_MODES = frozenset({"all", "vote"})


def wait_at(walk: Walk, node: Node, values: Mapping[str, object], group: str = "") -> str:
    """A token arrives at a timer or message catch event and waits there (ADR 0023);
    `group`: the waits an event-based gateway started together (ADR 0035). Returns the
    wait's id."""
    if node.call is not None and node.call.each:  # one child per item (ADR 0035)
        return call_each(walk, node, values)
    wait_id = walk.ctx.new_id()
    if node.call is not None:  # a call activity: the services file the child (ADR 0033)
        walk.waits[wait_id] = Wait(wait_id, node.id, node.call.app)
        call = node.call
        walk.effects.append(
            ChildCalled(wait_id, node.id, call.app, call.child_values(values), call.version)
        )
        return wait_id
    if node.type == "timer_catch":
        timer = node.timer
        assert timer is not None  # parse_process guarantees it
        walk.waits[wait_id] = Wait(wait_id, node.id, "", group)
        walk.effects.append(
            TimerSet(wait_id, node.id, "", 1, timer.delay(1), timer.at, timer.working)
        )
        return wait_id
    message = node.message
    assert message is not None  # parse_process guarantees it
    key = message_key(walk, node, values)
    walk.waits[wait_id] = Wait(wait_id, node.id, key, group)
    walk.effects.append(MessageAwaited(wait_id, node.id, message.name, key))
    return wait_id


MAX_CHILDREN = 100  # children one multi-instance call activity files (ADR 0035)


def call_child(
    walk: Walk, node: Node, values: Mapping[str, object], item: str, group: str = ""
) -> str:
    """One child of a multi-instance call activity, for `item`: its wait keeps the item
    (the row's key, which the worker writes into the child's field) and the group of its
    call (the first child's wait id; a sequential call's position instead)."""
    call = node.call
    assert call is not None and call.each
    wait_id = walk.ctx.new_id()
    child = {**call.child_values(values), call.item_field: item}
    walk.waits[wait_id] = Wait(wait_id, node.id, item, group or wait_id)
    walk.effects.append(ChildCalled(wait_id, node.id, call.app, child, call.version, item))
    return wait_id


def call_each(walk: Walk, node: Node, values: Mapping[str, object]) -> str:
    """A multi-instance call activity (ADR 0035): a child per item of the list field, all
    at once (parallel, one group) or the first only (sequential, group "#0"); no item: no
    child, the token goes straight on ("" returned)."""
    call = node.call
    assert call is not None
    items = call.items(values)
    if not items:
        return ""
    if len(items) > MAX_CHILDREN:
        raise StepFailed(
            walk.spec,
            node.id,
            "too_many_children",
            f"'{node.id}' would file {len(items)} tickets of '{call.app}', one per item of "
            f"'{call.each}'; at most {MAX_CHILDREN}",
        )
    if call.order == "sequential":
        return call_child(walk, node, values, items[0], "#0")
    first = call_child(walk, node, values, items[0])
    for item in items[1:]:
        call_child(walk, node, values, item, first)
    return first


def message_key(walk: Walk, node: Node, values: Mapping[str, object]) -> str:
    """The correlation key a message to `node` must carry: the value of its form field
    now; empty is the step's error."""
    message = node.message
    assert message is not None  # parse_process guarantees it
    raw = values.get(message.key)
    key = "" if raw is None or isinstance(raw, bool) else str(raw).strip()
    if not key:
        raise StepFailed(
            walk.spec,
            node.id,
            "message_key_missing",
            f"'{node.id}' waits for message '{message.name}' by the value of form field "
            f"'{message.key}', which is empty",
        )
    return key


def wait_for_first(walk: Walk, node: Node, values: Mapping[str, object]) -> None:
    """An event-based gateway (ADR 0035): a token waits at every catch event after it,
    in one group; the first to happen wins (timers.resume cancels the others)."""
    walk.effects.append(NodePassed(node.id, node.type))
    nodes = walk.spec.nodes
    ids = [wait_at(walk, nodes[out.target], values) for out in walk.spec.index.outgoing[node.id]]
    group = ids[0]
    for wait_id in ids:
        walk.waits[wait_id] = walk.waits[wait_id]._replace(group=group)


class Context(Protocol):
    """What the engine asks of the outside world during a step."""

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        """Whether branch `condition` holds for the ticket's form `values`."""
        ...

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]:
        """The people `rule` designates for an instance started by `starter`.

        The keywords are passed only where the rule or the step needs them (assignees.py,
        once.py): the ticket's form `values`, the `previous` approver (whose approval led
        here; "" at the first step after the applicant) and the people to leave out
        before a pick (`exclude`: they already approved, no one approves twice)."""
        ...

    def new_id(self) -> str:
        """A fresh, unique task id."""
        ...


class StepResult(NamedTuple):
    state: InstanceState
    effects: tuple[Effect, ...]


class StepFailed(FlowdeskError):
    """The step cannot go on at `node_id` (no branch holds, nobody to assign); nothing changed."""

    def __init__(self, spec: ProcessSpec, node_id: str, code: str, message: str) -> None:
        position = list(spec.nodes).index(node_id)
        detail = ErrorDetail(path=f"process.nodes[{position}]", code=code, message=message)
        super().__init__(message, code, [detail], 422)
        self.node_id = node_id


def actionable(state: InstanceState | None, task_id: str, actor: str) -> OpenTask:
    """The open task `actor` may act on, or the refusal every command gives."""
    if state is None:
        raise Conflict("The process instance has not started", "instance_not_started")
    if state.status != "running":
        raise Conflict("The process instance has already finished", "instance_finished")
    task = state.tasks.get(task_id)
    if task is None:
        raise Conflict("The task is no longer open", "task_not_open")
    if actor not in task.assignees:
        raise Forbidden("Only the task's assignees can complete it", "not_assignee")
    return task


def cancelled(task: OpenTask, reason: CloseReason, decided_by: str) -> TaskClosed:
    return TaskClosed(task.task_id, task.node_id, "cancelled", None, "", reason, decided_by)


def decided(
    activation: Activation,
    outcome: Literal["approved", "rejected"],
    approved: tuple[str, ...],
    rejected: tuple[str, ...],
) -> NodeDecided:
    return NodeDecided(
        activation.node_id,
        activation.mode,
        outcome,
        len(approved),
        len(rejected),
        activation.required,
        len(activation.approvers),
    )


def _only_earlier_approvers(spec: ProcessSpec, node: Node) -> StepFailed:
    return StepFailed(
        spec,
        node.id,
        "only_earlier_approvers",
        f"Everyone '{node.id}' names already approved an earlier step of this ticket, and "
        "no one approves twice in one ticket",
    )


def _no_assignee(spec: ProcessSpec, node: Node) -> StepFailed:
    kind = node.assignee.kind if node.assignee is not None else "none"
    return StepFailed(
        spec, node.id, "no_assignee", f"Nobody can be assigned to '{node.id}' ({kind})"
    )


class Walk:
    """The new state being built by one step: tasks, activations and joins, mutated in
    place (they are the step's own copies), and the effects in order."""

    __slots__ = (
        "activations",
        "approver",
        "ctx",
        "effects",
        "ended",
        "joins",
        "pending",
        "picked",
        "spec",
        "starter",
        "tasks",
        "values",
        "waits",
    )

    def __init__(
        self,
        spec: ProcessSpec,
        ctx: Context,
        starter: str,
        tasks: dict[str, OpenTask],
        joins: dict[str, frozenset[str]],
        activations: dict[str, Activation],
        effects: list[Effect],
        waits: dict[str, Wait] | None = None,
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.starter = starter
        self.tasks = tasks
        self.joins = joins
        self.activations = activations
        self.effects = effects
        self.approver = ""  # whose approval moves the tokens of this step
        self.pending: Pending | None = None  # OR-joins, scopes, sweeps to settle (ADR 0022)
        self.ended = ""  # "approved"/"rejected": a terminate or uncaught error end ended it
        self.values: Mapping[str, object] = {}  # the form's values, for rules that read them
        # a role's pick made at a node in this step, asked again (its skip check, then its
        # activation) without taking a second round-robin turn
        self.picked: dict[tuple[str, AssigneeRule], tuple[str, ...]] | None = None
        # tokens waiting for a timer or a message (ADR 0023): the step's own copy
        self.waits: dict[str, Wait] = {} if waits is None else waits

    def resolve(self, node: Node, rule: AssigneeRule) -> tuple[str, ...]:
        """Who `rule` names at `node`, each once: the step's values and previous approver
        passed to the rules that read them (assignees.py), and, where no one approves
        twice, the people whose approvals count left out (once.py)."""
        if rule.pick is not None:
            key = (node.id, rule)
            if self.picked is None:
                self.picked = {}
            elif key in self.picked:
                return self.picked[key]
            self.picked[key] = found = self._resolve(node, rule)
            return found
        return self._resolve(node, rule)

    def _resolve(self, node: Node, rule: AssigneeRule) -> tuple[str, ...]:
        exclude = once.approved(self.ctx) if node.id in self.spec.index.once else once.NOBODY
        if exclude or rule.kind in STEP_KINDS:
            found = self.ctx.resolve_assignees(
                rule, self.starter, values=self.values, previous=self.approver, exclude=exclude
            )
            if exclude:
                return tuple(p for p in dict.fromkeys(found) if p not in exclude)
        else:
            found = self.ctx.resolve_assignees(rule, self.starter)
        return tuple(dict.fromkeys(found))

    def _nobody(self, node: Node) -> StepFailed:
        """The error of a step nobody can be assigned to, saying why."""
        rule = node.assignee
        if rule is not None and once.approved(self.ctx) and node.id in self.spec.index.once:
            everyone = self.ctx.resolve_assignees(
                rule, self.starter, values=self.values, previous=self.approver
            )
            if everyone:
                return _only_earlier_approvers(self.spec, node)
        return _no_assignee(self.spec, node)

    def open_task(
        self, node_id: str, assignees: tuple[str, ...], activation_id: str, via: str = ""
    ) -> str:
        """Opens a task of activation `activation_id` ("": a new one keyed by the task's
        id); `via`: how the empty rule found its people (fallback, leader, admin)."""
        task_id = self.ctx.new_id()
        activation_id = activation_id or task_id
        self.tasks[task_id] = OpenTask(task_id, node_id, assignees, activation_id)
        self.effects.append(TaskOpened(task_id, node_id, assignees, via))
        return task_id

    def _when_nobody(self, node: Node) -> tuple[tuple[str, ...], str, SkipReason | None]:
        """What user task `node`, whose rule named nobody, does by its `on_empty`
        (policies.py, ADR 0041): (people, how they were found, "") to assign, or
        ((), "", the reason) to pass or reject; no rule at all is the step's error."""
        policy = node.on_empty
        if policy is None:
            raise self._nobody(node)
        rule = node.assignee
        if policy.requester and rule is not None and self._only_applicant(rule):
            if policy.requester == "skip":
                return (), "", "requester"
            leader = self.resolve(node, APPLICANT_LEADER)
            if leader:
                return leader, "leader", None
        if policy.passes:
            return (), "", "no_assignee"
        if policy.action == "reject":
            return (), "", "no_assignee_rejected"
        if policy.fallback is not None:
            found = self.resolve(node, policy.fallback)
            if found:
                return found, "fallback", None
        found = self.resolve(node, PROCESS_ADMINS)
        if found:
            return found, "admin", None
        raise self._nobody(node)

    def _only_applicant(self, rule: AssigneeRule) -> bool:
        """Whether `rule` named the applicant and nobody else (maker-checker left them
        out); a Context says so with `names_only_applicant` (the services)."""
        ask = getattr(self.ctx, "names_only_applicant", None)
        return ask is not None and bool(ask(rule, self.starter, self.values, self.approver))

    def activate(
        self, node: Node, returned_from: str = "", resubmit: str = "", forward: bool = False
    ) -> None:
        """A token arrives at user task `node`: resolve its approvers once, open its tasks.
        A return (退回) to `node` names the node it came from and the resubmit mode;
        `forward`: reached going forward, where approve_once applies (dedup.py)."""
        spec = self.spec
        node_id = node.id
        rule = node.assignee
        assert rule is not None  # parse_process guarantees it
        assignees = self.resolve(node, rule)
        repeats: tuple[str, ...] = ()
        if assignees and forward and node.approve_once:
            seen = once.seen(self.ctx)
            repeats = dedup.repeated(seen, self.ctx, node_id, assignees, self.values)
        via = ""
        if not assignees:  # the empty rule's people (policies.py); a pass cannot apply here
            assignees, via, passes = self._when_nobody(node)
            if passes:
                raise self._nobody(node)
        approval = node.approval
        mode = approval.mode
        if mode == "single":
            task_id = self.open_task(node_id, assignees, "", via)
            self.activations[task_id] = Activation(
                task_id, node_id, mode, assignees, 1, True, (), (), returned_from, resubmit
            )
            if node_id in spec.index.timers:
                self.arm(node_id, task_id)
            return
        required = approval.required(len(assignees))
        if required > len(assignees):
            raise StepFailed(
                spec,
                node_id,
                "too_few_approvers",
                f"'{node_id}' needs {required} approvals but only {len(assignees)} "
                f"people can be assigned ({rule.kind})",
            )
        if repeats and mode == "sequential":  # the de-duplicated take their turns first
            assignees = (*repeats, *(p for p in assignees if p not in repeats))
        people = assignees[: len(repeats) + 1] if mode == "sequential" else assignees
        first = self.open_task(node_id, (people[0],), "", via)
        opened = {people[0]: first}
        for person in people[1:]:
            opened[person] = self.open_task(node_id, (person,), first, via)
        for person in repeats:  # approved at an earlier step: approved here at once
            del self.tasks[opened[person]]
            self.effects.append(dedup.approved_at_once(opened[person], node_id, person, self.ctx))
        self.activations[first] = Activation(
            first,
            node_id,
            mode,
            assignees,
            required,
            approval.veto,
            repeats,
            (),
            returned_from,
            resubmit,
        )
        if node_id in spec.index.timers:
            self.arm(node_id, first)

    def arm(self, node_id: str, activation_id: str) -> None:
        """Node instance `activation_id` of user task `node_id` started: its boundary
        timers start with it (the service writes their rows, ADR 0023), and its boundary
        messages listen from now on, keyed by the form's value now (ADR 0035)."""
        nodes = self.spec.nodes
        each = nodes[node_id].approval.mode in PER_TASK_MODES
        for boundary in self.spec.index.timers[node_id]:
            node = nodes[boundary]
            if node.message is not None:
                key = message_key(self, node, self.values)
                self.effects.append(
                    MessageAwaited(
                        self.ctx.new_id(), boundary, node.message.name, key, activation_id
                    )
                )
                continue
            timer = node.timer
            assert timer is not None  # parse_process guarantees it
            # a 会签 or vote's auto-approve times out each approver's task on its own
            # (APPROVALS.md edge case 35, ADR 0041): its timers name the tasks
            names: tuple[str, ...] = (activation_id,)
            if each and timer.action == "approve":
                names = tuple(
                    t.task_id for t in self.tasks.values() if t.activation_id == activation_id
                )
            for name in names:
                self.effects.append(
                    TimerSet(
                        self.ctx.new_id(),
                        boundary,
                        name,
                        1,
                        timer.delay(1),
                        timer.at,
                        timer.working,
                    )
                )

    def _decides_itself(self, node: Node, values: Mapping[str, object]) -> NodeSkipped | None:
        """A user task reached going forward that is decided without a person: its
        `auto` condition holds, its approvers approved before (approve_once), or its rule
        names nobody and `on_empty` passes or rejects it."""
        auto = node.auto
        if auto is not None and self.ctx.evaluate(auto.when, values):
            reason: SkipReason = "auto_approved" if auto.action == "approve" else "auto_skipped"
            return NodeSkipped(node.id, reason, auto.when)
        if node.approve_once and node.assignee is not None:  # de-duplication (dedup.py)
            found = self.resolve(node, node.assignee)
            seen = once.seen(self.ctx)
            repeats = dedup.repeated(seen, self.ctx, node.id, found, values)
            if repeats and len(repeats) >= node.approval.required(len(found)):
                return NodeSkipped(node.id, "same_approver", approvers=repeats)
        policy = node.on_empty
        rule = node.assignee
        if policy is None or rule is None or self.resolve(node, rule):
            return None  # activate() assigns, or fails
        _, _, passes = self._when_nobody(node)
        return None if passes is None else NodeSkipped(node.id, passes)

    def advance(self, values: Mapping[str, object], flows: tuple[Flow, ...]) -> None:
        """Move tokens along `flows` until each rests at a user task or join, or ends.

        Tokens move breadth-first, so the effects of parallel branches come out in
        the definition order of their flows.
        """
        spec = self.spec
        index = spec.index
        nodes = spec.nodes
        joins = self.joins
        effects = self.effects
        ctx = self.ctx
        self.values = values
        queue = list(flows)
        for flow in queue:  # the loop also visits flows appended while it runs
            node = nodes[flow.target]
            node_type = node.type
            node_id = node.id
            if node_type == "user_task":
                rule = node.assignee
                if (
                    node.auto is not None
                    or node.on_empty is not None
                    or node.approve_once
                    or node_id in index.once
                    or node_id in index.timers
                ):
                    skipped = self._decides_itself(node, values)
                    if skipped is not None:
                        effects.append(skipped)
                        if skipped.reason == "no_assignee_rejected":  # the ticket ends
                            _clear(self, None, "ticket_rejected")
                            self.ended = "rejected"
                            break
                        queue.extend(index.outgoing[node_id])
                        continue
                    self.activate(node, forward=True)
                    continue
                if node.approval.mode != "single" or rule is None or rule.kind in STEP_KINDS:
                    self.activate(node)
                    continue
                # the common case, a single approver's node, inlined (the engine's hot path)
                assignees = tuple(dict.fromkeys(ctx.resolve_assignees(rule, self.starter)))
                if not assignees:
                    raise _no_assignee(spec, node)
                task_id = ctx.new_id()
                self.tasks[task_id] = OpenTask(task_id, node_id, assignees, task_id)
                effects.append(TaskOpened(task_id, node_id, assignees))
                self.activations[task_id] = Activation(
                    task_id, node_id, "single", assignees, 1, True
                )
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
            elif node_type == "cc":  # 抄送: copies sent, the token goes straight on
                effects.append(copies(ctx, node, self.starter, values, self.approver))
                queue.extend(index.outgoing[node_id])
            elif node_type in CONTROL_TYPES:  # OR gateways, sub-processes, terminate and
                move(self, node, flow, values, queue)  # error ends (control_walk.py)
            elif node_type in WAIT_TYPES:  # a timer or message catch event (ADR 0023)
                if not wait_at(self, node, values):  # a call with no item: nothing waits
                    effects.append(NodePassed(node_id, node_type))
                    queue.extend(index.outgoing[node_id])
            elif node_type == "event_gateway":  # the first event after it wins (ADR 0035)
                wait_for_first(self, node, values)
            elif node_type == "service_task" and node.webhook is not None:  # ADR 0024
                effects.append(requested(node_id, node.webhook, values))
                queue.extend(index.outgoing[node_id])
            else:  # end: the token is consumed
                effects.append(NodePassed(node_id, node_type))
                if node.scope:  # the last token out of a sub-process leaves it (ADR 0022)
                    scope_ended(self, node.scope)
        if self.joins or self.pending is not None:  # what waits on every token (ADR 0022)
            settle(self, values)

    def result(self, passed: tuple[str, ...]) -> StepResult:
        effects = self.effects
        if self.ended == "rejected":  # an error end nothing caught (ADR 0022)
            effects.append(InstanceFinished("rejected"))
            return StepResult(InstanceState("rejected", self.starter), tuple(effects))
        if self.tasks or self.waits:
            state = running(
                self.starter,
                self.tasks,
                self.joins,
                self.activations,
                passed,
                None,
                EMPTY,
                EMPTY,
                None,
                self.waits or EMPTY,
            )
            return StepResult(state, tuple(effects))
        if self.joins:  # unreachable for a spec that passed parse_process's soundness check
            node_id = next(iter(self.joins))
            raise StepFailed(
                self.spec,
                node_id,
                "join_stuck",
                f"Parallel join '{node_id}' waits for tokens that can never come",
            )
        effects.append(InstanceFinished("approved"))
        return StepResult(InstanceState("approved", self.starter), tuple(effects))
