"""Every error leaves as application/problem+json (RFC 9457) with a stable `code`.

FastAPI's own validation handler echoes the submitted input back; ours reports only
the path and what was wrong, so personal values never leak into error bodies. Every
echo is bounded: at most MAX_ERRORS details, titles, paths and messages cut short.
Paths built from what the client sent (pydantic's error locations) keep only
identifier-like segments: anything else, such as a resident ID sent as a key, reads
"(unknown)". Every problem carries the request's id.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowdesk.kernel.errors import ErrorDetail, FlowdeskError, TooManyAttempts
from flowdesk.kernel.problem_body import HTTP_CODES, MAX_ERRORS, PROBLEM, problem_body

UNKNOWN = "(unknown)"
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,6}|\(unknown\)")


def request_id_of(request: Request) -> str | None:
    """The id the request observer (api/ops.py) gave this request."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def _segment(part: Any) -> str:
    """One step of a client-made path: a key that could be a value reads "(unknown)"."""
    text = str(part)
    return text if _SEGMENT.fullmatch(text) else UNKNOWN


def problem(
    status: int,
    code: str,
    title: str,
    errors: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
    *,
    request_id: str | None = None,
) -> JSONResponse:
    body = problem_body(status, code, title, errors, request_id=request_id)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [_segment(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_details(raw: list[Any]) -> list[ErrorDetail]:
    return [
        ErrorDetail(
            _loc(tuple(e.get("loc", ()))),
            str(e.get("type", "invalid")),
            str(e.get("msg", "invalid")).split(",")[0],
        )
        for e in raw[: MAX_ERRORS + 1]  # one more than shown, so the answer says "more"
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(FlowdeskError)
    async def _flowdesk(request: Request, exc: FlowdeskError) -> JSONResponse:
        headers = None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        elif exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return problem(
            exc.status,
            exc.code,
            exc.message,
            exc.errors,
            headers,
            request_id=request_id_of(request),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "validation_failed",
            "The request is invalid",
            validation_details(list(exc.errors())),
            request_id=request_id_of(request),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            HTTP_CODES.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
            request_id=request_id_of(request),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Not logged here: the request observer logs the failure once, with its traceback.
        return problem(
            500,
            "internal_error",
            "Internal error; the operation was not applied",
            request_id=request_id_of(request),
        )
