"""The running instance's state: small, immutable, and persisted as versioned JSON.

The state holds only what decides the next step (ADR 0015): the status, the applicant
(needed to resolve later assignees), the node instances ("activations") resting at user
tasks with their approvers and tally, the open tasks that project them, the parallel
joins still waiting and the user-task nodes passed so far. Nothing in it grows with the
ticket's history (that lives in events) and the spec is stored once by the caller, so a
finished instance is a few dozen bytes. `load_state` upgrades documents written by
older versions through forward-only functions, one per version, so stored tickets
never need a big-bang migration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, cast

from flowdesk.kernel.errors import FlowdeskError

InstanceStatus = Literal["running", "approved", "rejected", "cancelled", "revoked"]
# cancelled: the applicant's 撤销 ended the ticket (ADR 0019); revoked: 通过后撤销 (ADR 0042)
STATUSES: frozenset[str] = frozenset({"running", "approved", "rejected", "cancelled", "revoked"})
ActivationMode = Literal["single", "all", "any", "sequential", "vote"]
ACTIVATION_MODES: frozenset[str] = frozenset({"single", "all", "any", "sequential", "vote"})

EMPTY: Mapping[str, Any] = MappingProxyType({})  # the shared, read-only empty part

STATE_VERSION = 2
StateDocument = dict[str, object]
# UPGRADES[n] turns a version-n document into a version-n+1 one; `load_state`
# stamps the new version number itself.
UPGRADES: dict[int, Callable[[StateDocument], StateDocument]] = {}


class OpenTask(NamedTuple):
    """A user task waiting for one of its assignees (a named tuple: cheap to build and load).

    `activation_id` names the node instance the task belongs to."""

    task_id: str
    node_id: str
    assignees: tuple[str, ...]
    activation_id: str


class RevokeTerms(NamedTuple):
    """通过后撤销 (ADR 0042): the app's `revoke_days` in force when the ticket was approved
    and that instant (ISO 8601, UTC); kept with the approved state and through its
    revocation round."""

    days: int
    approved_at: str


class Activation(NamedTuple):
    """One token resting at a user task: a node instance and its approval tally.

    The approvers, in order, and the approvals `required` are fixed when the node
    starts (org changes during the node do not apply, APPROVALS.md edge case 4); `veto`
    means one rejection decides the node. An activation opened by a return (退回) names
    the node it `returned_from` and the `resubmit` mode chosen ("rerun" or
    "straight_back") for when it is done.
    """

    activation_id: str
    node_id: str
    mode: ActivationMode
    approvers: tuple[str, ...]
    required: int
    veto: bool
    approved: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    returned_from: str = ""
    resubmit: str = ""

    def with_approved(self, approved: tuple[str, ...]) -> Activation:
        """This node instance with its approvals so far: every 会签 approval builds one,
        and building it field by field is twice as fast as `_replace`."""
        return Activation(
            self.activation_id,
            self.node_id,
            self.mode,
            self.approvers,
            self.required,
            self.veto,
            approved,
            self.rejected,
            self.returned_from,
            self.resubmit,
        )


class Decision(NamedTuple):
    """An approver's last approval, kept while it can still be withdrawn (撤回, ADR 0019).

    `activation` is the node instance as it was just before the approval (its snapshot:
    the approval may have decided the node and removed it); `opened` the task ids the
    approval opened (the next nodes', or the next approver's in a 依次 sequence);
    `joined` the (join node, flow id) arrivals it left waiting at parallel joins;
    `passed` whether it added its node to the nodes passed; `blocked` why it can never be
    withdrawn ("join": it completed a parallel join, edge case 26); `decided` whether it
    decided its node (else the node instance still counts it)."""

    actor: str
    task_id: str
    activation: Activation
    opened: tuple[str, ...] = ()
    joined: tuple[tuple[str, str], ...] = ()
    passed: bool = False
    blocked: str = ""
    decided: bool = False


class AddSign(NamedTuple):
    """加签 on open task `parent` (ADR 0020): the signers `by` added, where ("before",
    "after", "parallel"), how they decide among themselves (`mode`: any, all,
    sequential), their open tasks (`children`, tasks of the parent's node instance that
    never count in its tally), who of them approved, how deep it nests (1: added to a
    node's own task) and, once the parent's holder approved an after/parallel add-sign,
    who did (`held_by`) and with what comment: that approval counts when they approved."""

    parent: str
    position: str
    mode: str
    by: str
    signers: tuple[str, ...]
    children: tuple[str, ...]
    approved: tuple[str, ...] = ()
    depth: int = 1
    held_by: str = ""
    comment: str = ""


class Repeats(NamedTuple):
    """What de-duplication (approve_once, dedup.py) remembers: (principal, who acted,
    the form's digest before the approval) for each approval that can stand for a later
    step;
    the form's digest now; (task, delegate, principal) for the open tasks a substitute
    holds; and the approve_once steps already entered (never de-duplicated again)."""

    approved: tuple[tuple[str, str, str], ...] = ()
    form: str = ""
    standing: tuple[tuple[str, str, str], ...] = ()
    entered: tuple[str, ...] = ()


NO_REPEATS = Repeats()


class ApprovalLog(NamedTuple):
    """The approvals that count in a ticket where no one approves twice (once.py):
    (node, person) pairs in order, and those a 退回 set aside (`held`); and what
    de-duplication remembers (`repeats`, dedup.py)."""

    counted: tuple[tuple[str, str], ...] = ()
    held: tuple[tuple[str, str], ...] = ()
    repeats: Repeats = NO_REPEATS

    def people(self) -> frozenset[str]:
        return frozenset(person for _, person in self.counted)

    def elsewhere(self, person: str, node_id: str) -> str | None:
        """The first node other than `node_id` whose approval by `person` counts."""
        for node, who in self.counted:
            if who == person and node != node_id:
                return node
        return None


class Wait(NamedTuple):
    """A token resting at a timer catch event or a message catch event (ADR 0023):
    `wait_id` names its timer row or message subscription, `key` the correlation value
    a message must carry ("" for a timer). The waits an event-based gateway started share
    a `group` (the first one's id, ADR 0035): the first to happen cancels the others."""

    wait_id: str
    node_id: str
    key: str = ""
    group: str = ""


class InstanceState(NamedTuple):
    """Where a running instance's tokens rest; never mutated, `step` returns a new one.

    `tasks` maps task id to open task, in the order the tasks were opened;
    `activations` maps activation id to node instance, in the order they started;
    `joins` maps a parallel join node to the incoming flows a token has already come
    through; `passed` lists the user-task nodes passed, in order of first passing.
    `acted` says whether anybody but the applicant acted since the ticket was (re)submitted
    (None: unknown, a state stored before ADR 0019); `decisions` maps an approver to
    their last approval while it can still be withdrawn (ADR 0019).

    A named tuple, not a frozen dataclass: a step builds one or two of them, and a
    tuple is built four times faster (a fifth of an approval's time in the pure engine).
    Change one with `_replace`; the empty mappings it defaults to are read-only.
    """

    status: InstanceStatus
    starter: str
    tasks: Mapping[str, OpenTask] = EMPTY
    joins: Mapping[str, frozenset[str]] = EMPTY
    activations: Mapping[str, Activation] = EMPTY
    passed: tuple[str, ...] = ()
    acted: bool | None = None
    decisions: Mapping[str, Decision] = EMPTY
    # 加签 chains by parent task id (ADR 0020); an optional key of the document
    signs: Mapping[str, AddSign] = EMPTY
    # the approvals that count, where no one approves twice (once.py); None: not kept
    approvals: ApprovalLog | None = None
    # tokens waiting for a timer or a message, by wait id (ADR 0023); an optional key
    waits: Mapping[str, Wait] = EMPTY
    # 通过后撤销 (ADR 0042): the terms recorded at approval; an optional key
    revoke: RevokeTerms | None = None


_new_tuple = tuple.__new__


def running(
    starter: str,
    tasks: Mapping[str, OpenTask],
    joins: Mapping[str, frozenset[str]],
    activations: Mapping[str, Activation],
    passed: tuple[str, ...],
    acted: bool | None,
    decisions: Mapping[str, Decision],
    signs: Mapping[str, AddSign],
    approvals: ApprovalLog | None,
    waits: Mapping[str, Wait],
) -> InstanceState:
    """A running state, every field given: built as the tuple it is, without the named
    tuple's argument handling, which is half the cost of the two or three states an
    approval builds (bench/countersign.py)."""
    fields = (
        "running",
        starter,
        tasks,
        joins,
        activations,
        passed,
        acted,
        decisions,
        signs,
        approvals,
        waits,
        None,
    )
    return _new_tuple(InstanceState, fields)


def open_tasks(state: InstanceState | None) -> tuple[OpenTask, ...]:
    """The open tasks in the order they were opened; none before the start."""
    return () if state is None else tuple(state.tasks.values())


class StateInvalid(FlowdeskError):
    """A stored state document cannot be read: corrupted, or from a newer flowdesk."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "state_invalid", [], 500)


def dump_state(state: InstanceState) -> StateDocument:
    """A compact JSON-ready dict; empty parts are left out.

    An activation is [node, mode, approvers, required, veto (0/1), approved, rejected],
    followed by {"from": node, "resubmit": mode} when a return opened it; the common one,
    a single-approver node's one task not yet decided, is just its node id (its
    approvers are its task's assignees). A task is [activation id, assignees]; its node
    is its activation's."""
    data: StateDocument = {"v": STATE_VERSION, "status": state.status, "starter": state.starter}
    tasks = state.tasks
    if state.activations:
        data["nodes"] = {
            a.activation_id: a.node_id if _plain(a, tasks) else _dump_activation(a)
            for a in state.activations.values()
        }
    if tasks:
        data["tasks"] = {
            task_id: [task.activation_id, list(task.assignees)] for task_id, task in tasks.items()
        }
    if state.joins:
        data["joins"] = {node_id: sorted(arrived) for node_id, arrived in state.joins.items()}
    if state.passed:
        data["passed"] = list(state.passed)
    if state.acted is not None:
        data["acted"] = 1 if state.acted else 0
    if state.decisions:
        data["decided"] = {
            actor: _dump_decision(decision) for actor, decision in state.decisions.items()
        }
    if state.signs:
        data["signs"] = {key: _dump_sign(sign) for key, sign in state.signs.items()}
    if state.waits:
        data["waits"] = {
            w.wait_id: [w.node_id, w.key, w.group] if w.group else [w.node_id, w.key]
            for w in state.waits.values()
        }
    if state.revoke is not None:
        data["revoke"] = [state.revoke.days, state.revoke.approved_at]
    if state.approvals is not None:
        data["once"] = [
            [list(pair) for pair in state.approvals.counted],
            [list(pair) for pair in state.approvals.held],
        ]
        repeats = state.approvals.repeats
        if repeats != NO_REPEATS:
            data["repeats"] = [
                [list(entry) for entry in repeats.approved],
                repeats.form,
                [list(entry) for entry in repeats.standing],
                list(repeats.entered),
            ]
    return data


def _load_repeats(raw: object) -> Repeats:
    """What de-duplication remembers (dedup.py); a document without the key, none."""
    if raw is None:
        return NO_REPEATS
    if type(raw) is not list or len(raw) != 4 or type(raw[1]) is not str:
        raise ValueError("bad repeats")
    approved = tuple(_names(pair) for pair in raw[0])
    standing = tuple(_names(entry) for entry in raw[2])
    if any(len(e) != 3 for e in (*approved, *standing)):
        raise ValueError("bad repeats")
    return Repeats(
        cast("tuple[tuple[str, str, str], ...]", approved),
        raw[1],
        cast("tuple[tuple[str, str, str], ...]", standing),
        _names(raw[3]),
    )


def _load_approvals(raw: object, repeats: object = None) -> ApprovalLog | None:
    """The approvals that count (once.py); a document without the key keeps none."""
    if raw is None:
        return None
    if type(raw) is not list or len(raw) != 2 or any(type(part) is not list for part in raw):
        raise ValueError("bad approvals")
    counted, held = ([_names(pair) for pair in part] for part in raw)
    if any(len(pair) != 2 for pair in (*counted, *held)):
        raise ValueError("bad approvals")
    return ApprovalLog(
        cast("tuple[tuple[str, str], ...]", tuple(counted)),
        cast("tuple[tuple[str, str], ...]", tuple(held)),
        _load_repeats(repeats),
    )


def _dump_sign(sign: AddSign) -> list[object]:
    """[position, mode, by, signers, children, approved, depth, held_by, comment]."""
    return [
        sign.position,
        sign.mode,
        sign.by,
        list(sign.signers),
        list(sign.children),
        list(sign.approved),
        sign.depth,
        sign.held_by,
        sign.comment,
    ]


def _load_signs(raw: object) -> dict[str, AddSign]:
    """The 加签 chains; a document without the key (every older one) has none."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("bad signs")
    signs: dict[str, AddSign] = {}
    for parent, entry in raw.items():
        position, mode, by, signers, children, approved, depth, held_by, comment = entry
        if not all(isinstance(text, str) for text in (position, mode, by, held_by, comment)):
            raise ValueError("bad sign")
        if type(depth) is not int:
            raise ValueError("bad sign depth")
        signs[str(parent)] = AddSign(
            str(parent),
            position,
            mode,
            by,
            _names(signers),
            _names(children),
            _names(approved),
            depth,
            held_by,
            comment,
        )
    return signs


def _dump_decision(d: Decision) -> list[object]:
    """[task id, activation id, activation entry, opened, joined, passed (0/1), blocked,
    decided (0/1)]."""
    return [
        d.task_id,
        d.activation.activation_id,
        _dump_activation(d.activation),
        list(d.opened),
        [list(pair) for pair in d.joined],
        1 if d.passed else 0,
        d.blocked,
        1 if d.decided else 0,
    ]


def _load_decision(actor: str, entry: list[object]) -> Decision:
    task_id, activation_id, activation, opened, joined, passed, blocked, decided = entry
    if (
        not isinstance(task_id, str)
        or not isinstance(activation_id, str)
        or type(activation) is not list
        or type(joined) is not list
        or passed not in (0, 1)
        or not isinstance(blocked, str)
        or decided not in (0, 1)
    ):
        raise ValueError("bad decision")
    pairs = tuple(_names(pair) for pair in joined)
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("bad decision")
    return Decision(
        actor,
        task_id,
        _load_activation(activation_id, activation),
        _names(opened),
        cast("tuple[tuple[str, str], ...]", pairs),
        passed == 1,
        blocked,
        decided == 1,
    )


def _plain(a: Activation, tasks: Mapping[str, OpenTask]) -> bool:
    """A single-approver activation that its own task describes completely."""
    if a.mode != "single" or a.approved or a.rejected or a.returned_from:
        return False
    task = tasks.get(a.activation_id)
    return task is not None and task.assignees == a.approvers


def _dump_activation(a: Activation) -> list[object]:
    entry: list[object] = [
        a.node_id,
        a.mode,
        list(a.approvers),
        a.required,
        1 if a.veto else 0,
        list(a.approved),
        list(a.rejected),
    ]
    if a.returned_from:
        entry.append({"from": a.returned_from, "resubmit": a.resubmit})
    return entry


def _upgrade_v1(data: StateDocument) -> StateDocument:
    """Version 1 kept open tasks as {task id: [node, assignees]}. Each becomes a
    single-approver activation keyed by the task's id, as version 2 opens them; the nodes
    passed before the upgrade are not known (events hold them, the state never did)."""
    upgraded = {key: value for key, value in data.items() if key != "tasks"}
    raw = data.get("tasks")
    if raw:
        if not isinstance(raw, Mapping):
            raise StateInvalid("The state document is malformed")
        nodes: dict[str, list[object]] = {}
        tasks: dict[str, list[object]] = {}
        for task_id, entry in raw.items():
            if not isinstance(entry, list | tuple) or len(entry) != 2:
                raise StateInvalid("The state document is malformed")
            node_id, assignees = entry
            nodes[task_id] = [node_id, "single", assignees, 1, 1, [], []]
            tasks[task_id] = [task_id, assignees]
        upgraded["nodes"] = nodes
        upgraded["tasks"] = tasks
    return upgraded


UPGRADES[1] = _upgrade_v1


def _upgrade(data: Mapping[str, object]) -> Mapping[str, object]:
    version = data.get("v", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateInvalid("The state document has no valid version")
    if version > STATE_VERSION:
        raise StateInvalid(f"The state was written by a newer flowdesk (version {version})")
    while version < STATE_VERSION:
        upgrade = UPGRADES.get(version)
        if upgrade is None:
            raise StateInvalid(f"No upgrade from state version {version}")
        version += 1
        data = {**upgrade(dict(data)), "v": version}
    return data


def _names(value: object) -> tuple[str, ...]:
    if type(value) is not list:  # a plain loop: this runs for every task of every step
        raise ValueError("not a list of names")
    for item in value:
        if type(item) is not str:
            raise ValueError("not a list of names")
    return tuple(value)


def _load_activation(activation_id: str, entry: list[object]) -> Activation:
    node_id, mode, approvers, required, veto, approved, rejected = entry[:7]
    returned = cast("Mapping[str, object]", entry[7]) if len(entry) > 7 else {}
    if (
        len(entry) > 8
        or not isinstance(returned, Mapping)
        or not isinstance(returned.get("from", ""), str)
        or not isinstance(node_id, str)
        or mode not in ACTIVATION_MODES
        or not isinstance(required, int)
        or veto not in (0, 1)
    ):
        raise ValueError("bad activation")
    return Activation(
        activation_id,
        node_id,
        cast(ActivationMode, mode),
        _names(approvers),
        required,
        veto == 1,
        _names(approved),
        _names(rejected),
        str(returned.get("from", "")),
        str(returned.get("resubmit", "")),
    )


def load_state(data: Mapping[str, object]) -> InstanceState:
    """Read a document from `dump_state` (any version), upgrading it first if older."""
    if data.get("v") != STATE_VERSION:
        data = _upgrade(data)
    try:
        status = data["status"]
        starter = data["starter"]
        if status not in STATUSES or not isinstance(starter, str):
            raise ValueError("bad status or starter")
        raw_tasks = cast("Mapping[str, list[object]]", data.get("tasks") or {})
        activations: dict[str, Activation] = {}
        plain: set[str] = set()
        raw_nodes = cast("Mapping[str, object] | None", data.get("nodes"))
        if raw_nodes:
            for activation_id, entry in raw_nodes.items():
                if type(entry) is str:  # a single approver's node: its task says who
                    approvers = _names(raw_tasks[activation_id][1])
                    activations[activation_id] = Activation(
                        activation_id, entry, "single", approvers, 1, True
                    )
                    plain.add(activation_id)
                else:
                    activations[activation_id] = _load_activation(
                        activation_id, cast("list[object]", entry)
                    )
        tasks: dict[str, OpenTask] = {}
        for task_id, (task_activation, assignees) in raw_tasks.items():
            activation = activations[str(task_activation)]
            tasks[task_id] = OpenTask(
                task_id,
                activation.node_id,
                activation.approvers if task_id in plain else _names(assignees),
                activation.activation_id,
            )
        raw_joins = cast("Mapping[str, list[str]] | None", data.get("joins"))
        joins = (
            {node_id: frozenset(arrived) for node_id, arrived in raw_joins.items()}
            if raw_joins
            else {}
        )
        passed = _names(data["passed"]) if "passed" in data else ()
        acted = data.get("acted")
        if acted not in (None, 0, 1) or isinstance(acted, bool):
            raise ValueError("bad acted")
        raw_decided = cast("Mapping[str, list[object]]", data.get("decided") or {})
        decisions = {actor: _load_decision(actor, entry) for actor, entry in raw_decided.items()}
        signs = _load_signs(data.get("signs"))
        approvals = _load_approvals(data.get("once"), data.get("repeats"))
        waits = _load_waits(data.get("waits"))
        revoke = _load_revoke(data.get("revoke"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateInvalid("The state document is malformed") from exc
    return InstanceState(
        cast(InstanceStatus, status),
        starter,
        tasks,
        joins,
        activations,
        passed,
        None if acted is None else acted == 1,
        decisions,
        signs=signs,
        approvals=approvals,
        waits=waits,
        revoke=revoke,
    )


def _load_revoke(raw: object) -> RevokeTerms | None:
    """The 通过后撤销 terms; a document without the key (every older one) has none."""
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2:
        raise ValueError("bad revoke")
    days, approved_at = raw
    if type(days) is not int or not isinstance(approved_at, str):
        raise ValueError("bad revoke")
    return RevokeTerms(days, approved_at)


def _load_waits(raw: object) -> Mapping[str, Wait]:
    """The timer and message waits; a document without the key (every older one) has none."""
    if not raw:
        return EMPTY
    if not isinstance(raw, Mapping):
        raise ValueError("bad waits")
    waits: dict[str, Wait] = {}
    for wait_id, entry in raw.items():
        names = _names(entry)
        if len(names) not in (2, 3):
            raise ValueError("bad wait")
        waits[str(wait_id)] = Wait(str(wait_id), *names)
    return waits
