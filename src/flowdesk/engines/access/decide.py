"""The v1 rights vocabulary and the rules that grant it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Action = Literal[
    "app.read",
    "app.publish",
    "ticket.create",
    "ticket.read",
    "ticket.read_hidden",  # fields a step hides from its approvers (ADR 0037)
    "ticket.urge",
    "ticket.comment",
    "task.act",
    "audit.verify",
    "user.manage",
    "calendar.manage",
    "ticket.repair",
    "jobs.manage",  # background jobs: list the failed and dead ones, retry one
    "message.send",  # POST /api/v1/messages: resume tickets waiting for a message (ADR 0023)
    "record.write",  # create, edit, delete a record app's records (ADR 0038)
]

AUDITOR_ROLE = "auditor"
# Maintains departments, people and roles (HR / IT operators), without the other admin rights.
ORG_ADMIN_ROLE = "org_admin"
# Repairs running tickets (jump, reassign, cancel, migrate: ADR 0026) without the other
# admin rights; the role stuck steps fall back to (process/policies.py).
PROCESS_ADMIN_ROLE = "process_admin"
# Sends messages that resume waiting tickets (an integration's service account, ADR 0023)
MESSAGE_SENDER_ROLE = "message_sender"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    username: str
    display_name: str
    is_admin: bool = False
    roles: frozenset[str] = frozenset()
    department_id: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What a rule may know about the thing acted on, gathered by the caller beforehand."""

    requester_id: str | None = None
    participant_ids: frozenset[str] = field(default_factory=frozenset)
    assignee_ids: frozenset[str] = field(default_factory=frozenset)
    is_open: bool = True
    # a record app's roles (ADR 0038): editors write its records, readers and editors read
    editor_roles: frozenset[str] = field(default_factory=frozenset)
    reader_roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def decide(actor: Actor, action: Action, resource: ResourceFacts | None = None) -> Decision:
    facts = resource or ResourceFacts()
    if action in ("app.read", "ticket.create"):
        return Decision(True, "every active user may file tickets")
    if action == "app.publish":
        return Decision(actor.is_admin, "administrators only")
    if action == "user.manage":
        return Decision(
            actor.is_admin or ORG_ADMIN_ROLE in actor.roles, "administrators and org admins"
        )
    if action == "ticket.repair":
        return Decision(
            actor.is_admin or PROCESS_ADMIN_ROLE in actor.roles,
            "administrators and process admins",
        )
    if action == "message.send":
        return Decision(
            actor.is_admin or MESSAGE_SENDER_ROLE in actor.roles,
            "administrators and message senders",
        )
    if action == "calendar.manage":
        return Decision(actor.is_admin, "administrators only")
    if action == "jobs.manage":
        return Decision(actor.is_admin, "administrators only")
    if action == "audit.verify":
        return Decision(
            actor.is_admin or AUDITOR_ROLE in actor.roles, "administrators and auditors"
        )
    if action == "ticket.urge":  # 催办 (APPROVALS.md): the initiator, and administrators
        if actor.is_admin:
            return Decision(True, "administrators urge any ticket")
        return Decision(actor.user_id == facts.requester_id, "the requester only")
    if action == "ticket.comment":  # a comment without deciding: whoever may read it
        return decide(actor, "ticket.read", facts)
    if action == "ticket.read":
        if actor.is_admin or AUDITOR_ROLE in actor.roles:
            return Decision(True, "administrators and auditors read every ticket")
        if PROCESS_ADMIN_ROLE in actor.roles:  # they repair any ticket (ADR 0026)
            return Decision(True, "process admins read every ticket")
        if actor.user_id == facts.requester_id:
            return Decision(True, "the requester")
        if actor.user_id in facts.participant_ids:
            return Decision(True, "an assignee of one of its tasks")
        if actor.roles & (facts.reader_roles | facts.editor_roles):
            return Decision(True, "a reader or editor of the record app")
        return Decision(False, "neither requester nor assignee")
    if action == "ticket.read_hidden":  # per-node hidden fields (ADR 0037)
        if actor.is_admin or AUDITOR_ROLE in actor.roles or PROCESS_ADMIN_ROLE in actor.roles:
            return Decision(True, "administrators, auditors and process admins see every field")
        return Decision(actor.user_id == facts.requester_id, "the applicant sees their own data")
    if action == "record.write":
        return Decision(
            actor.is_admin or bool(actor.roles & facts.editor_roles),
            "administrators and the record app's editors",
        )
    if action == "task.act":
        if not facts.is_open:
            return Decision(False, "the task is closed")
        return Decision(actor.user_id in facts.assignee_ids, "assignees only")
    return Decision(False, "unknown action")
