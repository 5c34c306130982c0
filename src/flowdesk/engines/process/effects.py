"""What a step did, in order, for the caller to persist, notify and record as events.

The engine does no I/O: opening a task means returning a TaskOpened effect that
the service layer turns into an inbox row, an event and a notification in the
same transaction as the new state. Gateways, start and end show up as
NodePassed so the ticket timeline and process mining see the whole path.
"""

from __future__ import annotations

from typing import ClassVar, Literal, TypeAlias

from flowdesk.kernel.records import record

from .webhook import WebhookRequested

TaskOutcome = Literal[
    "approved",
    "rejected",
    "cancelled",
    "returned",
    "resubmitted",
    "transferred",
    "resolved",  # 委派: the delegate resolved it; the owner decides (ADR 0034)
]
FinalStatus = Literal["approved", "rejected", "cancelled", "revoked"]  # ADR 0019, 0042
# Why the engine cancelled a task: another approver decided its node (或签, a vote, a
# 会签 rejection), a rejection elsewhere ended the ticket, or a return (退回) swept it.
CloseReason = Literal[
    "",
    "node_decided",
    "ticket_rejected",
    "returned",
    "signer_removed",  # 减签: the signer who added it removed it
    "withdrawn",  # 撤回 (ADR 0019): the applicant withdrew the ticket, an approver an approval
    "cancelled",  # 撤销 (ADR 0019): the applicant cancelled the ticket
    "revoke_rejected",  # 通过后撤销 (ADR 0042): an approver refused the revocation
    "added_signer_rejected",  # 加签 after/parallel: an added signer rejected it
    "moved",  # an admin jumped the ticket to another step (ADR 0026)
    "reassigned",  # an admin gave the task to other people (ADR 0026)
    "migrated",  # an admin moved the ticket to a newer version (ADR 0026)
    "approver_removed",  # an admin removed a pending 会签 approver (ADR 0041)
    "same_approver",  # de-duplication: approved at an earlier step (dedup.py, ADR 0041)
    "terminated",  # a terminate end event ended the ticket or its sub-process (ADR 0022)
    "error_thrown",  # an error end event ended the sub-process it lay in (ADR 0022)
    "timer_fired",  # a boundary timer decided or left the task (ADR 0023)
    "message_received",  # an interrupting boundary message took the token away (ADR 0035)
]
NodeOutcome = Literal["approved", "rejected"]


@record
class TaskOpened:
    """`via`: how the empty rule found the assignees when the step's rule named nobody
    ("fallback", "leader", "admin"; policies.py), "" otherwise."""

    kind: ClassVar[str] = "task_opened"
    task_id: str
    node_id: str
    assignees: tuple[str, ...]
    via: str = ""

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "kind": self.kind,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "assignees": list(self.assignees),
        }
        if self.via:
            data["via"] = self.via
        return data


@record
class TaskClosed:
    """`actor` is None and `comment` empty when the engine cancelled the task; then
    `reason` says why and `decided_by` whose decision closed it (never counted as that
    task's decision: the task is cancelled, APPROVALS.md edge case 2)."""

    kind: ClassVar[str] = "task_closed"
    task_id: str
    node_id: str
    outcome: TaskOutcome
    actor: str | None
    comment: str
    reason: CloseReason = ""
    decided_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "kind": self.kind,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "outcome": self.outcome,
            "actor": self.actor,
            "comment": self.comment,
        }
        if self.reason:
            data["reason"] = self.reason
            data["decided_by"] = self.decided_by
        return data


@record
class NodeDecided:
    """A node with several approvers (会签, 或签, 依次, vote) was decided: the tally when
    it was, with the approvals that were needed (fixed when the node started)."""

    kind: ClassVar[str] = "node_decided"
    node_id: str
    mode: str
    outcome: NodeOutcome
    approved: int
    rejected: int
    required: int
    approvers: int

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "node_id": self.node_id,
            "mode": self.mode,
            "outcome": self.outcome,
            "approved": self.approved,
            "rejected": self.rejected,
            "required": self.required,
            "approvers": self.approvers,
        }


@record
class NodePassed:
    """A token went through a start, end or gateway node."""

    kind: ClassVar[str] = "node_passed"
    node_id: str
    node_type: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "node_id": self.node_id, "node_type": self.node_type}


@record
class CopiesSent:
    """A token went through a CC node (抄送节点): `users` are copied on the ticket, as
    readers with no action. Empty when the node's rule named nobody: the node is skipped
    (the timeline says so), never a stall."""

    kind: ClassVar[str] = "copies_sent"
    node_id: str
    users: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "node_id": self.node_id, "users": list(self.users)}


SkipReason = Literal[
    "auto_approved",
    "auto_skipped",
    "no_assignee",  # the rule named nobody and the empty rule passes the step
    "no_assignee_rejected",  # … and the empty rule rejects the ticket (ADR 0041)
    "requester",  # the rule named only the applicant, and the step passes (ADR 0041)
    "same_approver",  # de-duplication (dedup.py)
]


@record
class NodeSkipped:
    """A user task passed without a person deciding it: by its `auto` condition
    (`condition` is why), because its rule named nobody and it says skip, or because
    its approvers approved an earlier step (`approvers`, de-duplication, dedup.py)."""

    kind: ClassVar[str] = "node_skipped"
    node_id: str
    reason: SkipReason
    condition: str = ""
    approvers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "kind": self.kind,
            "node_id": self.node_id,
            "reason": self.reason,
            "condition": self.condition,
        }
        if self.approvers:
            data["approvers"] = list(self.approvers)
        return data


@record
class InstanceFinished:
    kind: ClassVar[str] = "instance_finished"
    status: FinalStatus

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "status": self.status}


@record
class ApprovalHeld:
    """并加签 (ADR 0020): `actor` approved open task `task_id` before the signers they added
    decided; it counts, and the task closes, once they have approved."""

    kind: ClassVar[str] = "approval_held"
    task_id: str
    node_id: str
    actor: str
    comment: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "actor": self.actor,
            "comment": self.comment,
        }


@record
class ErrorThrown:
    """A token reached error end `node_id`, which throws `code` (ADR 0022): `caught_by`
    is the boundary event that caught it, "" when none did (the ticket ends rejected
    with the code recorded)."""

    kind: ClassVar[str] = "error_thrown"
    node_id: str
    code: str
    caught_by: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "node_id": self.node_id,
            "code": self.code,
            "caught_by": self.caught_by,
        }


@record
class TimerSet:
    """A timer starts (ADR 0023): the service writes its row, due `delay` (an ISO 8601
    duration, in working time when `working`) from now, or at instant `at`.
    `activation_id` is the node instance a boundary timer is attached to ("" for a timer
    catch event, whose `timer_id` is its wait's id); `fire` counts a repeating timer's
    fires, 1 for the first."""

    kind: ClassVar[str] = "timer_set"
    timer_id: str
    node_id: str
    activation_id: str
    fire: int
    delay: str
    at: str = ""
    working: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "timer_id": self.timer_id,
            "node_id": self.node_id,
            "activation_id": self.activation_id,
            "fire": self.fire,
            "delay": self.delay,
            "at": self.at,
            "working": self.working,
        }


@record
class TimerFired:
    """Timer `node_id` fired (ADR 0023) and did `action` to the task at `attached` (a
    boundary's; "" for a catch event, whose token goes on). `notify` are the people a
    reminder tells; `held` says a deciding action waits because added signers (加签) have
    not decided yet: it reminds them instead of skipping them."""

    kind: ClassVar[str] = "timer_fired"
    node_id: str
    action: str
    attached: str = ""
    fire: int = 1
    notify: tuple[str, ...] = ()
    held: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "node_id": self.node_id,
            "action": self.action,
            "attached": self.attached,
            "fire": self.fire,
            "notify": list(self.notify),
            "held": self.held,
        }


@record
class TaskEscalated:
    """An escalation timer added `added` to open task `task_id`: they may decide it beside
    its holder (ADR 0023)."""

    kind: ClassVar[str] = "task_escalated"
    task_id: str
    node_id: str
    added: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "added": list(self.added),
        }


@record
class MessageAwaited:
    """A token waits at message event `node_id` for message `name` with key `key`; or,
    for a boundary message (ADR 0035), node instance `activation_id` of the user task it
    is attached to listens for it."""

    kind: ClassVar[str] = "message_awaited"
    wait_id: str
    node_id: str
    name: str
    key: str
    activation_id: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "wait_id": self.wait_id,
            "node_id": self.node_id,
            "name": self.name,
            "key": self.key,
            "activation_id": self.activation_id,
        }


@record
class MessageReceived:
    """Message `name` with key `key` resumed the token waiting at `node_id`."""

    kind: ClassVar[str] = "message_received"
    wait_id: str
    node_id: str
    name: str
    key: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "wait_id": self.wait_id,
            "node_id": self.node_id,
            "name": self.name,
            "key": self.key,
        }


@record
class WaitCancelled:
    """After an event-based gateway, the wait at `node_id` lost: the catch event at
    `by` happened first (ADR 0035); its timer or message subscription is cancelled."""

    kind: ClassVar[str] = "wait_cancelled"
    wait_id: str
    node_id: str
    by: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "wait_id": self.wait_id, "node_id": self.node_id, "by": self.by}


from .calls import ChildCalled, ChildEnded  # noqa: E402  (call activities, ADR 0033)

Effect: TypeAlias = (
    TaskOpened
    | TaskClosed
    | NodeDecided
    | NodePassed
    | InstanceFinished
    | CopiesSent
    | ApprovalHeld
    | NodeSkipped
    | ErrorThrown
    | WebhookRequested
    | TimerSet
    | TimerFired
    | TaskEscalated
    | MessageAwaited
    | MessageReceived
    | WaitCancelled
    | ChildCalled
    | ChildEnded
)
