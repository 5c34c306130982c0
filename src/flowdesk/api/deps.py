"""FastAPI dependencies: the service context and the calling actor (bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import Unauthenticated
from flowdesk.services import auth
from flowdesk.services.context import ServiceContext


def service_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServiceContext, Depends(service_context)]


def current_actor(request: Request, ctx: Ctx) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <token>'; get one at POST /auth/token")
    return auth.token_actor(ctx, token.strip())


CurrentActor = Annotated[Actor, Depends(current_actor)]
