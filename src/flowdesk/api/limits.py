"""Refuses oversized bodies with 413 before reading them in full, and NUL in URLs."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowdesk.kernel.errors import FlowdeskError


class BodyLimit:
    """`max_bytes` for every body but those of `upload_paths` (file uploads, ADR 0028),
    which may reach `upload_bytes`."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int | None = None,
        upload_paths: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.upload_bytes = upload_bytes or max_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.default_bytes
        if self.upload_paths is not None and self.upload_paths.match(str(scope.get("path", ""))):
            max_bytes = self.upload_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await _too_large(send, max_bytes, scope.get("state", {}).get("request_id"))
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # A FlowdeskError, so the problem handler answers 413 mid-stream too.
                    raise BodyTooLarge(max_bytes)
            return message

        await self.app(scope, limited, send)


class BodyTooLarge(FlowdeskError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body exceeds {limit} bytes", "body_too_large", [], 413)


async def _too_large(send: Send, limit: int, request_id: str | None) -> None:
    body: dict[str, Any] = {
        "type": "https://flowdesk.dev/problems/body_too_large",
        "title": f"The request body exceeds {limit} bytes",
        "status": 413,
        "code": "body_too_large",
    }
    if request_id:
        body["request_id"] = request_id
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


Refuse = Callable[[Scope, int, str], Awaitable[Response]]


class NulGuard:
    """400 `invalid_characters` for a NUL in the path or the query, on every route.

    A NUL can name nothing, and PostgreSQL refuses it in text (a 500 before this
    guard). The server has already percent-decoded the path (`%00` is a NUL there);
    the query string is checked raw and decoded (`%00`, `\\x00`)."""

    def __init__(self, app: ASGIApp, refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            response = await self.refuse(scope, 400, "invalid_characters")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    raw_path = scope.get("raw_path") or b""
    query = scope.get("query_string") or b""
    return "\x00" in path or b"\x00" in raw_path or b"\x00" in query or b"%00" in query
