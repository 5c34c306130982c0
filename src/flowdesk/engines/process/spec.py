"""The immutable process definition ("spec"), kept apart from running instances.

A spec is parsed and checked once when an app is published, then shared by every
ticket started on that version. Everything the runtime needs on its hot path
(outgoing and incoming flows per node, the start node, which gateways join) is
computed here once, so `step` only does dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .calls import CallSpec
from .control import EMPTY_CONTROL, ControlIndex, control_index
from .timer_spec import MessageWait, Timer
from .webhook import Webhook

NodeType = Literal[
    "start",
    "end",
    "user_task",
    "exclusive_gateway",
    "parallel_gateway",
    "cc",
    "inclusive_gateway",
    "terminate_end",
    "sub_process",
    "error_end",
    "boundary_error",
    "service_task",
    "boundary_timer",
    "timer_catch",
    "message_catch",
    "call_activity",
    "boundary_message",
    "event_gateway",
]
AssigneeKind = Literal[
    "user",
    "users",
    "role",
    "department_head",
    "applicant_department_head",
    "applicant_manager",
    "field_department_head",
    "field_user",
    "previous_approver_manager",
    "process_admin",  # internal: the last resort of a rule naming nobody (ADR 0041)
]

NODE_TYPES: tuple[NodeType, ...] = (
    "start",
    "end",
    "user_task",
    "exclusive_gateway",
    "parallel_gateway",
    "cc",  # 抄送节点: copies the people its assignee rule names, and passes on at once
    # control flow (control.py, ADR 0022)
    "inclusive_gateway",  # OR: every exit whose condition holds; joins what can still come
    "terminate_end",  # ends its scope (the whole ticket at top level) at once
    "sub_process",  # an embedded scope: the nodes whose `scope` is its id
    "error_end",  # throws `error_code` to the nearest boundary_error that catches it
    "boundary_error",  # on a sub_process (`attached_to`): catches errors thrown inside
    "service_task",  # calls its webhook through the outbox and passes on at once (ADR 0024)
    # timers and messages (timer_spec.py, ADR 0023)
    "boundary_timer",  # on a user task (`attached_to`): reminds, escalates, decides, leaves
    "timer_catch",  # the token waits for its timer, then goes on
    "message_catch",  # the token waits for a message correlated by a form field's value
    "call_activity",  # the token waits for a ticket of another app (calls.py, ADR 0033)
    # ADR 0035: a message on a user task (`attached_to`) takes its flow, interrupting or
    # not; after an event-based gateway the first of its catch events to happen wins
    "boundary_message",
    "event_gateway",
)
ASSIGNEE_KINDS: tuple[AssigneeKind, ...] = (
    "user",
    "users",
    "role",
    "department_head",
    "applicant_department_head",
    "applicant_manager",
    "field_department_head",  # the head of the department a form field names (assignees.py)
    "field_user",  # the person or people a user / users form field names
    "previous_approver_manager",  # the manager of whoever approved the step before
)
MAX_MANAGER_LEVEL = 5
# how a role rule picks one of the role's people (assignees.py): None takes them all
PickRule = Literal["round_robin", "least_loaded"]
PICK_RULES: tuple[PickRule, ...] = ("round_robin", "least_loaded")

ApprovalMode = Literal["single", "all", "any", "sequential", "vote"]
APPROVAL_MODES: tuple[ApprovalMode, ...] = ("single", "all", "any", "sequential", "vote")
VoteFailure = Literal["unreachable", "first_reject"]
VOTE_FAILURES: tuple[VoteFailure, ...] = ("unreachable", "first_reject")


@dataclass(frozen=True, slots=True)
class Approval:
    """How the people a user task's rule names decide it (APPROVALS.md section 1).

    - single: one task shared by every candidate; the first to act decides (the default).
    - all (会签): one task each; every approver must approve, one rejection decides.
    - any (或签): one task each; the first decision, approve or reject, decides.
    - sequential (依次审批): one approver at a time in the rule's order; all must approve.
    - vote: one task each; passes once `pass_count` approvals, or `pass_percent` of the
      approvers (rounded up), have approved; fails as soon as it can no longer pass, or on
      the first rejection when `fail` is "first_reject".
    The count of approvals needed is fixed when the node starts.
    """

    mode: ApprovalMode = "single"
    pass_count: int | None = None
    pass_percent: int | None = None
    fail: VoteFailure = "unreachable"

    def required(self, approvers: int) -> int:
        """Approvals that pass the node when `approvers` people were assigned at its start."""
        if self.mode in ("single", "any"):
            return 1
        if self.mode != "vote":
            return approvers
        if self.pass_count is not None:
            return self.pass_count
        assert self.pass_percent is not None  # parse_process guarantees one of them
        return -(-self.pass_percent * approvers // 100)  # ceiling, in integers

    @property
    def veto(self) -> bool:
        """Whether one rejection decides the node (for 会签 and 依次 it always does, since
        every approval is needed)."""
        return self.mode != "vote" or self.fail == "first_reject"

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"mode": self.mode}
        if self.pass_count is not None:
            data["pass_count"] = self.pass_count
        if self.pass_percent is not None:
            data["pass_percent"] = self.pass_percent
        if self.mode == "vote" and self.fail != "unreachable":
            data["fail"] = self.fail
        return data


SINGLE = Approval()

# What happens once the target of a return (退回) from this node is done: run every node
# in between again (the default), go straight back to this node, or let the returner pick.
ResubmitSetting = Literal["rerun", "straight_back", "returner_chooses"]

# Per-node field permissions (ADR 0037): what a node's holder may do with one form field.
FieldAccess = Literal["editable", "read_only", "hidden"]
FIELD_ACCESS: tuple[FieldAccess, ...] = ("editable", "read_only", "hidden")
RESUBMIT_SETTINGS: tuple[ResubmitSetting, ...] = ("rerun", "straight_back", "returner_chooses")


@dataclass(frozen=True, slots=True)
class AssigneeRule:
    """Who may work a user task; resolved to usernames by the caller's Context.

    Only the attribute that belongs to `kind` is set: `user` for "user", `users` (a
    list, in the order 依次审批 follows) for "users", `role` for "role", `department`
    for "department_head", `level` (1 = direct manager) for "applicant_manager".
    """

    kind: AssigneeKind
    user: str | None = None
    role: str | None = None
    department: str | None = None
    level: int = 1
    users: tuple[str, ...] = ()
    field: str | None = None  # the form field of field_department_head and field_user
    pick: PickRule | None = None  # a role rule's one person, picked (assignees.py)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind}
        if self.user is not None:
            data["user"] = self.user
        if self.users:
            data["users"] = list(self.users)
        if self.role is not None:
            data["role"] = self.role
        if self.department is not None:
            data["department"] = self.department
        if self.kind == "applicant_manager" and self.level != 1:
            data["level"] = self.level
        if self.field is not None:
            data["field"] = self.field
        if self.pick is not None:
            data["pick"] = self.pick
        return data


# A user task deciding itself (auto) and its answer to a rule naming nobody (on_empty);
# parsed in policies.py.
AutoAction = Literal["approve", "skip"]
AUTO_ACTIONS: tuple[AutoAction, ...] = ("approve", "skip")


@dataclass(frozen=True, slots=True)
class AutoDecision:
    when: str  # a condition on the form's values, type-checked by the app layer
    action: AutoAction = "approve"

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"when": self.when}
        if self.action != "approve":
            data["action"] = self.action
        return data


# What a user task does when its rule names nobody (policies.py, ADR 0041): pass
# (skip, or approve: the same), reject the ticket, give it to a fallback rule's people
# (assign; nobody there: the process admins), or straight to the process admins.
EmptyAction = Literal["skip", "approve", "reject", "assign", "admin"]
EMPTY_ACTIONS: tuple[EmptyAction, ...] = ("skip", "approve", "reject", "assign", "admin")
# When the rule names only the applicant (edge case 32), first: pass the step, or give
# it to the applicant's manager (up the chain past inactive ones); "" goes to `action`.
RequesterAction = Literal["", "skip", "leader"]
REQUESTER_ACTIONS: tuple[RequesterAction, ...] = ("skip", "leader")
# the last resort of a rule naming nobody: the process admins, else the administrators
PROCESS_ADMINS = AssigneeRule(kind="process_admin")
APPLICANT_LEADER = AssigneeRule(kind="applicant_manager")


@dataclass(frozen=True, slots=True)
class EmptyPolicy:
    """`fallback` set: assign the task to the people that rule names (the action is
    "assign"); else `action` says what happens. `requester`: what comes first when the
    rule named only the applicant."""

    fallback: AssigneeRule | None = None
    action: EmptyAction = "skip"
    requester: RequesterAction = ""

    @property
    def passes(self) -> bool:
        return self.fallback is None and self.action in ("skip", "approve")

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object]
        if self.fallback is None:
            data = {"action": self.action}
        else:
            data = {"action": "assign", "assignee": self.fallback.to_dict()}
        if self.requester:
            data["requester"] = self.requester
        return data


@dataclass(frozen=True, slots=True)
class Node:
    """One step of the graph; `name` maps a locale ("en", "zh") to display text.

    `fields` (user tasks and the start event, ADR 0037) maps form fields to what the
    node's holder may do with them: `editable`, `read_only` or `hidden`; a field it does
    not name is read-only at a user task (an approver decides on what was filed) and
    editable at the start. `editable` is the keys it marks editable.
    `approval` (user tasks only) says how several approvers decide; `resubmit` what
    happens after a return from this node (spec.ResubmitSetting).
    """

    id: str
    type: NodeType
    name: Mapping[str, str] = field(default_factory=dict, hash=False)
    assignee: AssigneeRule | None = None
    fields: tuple[tuple[str, FieldAccess], ...] = ()
    approval: Approval = SINGLE
    resubmit: ResubmitSetting = "rerun"
    # 撤回 (ADR 0019): whether an approver may withdraw an approval given here
    withdraw: bool = True
    # 加签 (ADR 0020): how deep add-signs nest here (1: an added signer cannot add again);
    # 0: the installation's setting (FLOWDESK_TICKETS__ADD_SIGN_DEPTH)
    add_sign_depth: int = 0
    auto: AutoDecision | None = None  # decided by condition, without a person (policies.py)
    on_empty: EmptyPolicy | None = None  # None: a rule naming nobody is the step's error
    # de-duplication (dedup.py, ADR 0041): whoever approved an earlier step of the ticket
    # (the principal, for a substitute) is approved here without deciding again
    approve_once: bool = False
    # control flow (ADR 0022): the sub_process a node lies in ("" top level), the activity
    # a boundary event is attached to and whether it interrupts it, and the error code an
    # error_end throws or a boundary_error catches ("" on a boundary: any error)
    scope: str = ""
    attached_to: str | None = None
    interrupting: bool = True
    error_code: str = ""
    webhook: Webhook | None = None  # service tasks only: what they call (webhook.py)
    # no one approves twice in one ticket (issue 8, once.py): whoever approved an earlier
    # step is not assigned here; also set for every user task by the process's own flag
    once_per_ticket: bool = False
    timer: Timer | None = None  # boundary_timer, timer_catch (timer_spec.py, ADR 0023)
    message: MessageWait | None = None  # message_catch, boundary_message
    call: CallSpec | None = None  # call_activity: the app called and the mappings

    @property
    def editable(self) -> tuple[str, ...]:
        return tuple(key for key, access in self.fields if access == "editable")

    def access(self, key: str) -> FieldAccess:
        """What this node's holder may do with field `key` (ADR 0037)."""
        for name, access in self.fields:
            if name == key:
                return access
        return "editable" if self.type == "start" else "read_only"

    def locked(self) -> frozenset[str]:
        """The fields this node names hidden or read-only."""
        return frozenset(key for key, access in self.fields if access != "editable")

    def hidden(self) -> frozenset[str]:
        return frozenset(key for key, access in self.fields if access == "hidden")

    def label(self, locale: str = "en") -> str:
        """The display name in `locale`, falling back to English, then to the id."""
        return self.name.get(locale) or self.name.get("en") or self.id

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"id": self.id, "type": self.type}
        if self.name:
            data["name"] = dict(self.name)
        if self.assignee is not None:
            data["assignee"] = self.assignee.to_dict()
        if self.fields:
            data["fields"] = dict(self.fields)
        if self.approval != SINGLE:
            data["approval"] = self.approval.to_dict()
        if self.resubmit != "rerun":
            data["resubmit"] = self.resubmit
        if not self.withdraw:
            data["withdraw"] = False
        if self.add_sign_depth:
            data["add_sign_depth"] = self.add_sign_depth
        if self.auto is not None:
            data["auto"] = self.auto.to_dict()
        if self.on_empty is not None:
            data["on_empty"] = self.on_empty.to_dict()
        if self.approve_once:
            data["approve_once"] = True
        if self.scope:
            data["scope"] = self.scope
        if self.attached_to is not None:
            data["attached_to"] = self.attached_to
        if not self.interrupting:
            data["interrupting"] = False
        if self.error_code:
            data["error_code"] = self.error_code
        if self.webhook is not None:
            data["webhook"] = self.webhook.to_dict()
        if self.once_per_ticket:
            data["once_per_ticket"] = True
        if self.timer is not None:
            data["timer"] = self.timer.to_dict()
        if self.message is not None:
            data["message"] = self.message.to_dict()
        if self.call is not None:
            data["call"] = self.call.to_dict()
        return data


# boundary events that start with their user task's node instance (Walk.arm)
ARMED_BOUNDARIES = frozenset({"boundary_timer", "boundary_message"})
# node types whose tickets have rows in ticket_waits (timers, messages, calls)
WAITING_TYPES = frozenset(
    {"boundary_timer", "timer_catch", "message_catch", "call_activity", "boundary_message"}
)


def default_flow_id(source: str, target: str) -> str:
    return f"{source}->{target}"


@dataclass(frozen=True, slots=True)
class Flow:
    """A sequence flow; `condition` and `default` only on exclusive- and
    inclusive-gateway exits."""

    id: str
    source: str
    target: str
    condition: str | None = None
    default: bool = False

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {}
        if self.id != default_flow_id(self.source, self.target):
            data["id"] = self.id
        data["from"] = self.source
        data["to"] = self.target
        if self.condition is not None:
            data["condition"] = self.condition
        if self.default:
            data["default"] = True
        return data


@dataclass(frozen=True, slots=True)
class Branches:
    """An exclusive gateway's exits in evaluation order, precomputed for `step`.

    `conditional` holds (condition, flow) pairs in definition order; a None
    condition (the single exit of a merging gateway) is always taken.
    """

    conditional: tuple[tuple[str | None, Flow], ...]
    default: Flow | None


@dataclass(frozen=True, slots=True, eq=False)
class SpecIndex:
    """Look-up tables derived from nodes and flows, built once per spec for `step`."""

    start: Node
    outgoing: Mapping[str, tuple[Flow, ...]]
    incoming: Mapping[str, tuple[Flow, ...]]
    join_sizes: Mapping[str, int]
    branches: Mapping[str, Branches]
    control: ControlIndex = field(default_factory=lambda: EMPTY_CONTROL)  # ADR 0022
    # user tasks where no one approves twice in one ticket (once.py); empty: not tracked
    once: frozenset[str] = frozenset()
    # user tasks an earlier approval can de-duplicate (approve_once, dedup.py)
    dedup: frozenset[str] = frozenset()
    # user task -> the boundary timers and boundary messages attached to it, in
    # definition order: they start with each of its node instances (ADR 0023, 0035)
    timers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # whether any node waits for a timer or a message: its tickets have rows to drop
    waits: bool = False


@dataclass(frozen=True)
class ProcessSpec:
    """A checked process graph: nodes by id (in definition order) and flows.

    Build one with `parse_process`, which reports every problem at once; the
    constructor assumes a valid graph and only precomputes look-up indexes.
    Two specs are equal when their nodes and flows are; the indexes do not count.
    """

    nodes: Mapping[str, Node] = field(hash=False)
    flows: tuple[Flow, ...]
    # no one approves twice in one ticket, at every user task (once.py)
    once_per_ticket: bool = False
    index: SpecIndex = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        outgoing: dict[str, list[Flow]] = {node_id: [] for node_id in self.nodes}
        incoming: dict[str, list[Flow]] = {node_id: [] for node_id in self.nodes}
        for flow in self.flows:
            outgoing[flow.source].append(flow)
            incoming[flow.target].append(flow)
        starts = [n for n in self.nodes.values() if n.type == "start" and not n.scope]
        if len(starts) != 1:
            raise ValueError("a process spec needs exactly one start node")
        join_sizes = {
            node_id: len(incoming[node_id])
            for node_id, node in self.nodes.items()
            if node.type == "parallel_gateway" and len(incoming[node_id]) > 1
        }
        branches = {
            node_id: Branches(
                conditional=tuple(
                    (flow.condition, flow) for flow in outgoing[node_id] if not flow.default
                ),
                default=next((flow for flow in outgoing[node_id] if flow.default), None),
            )
            for node_id, node in self.nodes.items()
            if node.type in ("exclusive_gateway", "inclusive_gateway")
        }
        timers: dict[str, list[str]] = {}
        for node_id, node in self.nodes.items():
            if node.type in ARMED_BOUNDARIES and node.attached_to is not None:
                timers.setdefault(node.attached_to, []).append(node_id)
        index = SpecIndex(
            start=starts[0],
            outgoing={key: tuple(value) for key, value in outgoing.items()},
            incoming={key: tuple(value) for key, value in incoming.items()},
            join_sizes=join_sizes,
            branches=branches,
            control=control_index(self.nodes, outgoing, incoming),
            once=frozenset(
                node_id
                for node_id, node in self.nodes.items()
                if node.type == "user_task" and (node.once_per_ticket or self.once_per_ticket)
            ),
            dedup=frozenset(
                node_id
                for node_id, node in self.nodes.items()
                if node.type == "user_task" and node.approve_once
            ),
            timers={key: tuple(value) for key, value in timers.items()},
            waits=any(node.type in WAITING_TYPES for node in self.nodes.values()),
        )
        object.__setattr__(self, "index", index)

    @property
    def start(self) -> Node:
        return self.index.start

    @property
    def start_message(self) -> str:
        """The message whose arrival files a ticket (a message start event, ADR 0035);
        "" when tickets are only filed by people."""
        message = self.index.start.message
        return message.name if message is not None else ""

    def outgoing(self, node_id: str) -> tuple[Flow, ...]:
        return self.index.outgoing[node_id]

    def incoming(self, node_id: str) -> tuple[Flow, ...]:
        return self.index.incoming[node_id]

    def is_join(self, node_id: str) -> bool:
        """A parallel gateway joins when more than one flow comes in."""
        return node_id in self.index.join_sizes

    def is_split(self, node_id: str) -> bool:
        """A parallel gateway splits when more than one flow goes out."""
        node = self.nodes[node_id]
        return node.type == "parallel_gateway" and len(self.index.outgoing[node_id]) > 1

    def calls(self) -> list[Node]:
        """The call activities, in definition order (ADR 0033)."""
        return [node for node in self.nodes.values() if node.call is not None]

    def user_tasks(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.type == "user_task"]

    def conditions(self, path: str = "process") -> list[tuple[str, str]]:
        """(path, text) of every condition (branches, automatic decisions), for the app
        layer to type-check."""
        found = [
            (f"{path}.flows[{i}].condition", flow.condition)
            for i, flow in enumerate(self.flows)
            if flow.condition is not None
        ]
        found.extend(
            (f"{path}.nodes[{i}].auto.when", node.auto.when)
            for i, node in enumerate(self.nodes.values())
            if node.auto is not None
        )
        return found

    def to_dict(self) -> dict[str, object]:
        """The plain-dict (YAML) form; `parse_process(spec.to_dict()) == spec`."""
        data: dict[str, object] = {
            "nodes": [node.to_dict() for node in self.nodes.values()],
            "flows": [flow.to_dict() for flow in self.flows],
        }
        if self.once_per_ticket:
            data["once_per_ticket"] = True
        return data
