"""代理 (out-of-office delegation): while a person is away, tasks that would go to them go
to the substitute they (or an administrator) named, who acts on their behalf.

A rule has a principal, a delegate, a period in UTC and an optional app. It applies when a
task is created (APPROVALS.md edge case 30): the step's assignees are resolved as usual,
then each principal with a rule in force is replaced by their delegate, and the task's
`task_opened` event records whom the delegate stands in for, so the timeline says "B on
behalf of A". Tasks already open stay where they are (a hand-over moves those). One hop
only: a rule is refused when the delegate is away themselves in that period; a delegate
who already is one of the step's approvers does not stand in (they would decide twice),
so the principal keeps that task. Rules are read once per org generation (the table's
triggers bump it, migration 0013) and evaluated at the step's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.kernel.errors import (
    Conflict,
    ErrorDetail,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.kernel.ids import new_id
from flowdesk.services import people
from flowdesk.services.context import ServiceContext
from flowdesk.services.stand_ins import Rule, StandIns
from flowdesk.store import apps as apps_store
from flowdesk.store import audit as audit_store
from flowdesk.store import delegations as delegations_store

MAX_PERIOD = timedelta(days=366)
MAX_NOTE = 500
ON_BEHALF = "flowdesk_on_behalf"  # conn.info key: the stand-ins one step made


def stand_ins(ctx: ServiceContext, conn: Connection, generation: int) -> StandIns:
    """The rules valid at org generation `generation` (read on the step's connection)."""

    def load() -> StandIns:
        rules: dict[str, list[Rule]] = {}
        # an inactive delegate stands in for nobody (in_force leaves them out)
        for row in delegations_store.in_force(conn, ctx.clock.now(), active_only=True):
            rules.setdefault(row.principal_id, []).append(
                Rule(row.delegate_id, row.app_key, row.starts_at, row.ends_at)
            )
        return StandIns({k: tuple(v) for k, v in rules.items()})

    return ctx.delegations.at(generation, load)


@dataclass(frozen=True)
class DelegationView:
    id: str
    principal: str  # username
    principal_name: str
    delegate: str
    delegate_name: str
    app_key: str | None
    starts_at: datetime
    ends_at: datetime
    note: str
    revoked: bool

    def in_force(self, at: datetime) -> bool:
        return not self.revoked and self.starts_at <= at < self.ends_at


def _person(conn: Connection, username: object, field: str) -> Any:
    if not isinstance(username, str) or not username.strip():
        raise ValidationFailed(
            "Choose a person",
            [ErrorDetail(field, "required", "Choose a person")],
            code="delegate_required",
        )
    return people.named(conn, username, field)


def create(
    ctx: ServiceContext,
    *,
    actor: Actor,
    delegate: str,
    starts_at: datetime,
    ends_at: datetime,
    principal: str | None = None,
    app_key: str | None = None,
    note: str = "",
) -> DelegationView:
    """A new rule for `principal` (default: the actor; someone else's only for those who
    manage the org chart), checked: an active delegate other than the principal, a period
    that ends after it starts, is not over, and lasts at most a year, an app that exists,
    no overlapping rule of the principal's for the same scope, and a delegate who is not
    away themselves then (one hop only). Audited."""
    errors: list[ErrorDetail] = []
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed("Times need a time zone", code="naive_time")
    now = ctx.clock.now()
    if ends_at <= starts_at:
        errors.append(ErrorDetail("ends_at", "ends_before_start", "The end is before the start"))
    elif ends_at <= now:
        errors.append(ErrorDetail("ends_at", "in_the_past", "The period is already over"))
    elif ends_at - starts_at > MAX_PERIOD:
        errors.append(ErrorDetail("ends_at", "too_long", "At most one year"))
    note = note.strip()
    if len(note) > MAX_NOTE:
        errors.append(ErrorDetail("note", "too_long", f"At most {MAX_NOTE} characters"))
    if errors:
        raise ValidationFailed("The delegation is invalid", errors, code="invalid_delegation")
    with ctx.db.write() as conn:
        whose = _person(conn, principal or actor.username, "principal")
        if whose.id != actor.user_id and not decide(actor, "user.manage"):
            raise Forbidden("You may set a substitute for yourself only", "not_your_delegation")
        deputy = _person(conn, delegate, "delegate")
        people.active(conn, str(deputy.username), "delegate")
        if deputy.id == whose.id:
            raise ValidationFailed(
                "Choose someone else as the substitute",
                [ErrorDetail("delegate", "delegate_is_principal", "The same person")],
                code="delegate_is_principal",
            )
        if app_key is not None and apps_store.app_by_key(conn, app_key) is None:
            raise ValidationFailed(
                f"There is no app '{app_key[:64]}'",
                [ErrorDetail("app_key", "unknown_app", "No such app")],
                code="unknown_app",
            )
        for row in delegations_store.in_force(conn, now):
            overlaps = row.starts_at < ends_at and starts_at < row.ends_at
            if not overlaps:
                continue
            if row.principal_id == whose.id and (
                row.app_key is None or app_key is None or row.app_key == app_key
            ):
                raise Conflict(
                    "A substitute is already set for part of this period", "delegation_overlaps"
                )
            if row.principal_id == deputy.id:
                raise Conflict(
                    f"'{deputy.username}' is away then and has a substitute themselves",
                    "delegate_away",
                )
        delegation_id = new_id()
        delegations_store.insert(
            conn,
            {
                "id": delegation_id,
                "principal_id": whose.id,
                "delegate_id": deputy.id,
                "app_key": app_key,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "note": note or None,
                "created_by": actor.user_id,
                "created_at": now,
                "revoked_at": None,
            },
        )
        audit_store.append(
            conn,
            at=now,
            actor=actor.username,
            action="delegation.create",
            target_type="delegation",
            target_id=delegation_id,
            details={
                "delegation": delegation_id,
                "principal": whose.username,
                "delegate": deputy.username,
                "app": app_key,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
    return _one(ctx, actor, delegation_id)


def revoke(ctx: ServiceContext, *, actor: Actor, delegation_id: str) -> DelegationView:
    """Ends a rule now (kept, marked revoked); by its principal or an org admin. Tasks the
    delegate already holds stay theirs."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = delegations_store.by_id(conn, delegation_id)
        if row is None or not (
            row.principal_id == actor.user_id
            or row.delegate_id == actor.user_id
            or decide(actor, "user.manage")
        ):
            raise NotFound("Delegation not found", "delegation_not_found")
        if row.principal_id != actor.user_id and not decide(actor, "user.manage"):
            raise Forbidden("Only the person away (or an administrator) ends it", "not_principal")
        if row.revoked_at is not None:
            raise Conflict("The delegation was already ended", "delegation_revoked")
        delegations_store.revoke(conn, delegation_id, now)
        audit_store.append(
            conn,
            at=now,
            actor=actor.username,
            action="delegation.revoke",
            target_type="delegation",
            target_id=delegation_id,
            details={"delegation": delegation_id},
        )
    return _one(ctx, actor, delegation_id)


def mine(ctx: ServiceContext, actor: Actor) -> list[DelegationView]:
    """The rules where the actor is away or stands in, newest first."""
    with ctx.db.read() as conn:
        return [_view(row) for row in delegations_store.of_person(conn, actor.user_id)]


def _one(ctx: ServiceContext, actor: Actor, delegation_id: str) -> DelegationView:
    with ctx.db.read() as conn:
        row = delegations_store.by_id(conn, delegation_id)
        assert row is not None
        for found in delegations_store.of_person(conn, row.principal_id):
            if found.id == delegation_id:
                return _view(found)
    raise AssertionError("the delegation just written is missing")


def _view(row: Any) -> DelegationView:
    return DelegationView(
        id=str(row.id),
        principal=str(row.principal_username),
        principal_name=str(row.principal_name),
        delegate=str(row.delegate_username),
        delegate_name=str(row.delegate_name),
        app_key=row.app_key,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        note=row.note or "",
        revoked=row.revoked_at is not None,
    )
