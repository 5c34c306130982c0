"""What a caller asks of a process instance; one immutable record per command.

Commands carry the ticket's full current form values because branch conditions
read them, but the engine never stores them: form data belongs to the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from typing import Literal, TypeAlias

from flowdesk.kernel.records import record

Outcome = Literal["approve", "reject"]
ResubmitMode = Literal["rerun", "straight_back"]


@record
class Start:
    """Start a new instance for `starter` (the applicant)."""

    starter: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class CompleteTask:
    """`actor` approves or rejects open task `task_id`."""

    task_id: str
    actor: str
    outcome: Outcome
    comment: str = ""
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class ReturnTask:
    """退回: `actor` sends the ticket back from open task `task_id` to `to`, a user-task node
    this ticket passed, or to the applicant when `to` is None. `resubmit` picks what
    happens when the target is done (only where the returning node lets the returner
    choose): "rerun" every node in between again, or go "straight_back" to the
    returning node."""

    task_id: str
    actor: str
    to: str | None
    comment: str = ""
    resubmit: ResubmitMode | None = None
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class Resubmit:
    """The applicant resubmits a ticket returned to them (their task `task_id`)."""

    task_id: str
    actor: str
    comment: str = ""
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class TransferTask:
    """转交: `actor` hands open task `task_id` to `to`, who decides it in their place."""

    task_id: str
    actor: str
    to: str
    comment: str = ""


AddSignPosition = Literal["before", "after", "parallel"]
AddSignMode = Literal["any", "all", "sequential"]


@record
class AddSigners:
    """加签: `actor`, holder of open task `task_id`, adds `users` as signers "before" (they
    decide first, then the task is the actor's again), "after" (the actor approves now;
    it counts once they approved) or "parallel" (they decide beside the actor), deciding
    among themselves by `mode`. `max_depth` is how deep add-signs may nest (1: an added
    signer cannot add again)."""

    task_id: str
    actor: str
    users: tuple[str, ...]
    position: AddSignPosition
    mode: AddSignMode = "all"
    comment: str = ""
    max_depth: int = 1
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class RemoveSigner:
    """减签: `actor`, who added signers to task `task_id`, removes pending ones (`users`)."""

    task_id: str
    actor: str
    users: tuple[str, ...]
    comment: str = ""
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class DelegateTask:
    """委派 (per-task delegation, not the out-of-office 代理): `actor`, holder of open task
    `task_id`, asks `to` to work it; `to` resolves it and it comes back to the actor, who
    decides (APPROVALS.md edge case 29, ADR 0034)."""

    task_id: str
    actor: str
    to: str
    comment: str = ""
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


ResolveOpinion = Literal["", "approve", "reject"]


@record
class ResolveTask:
    """委派: the delegate `actor` resolves their task `task_id` (a comment, optionally an
    opinion); the delegated task is its owner's to decide again (ADR 0034)."""

    task_id: str
    actor: str
    comment: str = ""
    opinion: ResolveOpinion = ""
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class ChangeApplicant:
    """A hand-over makes `to` the ticket's applicant (its owner) in place of a person who
    leaves or moves: they withdraw, resubmit and cancel it from now on (ADR 0034)."""

    to: str


@record
class Withdraw:
    """撤回: the applicant `actor` takes the ticket back before anybody acted on it; it
    rests at the applicant, who edits and resubmits it, or cancels it (ADR 0019)."""

    actor: str


@record
class CancelInstance:
    """撤销: the applicant `actor` ends the running ticket; its status is cancelled."""

    actor: str


@record
class RetractDecision:
    """撤回 by an approver: `actor` takes back their approval of task `task_id` while
    nothing it led to was acted on; their task reopens (APPROVALS.md 24-26, ADR 0019)."""

    task_id: str
    actor: str


@record
class RequestRevoke:
    """通过后撤销 (ADR 0042): the applicant `actor` asks to revoke the approved ticket at
    `now`; `approvers` are the people who approved it (from its history, in order), each
    of whom must approve the revocation."""

    actor: str
    approvers: tuple[str, ...]
    now: datetime


@record
class FireTimer:
    """The worker fires timer `timer_id` of node `node_id` (a boundary timer on node
    instance `activation_id`, or a timer catch event whose wait is `timer_id`); `fire`
    counts a repeating timer's fires (ADR 0023)."""

    timer_id: str
    node_id: str
    activation_id: str = ""
    fire: int = 1
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@record
class ReceiveMessage:
    """Message `name` with correlation `key` arrived for the ticket (ADR 0023): for the
    wait `wait_id` ("": the first that waits for it), or for boundary message `node_id`
    on node instance `activation_id` (ADR 0035)."""

    name: str
    key: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)
    wait_id: str = ""
    activation_id: str = ""
    node_id: str = ""


@record
class FinishCall:
    """The child ticket of call wait `wait_id` ended with `outcome` (approved, rejected,
    cancelled); `values` are the parent's form values with the outputs applied (ADR 0033)."""

    wait_id: str
    outcome: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


Command: TypeAlias = (
    Start
    | CompleteTask
    | ReturnTask
    | Resubmit
    | TransferTask
    | AddSigners
    | RemoveSigner
    | DelegateTask
    | ResolveTask
    | ChangeApplicant
    | Withdraw
    | CancelInstance
    | RetractDecision
    | RequestRevoke
    | FireTimer
    | ReceiveMessage
    | FinishCall
)
