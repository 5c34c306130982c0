"""REST API v1: 代理 (out-of-office substitutes): one's own rules, a new one, ending one.
Handlers call services only and write their answers with `answer` (ADR 0018)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer
from flowdesk.api.deps import Ctx, CurrentActor, operation_id
from flowdesk.api.schemas import Strict
from flowdesk.services import delegations

router = APIRouter(generate_unique_id_function=operation_id, tags=["delegations"])


class DelegationIn(Strict):
    delegate: str = Field(
        min_length=1, max_length=64, description="The username of the active substitute"
    )
    starts_at: AwareDatetime = Field(
        strict=False, description="From, ISO 8601 with a time zone (stored in UTC)"
    )
    ends_at: AwareDatetime = Field(
        strict=False, description="Until, at most a year after the start"
    )
    principal: str | None = Field(
        default=None,
        max_length=64,
        description="Whose tasks (username); omitted: yours. Someone else's: org admins only",
    )
    app_key: str | None = Field(
        default=None, max_length=64, description="Only this app's tasks; omitted: every app"
    )
    note: str = Field(default="", max_length=delegations.MAX_NOTE)


class DelegationOut(BaseModel):
    id: str
    principal: str = Field(description="Whose tasks go to the delegate (username)")
    principal_name: str
    delegate: str
    delegate_name: str
    app_key: str | None
    starts_at: datetime
    ends_at: datetime
    note: str
    revoked: bool
    in_force: bool = Field(description="Whether new tasks go to the delegate right now")


def _out(view: delegations.DelegationView, now: datetime) -> dict[str, Any]:
    return {
        "id": view.id,
        "principal": view.principal,
        "principal_name": view.principal_name,
        "delegate": view.delegate,
        "delegate_name": view.delegate_name,
        "app_key": view.app_key,
        "starts_at": view.starts_at,
        "ends_at": view.ends_at,
        "note": view.note,
        "revoked": view.revoked,
        "in_force": view.in_force(now),
    }


@router.get("/delegations", response_model=list[DelegationOut])
def list_delegations(actor: CurrentActor, ctx: Ctx) -> Response:
    """The rules where you are away or stand in for someone, newest first."""
    now = ctx.clock.now()
    return answer([_out(view, now) for view in delegations.mine(ctx, actor)])


@router.post(
    "/delegations",
    response_model=DelegationOut,
    status_code=201,
    openapi_extra=body.openapi_body(DelegationIn),
)
async def create_delegation(request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """代理: while you are away, the tasks created for you go to the delegate, who acts on
    your behalf (the timeline says so). Tasks already open stay yours. 422 for an unknown
    (`unknown_user`) or inactive (`user_inactive`) delegate, yourself
    (`delegate_is_principal`), a period that is over, reversed or longer than a year
    (`invalid_delegation`), an unknown app (`unknown_app`); 409 when a rule of yours
    overlaps it (`delegation_overlaps`) or the delegate is away then
    (`delegate_away`); 403 for someone else's rule unless you manage the org chart."""
    data = await body.parse(request, DelegationIn)
    view = await run_in_threadpool(
        delegations.create,
        ctx,
        actor=actor,
        delegate=data.delegate,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        principal=data.principal,
        app_key=data.app_key,
        note=data.note,
    )
    return answer(_out(view, ctx.clock.now()), status_code=201)


@router.post("/delegations/{delegation_id}/revoke", response_model=DelegationOut)
def revoke_delegation(delegation_id: str, actor: CurrentActor, ctx: Ctx) -> Response:
    """Ends the rule now (kept, marked revoked); by the one away or an org admin (403
    `not_principal` for the delegate); 409 `delegation_revoked` when already ended."""
    view = delegations.revoke(ctx, actor=actor, delegation_id=delegation_id)
    return answer(_out(view, ctx.clock.now()))
