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

PROBLEM = "application/problem+json"
TYPE_BASE = "https://flowdesk.dev/problems/"
MAX_ERRORS = 100
MAX_TEXT = 200
MAX_PATH = 120
UNKNOWN = "(unknown)"
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,6}|\(unknown\)")


def request_id_of(request: Request) -> str | None:
    """The id the request observer (api/ops.py) gave this request."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def _bounded(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _segment(part: Any) -> str:
    """One step of a client-made path: a key that could be a value reads "(unknown)"."""
    text = str(part)
    return text if _SEGMENT.fullmatch(text) else UNKNOWN


def _details(errors: list[ErrorDetail]) -> list[dict[str, str]]:
    shown = [
        {
            "path": _bounded(e.path, MAX_PATH),
            "code": _bounded(e.code, 64),
            "message": _bounded(e.message),
        }
        for e in errors[:MAX_ERRORS]
    ]
    if len(errors) > MAX_ERRORS:
        hidden = len(errors) - MAX_ERRORS
        shown.append({"path": "", "code": "more_errors", "message": f"{hidden} more not shown"})
    return shown


def problem(
    status: int,
    code: str,
    title: str,
    errors: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
    *,
    request_id: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": _bounded(title),
        "status": status,
        "code": code,
    }
    if errors:
        body["errors"] = _details(errors)
    if request_id:
        body["request_id"] = request_id
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


HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_attempts",
}


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
