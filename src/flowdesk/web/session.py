"""The browser session: an HttpOnly cookie holding the session token, and CSRF checks.

`request_auth.session(ctx, token)` turns the cookie into the actor and the session's CSRF
token. Every state-changing POST carries that token, as the hidden form field
`csrf_token` or (HTMX) the `X-CSRF-Token` header set on <body>; a missing or wrong
token is refused with 403. The login form, which has no session yet, uses a
double-submit token: a random cookie that the form must echo.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from flowdesk.services import request_auth
from flowdesk.services.auth import WebSession
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from flowdesk.web.forms import strict_form

SESSION_COOKIE = "flowdesk_session"
LOGIN_CSRF_COOKIE = "flowdesk_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_NEXT_LENGTH = 1000
_UNSET = object()


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, HTMX gets HX-Redirect."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("login required")
        self.next_path = next_path


class CsrfRefused(Exception):
    """The CSRF token is missing or does not match the session's."""


def service_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def _context_dependency(request: Request) -> ServiceContext:
    # async: a plain `def` dependency costs a threadpool hand-off per request.
    return service_context(request)


async def web_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def optional_session(request: Request) -> WebSession | None:
    """The request's session or None; looked up once per request."""
    cached = getattr(request.state, "web_session", _UNSET)
    if cached is None or isinstance(cached, WebSession):
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    found = request_auth.session(service_context(request), token) if token else None
    request.state.web_session = found
    return found


def require_session(request: Request) -> WebSession:
    found = optional_session(request)
    if found is None:
        wanted = request.url.path
        if request.url.query:
            wanted += "?" + request.url.query
        raise LoginRequired(wanted if request.method == "GET" else None)
    return found


def csrf_ok(expected: str, given: object) -> bool:
    return (
        isinstance(given, str)
        and bool(given)
        and bool(expected)
        and secrets.compare_digest(given.encode(), expected.encode())
    )


async def checked_form(
    request: Request, session: Annotated[WebSession, Depends(require_session)]
) -> FormData:
    """The POSTed form, after checking its CSRF token (header or hidden field); invalid UTF-8
    (400) and duplicated fields (422) are refused by `strict_form` before anything is read."""
    form = await strict_form(request)
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not csrf_ok(session.csrf_token, given):
        raise CsrfRefused()
    return form


CurrentSession = Annotated[WebSession, Depends(require_session)]
MaybeSession = Annotated[WebSession | None, Depends(optional_session)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
Ctx = Annotated[ServiceContext, Depends(_context_dependency)]
WebSettings = Annotated[Settings, Depends(web_settings)]


def set_session_cookie(response: Response, session: WebSession, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=settings.auth.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.auth.secure_cookies,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.auth.secure_cookies,
    )


def login_csrf_token(request: Request) -> str:
    """The pre-login token: the cookie's value if present, else a fresh one."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if 20 <= len(current) <= 100 and current.replace("-", "").replace("_", "").isalnum():
        return current
    return secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=settings.auth.secure_cookies,
    )


def safe_next(value: object, default: str = "/") -> str:
    """Only local paths ("/tickets/…"), never another site ("//evil", "https://…", "/\\evil")."""
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def login_url(next_path: str | None) -> str:
    target = safe_next(next_path, "")
    if not target or target == "/":
        return "/login"
    return "/login?next=" + quote(target, safe="/")
