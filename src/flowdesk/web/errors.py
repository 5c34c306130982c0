"""Error pages in the viewer's language; never a stack trace.

The REST API is a mounted sub-application with its own problem+json handlers; these
replace the outer application's handlers, so only the UI's paths get HTML. Paths
under /api/ that reach the outer application (an unknown API version) still get a
problem+json body.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowdesk.kernel.errors import FlowdeskError, TooManyAttempts
from flowdesk.kernel.problem_body import HTTP_CODES, PROBLEM, problem_body
from flowdesk.web.render import hx_redirect, redirect, render
from flowdesk.web.session import CsrfRefused, LoginRequired, login_url

log = logging.getLogger(__name__)

_FALLBACK_HTML = (
    "<!doctype html><html><head><meta charset='utf-8'><title>500</title></head>"
    "<body><h1>500</h1><p>系统出错，操作未执行。Internal error; nothing was changed.</p>"
    "<p><a href='/'>flowdesk</a></p></body></html>"
)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(
    request: Request,
    status: int,
    code: str,
    *,
    headers: dict[str, str] | None = None,
    retry_minutes: int | None = None,
) -> Response:
    if _is_api(request):
        request_id = getattr(request.state, "request_id", None)  # set by api/ops.py
        body = problem_body(status, code, code.replace("_", " "), request_id=request_id)
        return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)
    context: dict[str, Any] = {"status": status, "code": code, "retry_minutes": retry_minutes}
    try:
        return render(request, "error.html", context, status=status, headers=headers)
    except Exception:
        log.exception("error page failed to render")
        return Response(_FALLBACK_HTML, status_code=status, media_type="text/html", headers=headers)


def retry_minutes(seconds: int) -> int:
    """Whole minutes to show people; the Retry-After header carries the exact seconds."""
    return max(1, round(seconds / 60))


def install(app: FastAPI) -> None:
    """Registers the HTML handlers (replacing the JSON ones for the outer application)."""

    def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = login_url(exc.next_path)
        if request.headers.get("HX-Request") == "true":
            current = request.headers.get("HX-Current-URL", "")
            return hx_redirect(login_url(_local_part(current)) if current else target, 401)
        return redirect(target, status=303)

    def csrf_refused(request: Request, exc: Exception) -> Response:
        return error_page(request, 403, "csrf_refused")

    def flowdesk_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FlowdeskError)
        headers = None
        minutes = None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
            minutes = retry_minutes(exc.retry_after_seconds)
        if exc.status == 401:
            return login_required(request, LoginRequired(None))
        return error_page(request, exc.status, exc.code, headers=headers, retry_minutes=minutes)

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return error_page(request, exc.status_code, code, headers=getattr(exc, "headers", None))

    def invalid_request(request: Request, exc: Exception) -> Response:
        return error_page(request, 400, "bad_request")

    def unexpected(request: Request, exc: Exception) -> Response:
        # Not logged here: the request observer (api/ops.py) logs each failure once.
        return error_page(request, 500, "internal_error")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(FlowdeskError, flowdesk_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)


def _local_part(url: str) -> str:
    """The path and query of an absolute URL (HTMX sends the page's full URL)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
