"""REST API v1: 抄送 (CC). An ad-hoc copy of a ticket to more people, and 抄送我, the list
of the tickets the caller was copied on (by a CC node or by a person)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from flowdesk.api import body
from flowdesk.api.answers import answer
from flowdesk.api.deps import Ctx, CurrentActor, Limit, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.api.schemas import PersonOut, Strict
from flowdesk.services import ticket_actions, ticket_copies

router = APIRouter(generate_unique_id_function=operation_id)


class CopyIn(Strict):
    users: list[str] = Field(
        description=f"Usernames of active people to copy, 1 to {ticket_copies.MAX_COPIES},"
        " each once; not oneself, nor anyone already copied on the ticket"
    )
    note: str = Field(
        default="",
        description=f"Optional; at most {ticket_actions.MAX_COMMENT} characters, no control"
        " characters but newline and tab",
    )


class CopiesOut(BaseModel):
    id: str = Field(description="The copy's timeline note")
    ticket_id: str
    at: datetime
    by: PersonOut
    copied: list[PersonOut] = Field(description="The people copied, in the order named")
    note: str


class CopyOut(BaseModel):
    ticket_id: str
    serial: str
    title: str = Field(description="In the caller's language")
    status: str = Field(
        description="The ticket's status now: running, approved, rejected or cancelled"
    )
    copied_at: datetime
    read: bool = Field(description="Whether the caller has opened the ticket since")
    copied_by: PersonOut | None = Field(description="Who copied the caller; null: a CC node")
    node_id: str | None = Field(description="The CC node that copied the caller, if one did")
    node_name: dict[str, str] | None = Field(description="That node's name by locale")


class CopyReadOut(BaseModel):
    ticket_id: str
    marked: bool = Field(description="Whether an unread copy of the caller's was marked read now")


class CopyPage(BaseModel):
    items: list[CopyOut]
    next_cursor: str | None
    unread: int = Field(description="How many of the caller's copies are unread in all")


@router.post(
    "/tickets/{ticket_id}/copies",
    response_model=CopiesOut,
    status_code=201,
    tags=["tickets"],
    openapi_extra=body.openapi_body(CopyIn),
    responses={409: {"description": DESCRIPTIONS[409]}},
)
async def copy_ticket(ticket_id: str, request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """抄送: copy people on the ticket, with an optional note. They are notified
    (`ticket_copied`), may read the ticket from then on and have no action on it.

    Only the applicant or a holder of one of its open tasks (403 `copy_not_allowed`); a
    ticket the caller cannot see is 404 `ticket_not_found`. 422 for no one named
    (`copy_users_required`), more than the limit (`too_many_copies`), a name given twice
    (`duplicate`), an unknown or inactive user (`unknown_user`) or oneself (`copy_self`);
    409 `already_copied` for someone copied on the ticket before. The ticket's process
    is unchanged (no version change); the copy is in the timeline (`ticket_copied`) and
    the audit log."""
    data = await body.parse(request, CopyIn)
    done = await run_in_threadpool(
        ticket_copies.copy_ticket,
        ctx,
        actor=actor,
        ticket_id=ticket_id,
        usernames=data.users,
        note=data.note,
        locale=request_locale(request),
    )
    return answer(
        {
            "id": done.note_id,
            "ticket_id": done.ticket_id,
            "at": done.at,
            "by": {"id": actor.user_id, "name": actor.display_name},
            "copied": [
                {"id": u, "name": n} for u, n in zip(done.user_ids, done.names, strict=True)
            ],
            "note": done.note,
        },
        status_code=201,
    )


@router.get("/copies", response_model=CopyPage, tags=["tickets"])
def list_copies(
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    state: Literal["all", "unread"] = "all",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 20,
) -> Response:
    """抄送我: the tickets the caller was copied on, the latest copy first (`state=unread`:
    only those not opened since). `next_cursor` pages on; a cursor another list gave is a
    422 `invalid_query` naming `cursor` (`invalid_cursor`)."""
    params = {"limit": str(limit)}
    if cursor:
        params["cursor"] = cursor
    if state == "unread":
        params["unread"] = "true"
    page = ticket_copies.copied_list(ctx, actor, params, locale=request_locale(request))
    return answer(
        {
            "items": [
                {
                    "ticket_id": c.ticket_id,
                    "serial": c.serial,
                    "title": c.title,
                    "status": c.status,
                    "copied_at": c.at,
                    "read": c.read,
                    "copied_by": {"id": c.copied_by.id, "name": c.copied_by.name}
                    if c.copied_by
                    else None,
                    "node_id": c.node_id,
                    "node_name": dict(c.node_name) if c.node_name is not None else None,
                }
                for c in page.items
            ],
            "next_cursor": page.next_cursor,
            "unread": ticket_copies.count_unread(ctx, actor),
        }
    )


@router.post("/copies/{ticket_id}/read", response_model=CopyReadOut, tags=["tickets"])
def mark_copy_read(ticket_id: str, actor: CurrentActor, ctx: Ctx) -> Response:
    """Marks the caller's copy of the ticket read, as opening the ticket page does: after
    it, 抄送我 shows the copy as read. A ticket the caller was not copied on, or whose copy
    is read already, marks nothing (`marked` false)."""
    return answer(
        {"ticket_id": ticket_id, "marked": ticket_copies.mark_read(ctx, actor, ticket_id)}
    )
