"""The one problem+json (RFC 9457) body, shared by the API and the outer app's /api/ paths.

Every echo is bounded: at most MAX_ERRORS details, titles, paths and messages cut short,
so a hostile request cannot make its error answer large.
"""

from __future__ import annotations

from typing import Any

from flowdesk.kernel.errors import ErrorDetail

PROBLEM = "application/problem+json"
TYPE_BASE = "https://flowdesk.dev/problems/"
MAX_ERRORS = 100
MAX_TEXT = 200
MAX_PATH = 120

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


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _details(errors: list[ErrorDetail]) -> list[dict[str, str]]:
    shown = [
        {
            "path": bounded(e.path, MAX_PATH),
            "code": bounded(e.code, 64),
            "message": bounded(e.message),
        }
        for e in errors[:MAX_ERRORS]
    ]
    if len(errors) > MAX_ERRORS:
        hidden = len(errors) - MAX_ERRORS
        shown.append({"path": "", "code": "more_errors", "message": f"{hidden} more not shown"})
    return shown


def problem_body(
    status: int,
    code: str,
    title: str,
    errors: list[ErrorDetail] | None = None,
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": bounded(title),
        "status": status,
        "code": code,
    }
    if errors:
        body["errors"] = _details(errors)
    if request_id:  # set by the request observer (api/ops.py) on every request
        body["request_id"] = request_id
    return body
