"""Every error leaves as application/problem+json (RFC 9457) with a stable `code`.

FastAPI's own validation handler echoes the submitted input back; ours reports only
the path and what was wrong, so personal values never leak into error bodies.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowdesk.kernel.errors import ErrorDetail, FlowdeskError, TooManyAttempts

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TYPE_BASE = "https://flowdesk.dev/problems/"


def problem(
    status: int,
    code: str,
    title: str,
    errors: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
    }
    if errors:
        body["errors"] = [{"path": e.path, "code": e.code, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_details(raw: list[Any]) -> list[ErrorDetail]:
    return [
        ErrorDetail(
            _loc(tuple(e.get("loc", ()))),
            str(e.get("type", "invalid")),
            str(e.get("msg", "invalid")).split(",")[0],
        )
        for e in raw
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(FlowdeskError)
    async def _flowdesk(_: Request, exc: FlowdeskError) -> JSONResponse:
        headers = None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        elif exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return problem(exc.status, exc.code, exc.message, exc.errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "validation_failed",
            "The request is invalid",
            validation_details(list(exc.errors())),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthenticated",
            403: "forbidden",
            413: "body_too_large",
            415: "unsupported_media_type",
        }
        return problem(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal_error", "Internal error; the operation was not applied")
