"""Stateful property test: random sequences of approver and applicant actions on the pure
engine, with the engine's invariants checked after every step.

The machine starts one ticket on a process picked from hand-written ones (会签, 或签,
依次, vote nodes; parallel and inclusive gateways; a sub-process; boundary timers and a
timer catch event; boundary messages and an event-based gateway) and from every bundled
app template, then applies random commands: approve, reject, 退回 (to the applicant or
to a node passed), 加签 (before, after, parallel), 转交, the applicant's 撤回, an
approver's 撤回 of their approval, a resubmit, the worker firing a timer the steps set
(once each, as its row would; a stale one is refused), a message sent to a wait or a
boundary message the steps started (once each; a stale one is refused), and commands
that must be refused (a stranger or the applicant deciding, returning, adding signers
or transferring). A comment has no engine command (the
service writes it as a ticket note beside the steps, ADR 0017), so its rule only checks
that a finished ticket refuses every command. The applicant holds every role the context
resolves, so maker-checker is exercised at every node; the services refuse transfers
and add-signs to the applicant before the engine, so the machine never asks for them.

Every step's timeline events are legal for the state they happened in: a task opens once
(never an id seen before), closes only while open, the tasks the events leave open are
the state's open tasks, and the ticket finishes exactly once, in the step that ends it.
After every step: every open task belongs to a live node instance of its node, every
node instance has an open task (no orphaned token), add-sign chains name open tasks,
joins wait only at join nodes, a running ticket has an open task or a timer catch
event's wait, a finished one holds nothing, the applicant holds no approval task (only
their own returned ticket), and the state survives its JSON form unchanged (the machine
goes on from the reloaded state, so the stored form is all a next step needs). A refused
command leaves the state exactly as it was, and no command mutates the state it was given.

The default profile keeps CI fast; FLOWDESK_STATEFUL=long runs many more examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from process_fakes import CONDITIONS

from flowdesk.engines.apps import bundled_template_names, load_bundled_template
from flowdesk.engines.apps.applicant import Applicant
from flowdesk.engines.apps.conditions import ConditionEvaluator
from flowdesk.engines.forms import FieldType, FormSpec
from flowdesk.engines.process import (
    AddSigners,
    AssigneeRule,
    Command,
    CompleteTask,
    DelegateTask,
    Effect,
    FireTimer,
    InstanceFinished,
    InstanceState,
    MessageAwaited,
    ProcessSpec,
    ReceiveMessage,
    ResolveTask,
    Resubmit,
    RetractDecision,
    ReturnTask,
    Start,
    TaskClosed,
    TaskOpened,
    TimerFired,
    TimerSet,
    TransferTask,
    WaitCancelled,
    Withdraw,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.engines.process.add_sign import waiting
from flowdesk.engines.process.delegate_task import delegated_task
from flowdesk.kernel.errors import FlowdeskError

settings.register_profile(
    "stateful-ci",
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "stateful-long",
    max_examples=2000,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = "stateful-long" if os.environ.get("FLOWDESK_STATEFUL") == "long" else "stateful-ci"

APPLICANT = "alice"
# people an approver may transfer to or add as signers; never the applicant (the
# services refuse naming them: transfers.py, add_signs.py)
PEOPLE = ("amy", "ben", "cai", "dan", "eva", "fay", "gus", "hal")
STRANGER = "mallory"  # holds nothing, anywhere


def _user(user: str) -> dict[str, str]:
    return {"kind": "user", "user": user}


def _users(*users: str) -> dict[str, Any]:
    return {"kind": "users", "users": list(users)}


def _task(node_id: str, assignee: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "user_task", "assignee": dict(assignee), **extra}


# Every approval mode in a row; the 会签 includes the applicant, whom the context leaves out.
MODES: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        _task("countersign", _users("amy", APPLICANT, "ben"), approval={"mode": "all"}),
        _task("or_sign", _users("cai", "dan"), approval={"mode": "any"}, add_sign_depth=2),
        _task("in_order", _users("eva", "fay", "gus"), approval={"mode": "sequential"}),
        _task(
            "vote",
            _users("amy", "ben", "cai", "dan"),
            approval={"mode": "vote", "pass_count": 2},
            resubmit="returner_chooses",
        ),
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "countersign"},
        {"from": "countersign", "to": "or_sign"},
        {"from": "or_sign", "to": "in_order"},
        {"from": "in_order", "to": "vote"},
        {"from": "vote", "to": "end"},
    ],
}

PARALLEL: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        _task("intake", _user("hal")),
        {"id": "split", "type": "parallel_gateway"},
        _task("legal", _users("amy", "ben"), approval={"mode": "all"}),
        _task("finance", _users("cai", "dan"), approval={"mode": "any"}),
        _task("risk", _user("eva"), resubmit="straight_back"),
        {"id": "join", "type": "parallel_gateway"},
        _task("sign_off", _users("fay", "gus"), approval={"mode": "sequential"}),
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "intake"},
        {"from": "intake", "to": "split"},
        {"from": "split", "to": "legal"},
        {"from": "split", "to": "finance"},
        {"from": "split", "to": "risk"},
        {"from": "legal", "to": "join"},
        {"from": "finance", "to": "join"},
        {"from": "risk", "to": "join"},
        {"from": "join", "to": "sign_off"},
        {"from": "sign_off", "to": "end"},
    ],
}

INCLUSIVE: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        _task("intake", _user("hal")),
        {"id": "fork", "type": "inclusive_gateway"},
        _task("large", _users("amy", "ben", "cai"), approval={"mode": "vote", "pass_count": 2}),
        _task("travel", _users("dan", "eva"), approval={"mode": "sequential"}),
        _task("other", _user("fay")),
        {"id": "merge", "type": "inclusive_gateway"},
        _task("close", _users("gus", "hal"), approval={"mode": "any"}),
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "intake"},
        {"from": "intake", "to": "fork"},
        {"from": "fork", "to": "large", "condition": "amount > 50000"},
        {"from": "fork", "to": "travel", "condition": "category == 'travel'"},
        {"from": "fork", "to": "other", "default": True},
        {"from": "large", "to": "merge"},
        {"from": "travel", "to": "merge"},
        {"from": "other", "to": "merge"},
        {"from": "merge", "to": "close"},
        {"from": "close", "to": "end"},
    ],
}

SUB_PROCESS: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        _task("intake", _users("amy", "ben"), approval={"mode": "any"}),
        {"id": "review", "type": "sub_process"},
        {"id": "review_start", "type": "start", "scope": "review"},
        {"id": "review_split", "type": "parallel_gateway", "scope": "review"},
        _task("check_a", _users("cai", "dan"), approval={"mode": "all"}, scope="review"),
        _task("check_b", _user("eva"), scope="review"),
        {"id": "review_join", "type": "parallel_gateway", "scope": "review"},
        {"id": "review_end", "type": "end", "scope": "review"},
        _task("final", _users("fay", "gus", "hal"), approval={"mode": "vote", "pass_count": 2}),
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "intake"},
        {"from": "intake", "to": "review"},
        {"from": "review_start", "to": "review_split"},
        {"from": "review_split", "to": "check_a"},
        {"from": "review_split", "to": "check_b"},
        {"from": "check_a", "to": "review_join"},
        {"from": "check_b", "to": "review_join"},
        {"from": "review_join", "to": "review_end"},
        {"from": "review", "to": "final"},
        {"from": "final", "to": "end"},
    ],
}

# Boundary timers on user tasks (ADR 0023), fired by the machine's fire_timer rule as the
# worker would: a reminder that repeats, an escalation, a deciding timer, a return; then
# a timer catch event, whose token waits with no task.
TIMERS: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        _task("handle", _users("amy", "ben"), approval={"mode": "any"}),
        {
            "id": "remind",
            "type": "boundary_timer",
            "attached_to": "handle",
            "interrupting": False,
            "timer": {"after": "PT1H", "action": "remind", "repeat": 2, "every": "PT1H"},
        },
        {
            "id": "escalate",
            "type": "boundary_timer",
            "attached_to": "handle",
            "interrupting": False,
            "timer": {"after": "PT2H", "action": "escalate", "to": {"kind": "user", "user": "hal"}},
        },
        {
            "id": "give_back",
            "type": "boundary_timer",
            "attached_to": "handle",
            "timer": {"after": "P3D", "action": "return"},
        },
        {"id": "cool_off", "type": "timer_catch", "timer": {"after": "P1D"}},
        _task("sign", _users("cai", "dan", "eva"), approval={"mode": "all"}),
        {
            "id": "sign_late",
            "type": "boundary_timer",
            "attached_to": "sign",
            "timer": {"after": "P2D", "action": "approve"},
        },
        _task("close", _user("fay")),
        {
            "id": "close_late",
            "type": "boundary_timer",
            "attached_to": "close",
            "timer": {"after": "P5D", "action": "reject"},
        },
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "handle"},
        {"from": "handle", "to": "cool_off"},
        {"from": "cool_off", "to": "sign"},
        {"from": "sign", "to": "close"},
        {"from": "close", "to": "end"},
    ],
}


# Boundary messages and an event-based gateway (ADR 0035), driven by the machine's
# receive_message rule (each MessageAwaited sent at most once, as its row would be) and
# fire_timer: an interrupting message takes the task's token to `refund`, a
# non-interrupting one starts `note` beside it; after `handle` the first of a message
# and a timer wins.
EVENTS: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        _task("handle", _users("amy", "ben"), approval={"mode": "all"}),
        {
            "id": "stop",
            "type": "boundary_message",
            "attached_to": "handle",
            "message": {"name": "order_cancelled", "key": "order_no"},
        },
        {
            "id": "aside",
            "type": "boundary_message",
            "attached_to": "handle",
            "interrupting": False,
            "message": {"name": "order_noted", "key": "order_no"},
        },
        _task("refund", _user("cai")),
        _task("note", _user("dan")),
        {"id": "wait", "type": "event_gateway"},
        {
            "id": "paid",
            "type": "message_catch",
            "message": {"name": "payment_received", "key": "order_no"},
        },
        {"id": "expired", "type": "timer_catch", "timer": {"after": "P3D"}},
        _task("sign", _user("eva")),
        _task("chase", _user("fay")),
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "handle"},
        {"from": "handle", "to": "wait"},
        {"from": "stop", "to": "refund"},
        {"from": "aside", "to": "note"},
        {"from": "refund", "to": "end"},
        {"from": "note", "to": "end"},
        {"from": "wait", "to": "paid"},
        {"from": "wait", "to": "expired"},
        {"from": "paid", "to": "sign"},
        {"from": "expired", "to": "chase"},
        {"from": "sign", "to": "end"},
        {"from": "chase", "to": "end"},
    ],
}


class _TableConditions:
    """The hand-written processes' conditions, from the shared fake table."""

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return CONDITIONS[condition](values)


class _TemplateConditions:
    """A template's own conditions, on the drawn applicant's attributes (applicant.py)."""

    def __init__(self, evaluator: ConditionEvaluator, applicant: Applicant) -> None:
        self._evaluator = evaluator
        self._applicant = applicant

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self._evaluator.evaluate(condition, values, self._applicant)


APPLICANTS = st.builds(
    Applicant,
    st.sampled_from([None, "P3", "P5", "M2", "M3", "M4"]),
    st.sampled_from([None, "legal", "finance", "branch-bj"]),
)


class MachineContext:
    """A Context like the services': made-up people for every rule kind, less the
    applicant (maker-checker) and `exclude`; a pick takes the first; ids t1, t2, …"""

    def __init__(self, conditions: Any) -> None:
        self._conditions = conditions
        self.issued = 0

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return bool(self._conditions.evaluate(condition, values))

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]:
        found = [
            person
            for person in _named(rule, values or {}, previous or starter)
            if person != starter and person not in exclude
        ]
        return found[:1] if rule.pick is not None else found

    def new_id(self) -> str:
        self.issued += 1
        return f"t{self.issued}"


def _named(rule: AssigneeRule, values: Mapping[str, object], previous: str) -> list[str]:
    kind = rule.kind
    if kind == "user":
        return [rule.user or ""]
    if kind == "users":
        return list(rule.users)
    if kind == "role":
        return [f"{rule.role}.1", f"{rule.role}.2", APPLICANT]  # the applicant holds every role
    if kind == "department_head":
        return [f"head.{rule.department}"]
    if kind == "applicant_manager":
        return [f"manager.{rule.level}"]
    if kind == "applicant_department_head":
        return ["head.of.applicant"]
    if kind == "previous_approver_manager":
        return [f"manager.of.{previous}"]
    if kind in ("field_user", "field_department_head"):
        named = values.get(rule.field or "")
        return [f"{kind}.{p}" for p in str(named or "").split(",") if p]
    return []


def _stored_values(form: FormSpec) -> st.SearchStrategy[dict[str, object]]:
    """Stored form values (money as "120000.00") that make a template's conditions vary."""
    parts: dict[str, st.SearchStrategy[object]] = {}
    for field in form.fields:
        if field.type in (FieldType.MONEY, FieldType.DECIMAL):
            parts[field.key] = st.sampled_from(["300.00", "4800.00", "60000.00", "3000000.00"])
        elif field.type == FieldType.INTEGER:
            parts[field.key] = st.sampled_from([1, 12, 36])
        elif field.type == FieldType.CHOICE and field.options:
            parts[field.key] = st.sampled_from([o.value for o in field.options])
        elif field.type == FieldType.BOOLEAN:
            parts[field.key] = st.booleans()
        elif field.type in (FieldType.TEXT, FieldType.LONG_TEXT):
            parts[field.key] = st.just("text")
    return st.fixed_dictionaries(parts)


_HAND_VALUES = st.fixed_dictionaries(
    {
        "amount": st.sampled_from([100, 60000, 2000000]),
        "category": st.sampled_from(["travel", "it", "office"]),
        "docs_complete": st.booleans(),
    }
)


class Case:
    """A process to drive, how its conditions are evaluated, and its form values."""

    def __init__(
        self,
        name: str,
        spec: ProcessSpec,
        conditions: Callable[[Applicant], Any],
        values: st.SearchStrategy[dict[str, object]],
    ) -> None:
        self.name = name
        self.spec = spec
        self.conditions = conditions
        self.values = values

    def __repr__(self) -> str:  # hypothesis prints it in a falsifying example
        return f"Case({self.name})"


def _cases() -> list[Case]:
    cases = [
        Case(name, parse_process(data), lambda _applicant: _TableConditions(), _HAND_VALUES)
        for name, data in (
            ("modes", MODES),
            ("parallel", PARALLEL),
            ("inclusive", INCLUSIVE),
            ("sub_process", SUB_PROCESS),
            ("timers", TIMERS),
        )
    ]
    with_key = _HAND_VALUES.map(lambda values: {**values, "order_no": "PO-1"})
    cases.append(Case("events", parse_process(EVENTS), lambda _a: _TableConditions(), with_key))
    for name in bundled_template_names():
        app = load_bundled_template(name)
        cases.append(
            Case(
                f"template:{name}",
                app.process,
                lambda applicant, app=app: _TemplateConditions(ConditionEvaluator(app), applicant),
                _stored_values(app.form),
            )
        )
    return cases


CASES = _cases()


def _document(state: InstanceState) -> str:
    return json.dumps(dump_state(state), sort_keys=True, ensure_ascii=False)


class ProcessMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.case: Case | None = None
        self.ctx = MachineContext(_TableConditions())
        self.values: dict[str, object] = {}
        self.state: InstanceState | None = None
        # what the timeline has said so far: every task id ever opened, and the timers
        # set and not yet fired (as the worker's rows would be), by (timer id, fire)
        self.opened: set[str] = set()
        self.timers: dict[tuple[str, int], TimerSet] = {}
        self.messages: dict[str, MessageAwaited] = {}  # by wait id, not yet sent

    # --- driving ----------------------------------------------------------------

    @initialize(case=st.sampled_from(CASES), data=st.data())
    def start(self, case: Case, data: st.DataObject) -> None:
        self.case = case
        applicant = data.draw(APPLICANTS, label="applicant")
        self.ctx = MachineContext(case.conditions(applicant))
        self.values = data.draw(case.values, label="values")
        event(f"process {case.name}")
        self._apply(Start(APPLICANT, self.values))

    def _apply(self, command: Command) -> bool:
        """Step; True when the engine took the command. A refusal changes nothing."""
        assert self.case is not None
        before = None if self.state is None else _document(self.state)
        kept = self.state
        try:
            result = step(self.case.spec, self.state, command, self.ctx)
        except FlowdeskError as exc:
            allowed = (
                (403, 404, 409, 422) if isinstance(command, ReceiveMessage) else (403, 409, 422)
            )
            assert exc.status in allowed, (command, exc.code)
            assert self.state is kept
            if kept is not None:
                assert _document(kept) == before, "a refused command changed the state"
            event(f"refused {type(command).__name__}: {exc.code}")
            return False
        if kept is not None:
            assert _document(kept) == before, "a step mutated the state it was given"
        self._check_timeline(kept, result.effects, result.state)
        # go on from the stored form: it must be all the next step needs
        document = json.loads(_document(result.state))
        reloaded = load_state(document)
        assert reloaded == result.state, "the state changed through its JSON form"
        assert dump_state(reloaded) == document
        self.state = reloaded
        event(f"took {type(command).__name__}")
        if reloaded.status != "running":
            event(f"finished {reloaded.status}")
        return True

    def _check_timeline(
        self, before: InstanceState | None, effects: Sequence[Effect], after: InstanceState
    ) -> None:
        """Every timeline event of the step is legal for the state it happened in: a task
        opens once (a fresh id), closes only while open, the tasks the events leave open
        are the state's; the ticket finishes once, in the step that ends it."""
        open_now = set(before.tasks) if before is not None else set()
        finished = 0
        for effect in effects:
            if isinstance(effect, TaskOpened):
                assert effect.task_id not in self.opened, f"task {effect.task_id} opened twice"
                assert effect.assignees, f"task {effect.task_id} opened for nobody"
                self.opened.add(effect.task_id)
                open_now.add(effect.task_id)
            elif isinstance(effect, TaskClosed):
                assert effect.task_id in open_now, f"task {effect.task_id} closed, not open"
                open_now.discard(effect.task_id)
            elif isinstance(effect, InstanceFinished):
                finished += 1
                assert effect.status == after.status
            elif isinstance(effect, TimerSet):
                assert self.case is not None and effect.node_id in self.case.spec.nodes
                self.timers[(effect.timer_id, effect.fire)] = effect
            elif isinstance(effect, TimerFired):
                assert self.case is not None
                assert self.case.spec.nodes[effect.node_id].timer is not None
            elif isinstance(effect, MessageAwaited):
                self.messages[effect.wait_id] = effect
            elif isinstance(effect, WaitCancelled):  # an event-based gateway's loser
                assert before is not None and effect.wait_id in before.waits
                assert effect.wait_id not in after.waits
                assert before.waits[effect.wait_id].group, "only a gateway's waits go"
        assert open_now == set(after.tasks), "the events and the open tasks disagree"
        was_running = before is None or before.status == "running"
        assert finished == (1 if was_running and after.status != "running" else 0)

    def _running(self) -> bool:
        return self.state is not None and self.state.status == "running"

    def _approval_tasks(self) -> list[str]:
        """Open tasks an approver may act on now (not the applicant's, not waiting)."""
        assert self.case is not None and self.state is not None
        start = self.case.spec.index.start.id
        return [
            task.task_id
            for task in self.state.tasks.values()
            if task.node_id != start and not waiting(self.state, task.task_id)
        ]

    def _draw_task(self, data: st.DataObject) -> tuple[str, str] | None:
        tasks = self._approval_tasks()
        if not tasks:
            return None
        assert self.state is not None
        task_id = data.draw(st.sampled_from(tasks), label="task")
        actor = data.draw(st.sampled_from(self.state.tasks[task_id].assignees), label="actor")
        return task_id, actor

    @precondition(lambda self: self._running())
    @rule(data=st.data(), outcome=st.sampled_from(["approve"] * 4 + ["reject"]))
    def decide(self, data: st.DataObject, outcome: str) -> None:
        picked = self._draw_task(data)
        if picked is not None:
            task_id, actor = picked
            self._apply(CompleteTask(task_id, actor, outcome, "", self.values))  # type: ignore[arg-type]

    @precondition(lambda self: self._running())
    @rule()
    def approve_first(self) -> None:
        """The oldest open task's first holder approves: tickets also get to the end."""
        tasks = self._approval_tasks()
        if tasks:
            assert self.state is not None
            task = self.state.tasks[tasks[0]]
            self._apply(CompleteTask(task.task_id, task.assignees[0], "approve", "", self.values))

    @precondition(lambda self: self._running())
    @rule(data=st.data(), resubmit=st.sampled_from([None, "rerun", "straight_back"]))
    def send_back(self, data: st.DataObject, resubmit: str | None) -> None:
        picked = self._draw_task(data)
        if picked is not None:
            assert self.state is not None
            task_id, actor = picked
            to = data.draw(st.sampled_from([None, *self.state.passed]), label="to")
            self._apply(ReturnTask(task_id, actor, to, "", resubmit, self.values))  # type: ignore[arg-type]

    @precondition(lambda self: self._running())
    @rule(
        data=st.data(),
        position=st.sampled_from(["before", "after", "parallel"]),
        mode=st.sampled_from(["any", "all", "sequential"]),
        users=st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3, unique=True),
    )
    def add_sign(self, data: st.DataObject, position: str, mode: str, users: list[str]) -> None:
        picked = self._draw_task(data)
        if picked is not None:
            task_id, actor = picked
            command = AddSigners(
                task_id,
                actor,
                tuple(users),
                position,  # type: ignore[arg-type]
                mode,  # type: ignore[arg-type]
                values=self.values,
            )
            self._apply(command)

    @precondition(lambda self: self._running())
    @rule(data=st.data(), to=st.sampled_from(PEOPLE))
    def transfer(self, data: st.DataObject, to: str) -> None:
        picked = self._draw_task(data)
        if picked is not None:
            self._apply(TransferTask(picked[0], picked[1], to))

    @precondition(lambda self: self._running())
    @rule(data=st.data(), to=st.sampled_from(PEOPLE))
    def delegate(self, data: st.DataObject, to: str) -> None:
        """委派 (ADR 0034): the holder asks someone to work the task."""
        picked = self._draw_task(data)
        if picked is not None:
            self._apply(DelegateTask(picked[0], picked[1], to, "请核实"))

    @precondition(lambda self: self._running())
    @rule(data=st.data(), opinion=st.sampled_from(["", "approve", "reject"]))
    def resolve(self, data: st.DataObject, opinion: str) -> None:
        """The delegate resolves; the owner's task is theirs again (never a second one)."""
        assert self.state is not None
        theirs = [t for t in self.state.tasks if delegated_task(self.state, t) is not None]
        if not theirs:
            return
        task_id = data.draw(st.sampled_from(theirs), label="delegated task")
        owner = delegated_task(self.state, task_id)
        assert owner is not None and owner.parent in self.state.tasks
        before = len(self.state.tasks)
        actor = self.state.tasks[task_id].assignees[0]
        if self._apply(ResolveTask(task_id, actor, "已核实", opinion)):  # type: ignore[arg-type]
            assert len(self.state.tasks) == before - 1  # closed, nothing opened
            assert owner.parent in self.state.tasks

    @precondition(lambda self: self._running())
    @rule()
    def withdraw(self) -> None:
        self._apply(Withdraw(APPLICANT))

    @precondition(lambda self: self._running() and bool(self.state and self.state.decisions))
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        assert self.state is not None
        actor = data.draw(st.sampled_from(sorted(self.state.decisions)), label="approver")
        self._apply(RetractDecision(self.state.decisions[actor].task_id, actor))

    @precondition(lambda self: self._running())
    @rule()
    def resubmit(self) -> None:
        assert self.state is not None and self.case is not None
        start = self.case.spec.index.start.id
        for task in self.state.tasks.values():
            if task.node_id == start:
                self._apply(Resubmit(task.task_id, APPLICANT, "", self.values))
                return

    @precondition(lambda self: self._running() and bool(self.timers))
    @rule(data=st.data())
    def fire_timer(self, data: st.DataObject) -> None:
        """The worker fires a timer set earlier, as its row says; one whose task or wait
        is over is refused as stale and changes nothing. It never fires twice."""
        key = data.draw(st.sampled_from(sorted(self.timers)), label="timer")
        timer = self.timers.pop(key)
        command = FireTimer(
            timer.timer_id, timer.node_id, timer.activation_id, timer.fire, self.values
        )
        self._apply(command)

    @precondition(lambda self: self._running() and bool(self.messages))
    @rule(data=st.data())
    def receive_message(self, data: st.DataObject) -> None:
        """A message for a wait or a boundary message the steps started, sent once as its
        row would be; one whose wait or node instance is gone is refused (404)."""
        wait_id = data.draw(st.sampled_from(sorted(self.messages)), label="message")
        awaited = self.messages.pop(wait_id)
        boundary = awaited.activation_id
        command = ReceiveMessage(
            awaited.name,
            awaited.key,
            self.values,
            awaited.wait_id,
            boundary,
            awaited.node_id if boundary else "",
        )
        self._apply(command)

    @precondition(lambda self: self._running())
    @rule(data=st.data(), who=st.sampled_from([STRANGER, APPLICANT]))
    def refused(self, data: st.DataObject, who: str) -> None:
        """Someone who holds no task decides it or adds signers: always refused."""
        tasks = self._approval_tasks()
        if tasks:
            task_id = data.draw(st.sampled_from(tasks), label="task")
            command: Command = data.draw(
                st.sampled_from(
                    [
                        CompleteTask(task_id, who, "approve", "", self.values),
                        ReturnTask(task_id, who, None, "", None, self.values),
                        AddSigners(task_id, who, ("amy",), "before"),
                        TransferTask(task_id, who, "amy"),
                    ]
                ),
                label="command",
            )
            assert not self._apply(command), f"{who} was let {command!r}"

    @rule()
    def comment(self) -> None:
        """A comment is an event the service writes, no engine command: the state a later
        step reads is the stored one, and a comment never touches it (checked by the
        service tests); here, finished tickets refuse every command instead."""
        if self.state is not None and self.state.status != "running":
            assert not self._apply(Withdraw(APPLICANT))

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def tasks_belong_to_live_node_instances(self) -> None:
        if self.state is None:
            return
        for task in self.state.tasks.values():
            activation = self.state.activations.get(task.activation_id)
            assert activation is not None, f"task {task.task_id} has no node instance"
            assert activation.node_id == task.node_id
            assert task.assignees, f"task {task.task_id} has nobody"

    @invariant()
    def no_orphaned_tokens(self) -> None:
        if self.state is None:
            return
        assert self.case is not None
        with_tasks = {task.activation_id for task in self.state.tasks.values()}
        for activation_id, activation in self.state.activations.items():
            assert activation_id in with_tasks, f"node instance {activation.node_id} has no task"
            assert activation.node_id in self.case.spec.nodes
        for sign in self.state.signs.values():
            assert sign.parent in self.state.tasks, "an add-sign chain outlived its task"
            for child in sign.children:
                assert child in self.state.tasks, "an added signer's task is gone"
        for join_id in self.state.joins:
            assert len(self.case.spec.index.incoming[join_id]) > 1, f"{join_id} is no join"

    @invariant()
    def running_waits_finished_holds_nothing(self) -> None:
        if self.state is None:
            return
        if self.state.status == "running":
            # a token waiting at a timer catch event holds no task, but its wait
            assert self.state.tasks or self.state.waits, "a running ticket is stuck"
        else:
            assert not self.state.tasks and not self.state.activations
            assert not self.state.joins and not self.state.signs

    @invariant()
    def event_gateway_waits_stand_together(self) -> None:
        """The waits an event-based gateway started are all there until one happens, and
        then none is (ADR 0035)."""
        if self.state is None:
            return
        assert self.case is not None
        groups: dict[str, set[str]] = {}
        catches = ("timer_catch", "message_catch")  # a multi-instance call's group is no gateway's
        for wait in self.state.waits.values():
            if wait.group and self.case.spec.nodes[wait.node_id].type in catches:
                groups.setdefault(wait.group, set()).add(wait.node_id)
        index = self.case.spec.index
        for nodes in groups.values():
            (gateway,) = {index.incoming[n][0].source for n in nodes}
            assert nodes == {f.target for f in index.outgoing[gateway]}, "a lone wait survived"

    @invariant()
    def applicant_never_approves(self) -> None:
        if self.state is None:
            return
        assert self.case is not None
        start = self.case.spec.index.start.id
        for task in self.state.tasks.values():
            if task.node_id != start:
                assert APPLICANT not in task.assignees, f"the applicant holds {task.node_id}"
        for activation in self.state.activations.values():
            if activation.node_id != start:
                assert APPLICANT not in activation.approvers


ProcessMachine.TestCase.settings = settings.get_profile(PROFILE)
TestProcessMachine = ProcessMachine.TestCase


def test_every_bundled_template_is_driven() -> None:
    names = {case.name for case in CASES}
    assert {f"template:{name}" for name in bundled_template_names()} <= names
    assert {"modes", "parallel", "inclusive", "sub_process", "timers", "events"} <= names
