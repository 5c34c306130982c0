"""What a step did, in order, for the caller to persist, notify and record as events.

The engine does no I/O: opening a task means returning a TaskOpened effect that
the service layer turns into an inbox row, an event and a notification in the
same transaction as the new state. Gateways, start and end show up as
NodePassed so the ticket timeline and process mining see the whole path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

from .webhook import WebhookRequested

TaskOutcome = Literal["approved", "rejected", "cancelled", "returned", "resubmitted", "transferred"]
FinalStatus = Literal["approved", "rejected", "cancelled"]  # cancelled: 撤销, ADR 0019
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
    "added_signer_rejected",  # 加签 after/parallel: an added signer rejected it
    "moved",  # an admin jumped the ticket to another step (ADR 0026)
    "reassigned",  # an admin gave the task to other people (ADR 0026)
    "migrated",  # an admin moved the ticket to a newer version (ADR 0026)
    "terminated",  # a terminate end event ended the ticket or its sub-process (ADR 0022)
    "error_thrown",  # an error end event ended the sub-process it lay in (ADR 0022)
]
NodeOutcome = Literal["approved", "rejected"]


@dataclass(frozen=True, slots=True)
class TaskOpened:
    kind: ClassVar[str] = "task_opened"
    task_id: str
    node_id: str
    assignees: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "assignees": list(self.assignees),
        }


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class NodePassed:
    """A token went through a start, end or gateway node."""

    kind: ClassVar[str] = "node_passed"
    node_id: str
    node_type: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "node_id": self.node_id, "node_type": self.node_type}


@dataclass(frozen=True, slots=True)
class CopiesSent:
    """A token went through a CC node (抄送节点): `users` are copied on the ticket, as
    readers with no action. Empty when the node's rule named nobody: the node is skipped
    (the timeline says so), never a stall."""

    kind: ClassVar[str] = "copies_sent"
    node_id: str
    users: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "node_id": self.node_id, "users": list(self.users)}


SkipReason = Literal["auto_approved", "auto_skipped", "no_assignee", "same_approver"]


@dataclass(frozen=True, slots=True)
class NodeSkipped:
    """A user task passed without a person deciding it: by its `auto` condition
    (`condition` is why), or because its rule named nobody and it says skip."""

    kind: ClassVar[str] = "node_skipped"
    node_id: str
    reason: SkipReason
    condition: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "node_id": self.node_id,
            "reason": self.reason,
            "condition": self.condition,
        }


@dataclass(frozen=True, slots=True)
class InstanceFinished:
    kind: ClassVar[str] = "instance_finished"
    status: FinalStatus

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "status": self.status}


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
)
