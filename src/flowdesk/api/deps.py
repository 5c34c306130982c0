"""FastAPI dependencies: the service context and the calling actor (bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import Unauthenticated
from flowdesk.services import request_auth
from flowdesk.services.context import ServiceContext

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in
# the threadpool, a thread hand-off per dependency per request.


def operation_id(route: APIRoute) -> str:
    """An operation's id in the OpenAPI document: its handler's name in camelCase
    (`list_tasks` is `listTasks`). Generated clients name their functions after it, so a
    handler's name is part of the API: tests/api/test_openapi.py pins every id."""
    first, *rest = route.name.split("_")
    return first + "".join(part.capitalize() for part in rest)


# A page of a cursor-paged list: the cursor from the previous page and the page size.
Cursor = Annotated[str | None, Query(max_length=64, pattern="^[0-9a-f]{32}$")]
Limit = Annotated[int, Query(ge=1, le=100)]


async def service_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServiceContext, Depends(service_context)]


# Declares the bearer scheme in the OpenAPI document; we answer a missing token ourselves.
_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def current_actor(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    if credentials is None or not credentials.credentials.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <token>'; get one at POST /auth/token")
    return request_auth.token_actor(ctx, credentials.credentials.strip())


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def presented_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer token of the request (already checked by `current_actor`)."""
    return credentials.credentials.strip() if credentials else ""


PresentedToken = Annotated[str, Depends(presented_token)]


def request_locale(request: Request) -> str:
    """The language of the caller's messages: zh when Accept-Language starts with it."""
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"
