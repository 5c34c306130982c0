"""Logging in and out, and choosing the UI language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from flowdesk.kernel.errors import TooManyAttempts, Unauthenticated
from flowdesk.services import auth
from flowdesk.services.hashing import LoginBusy
from flowdesk.web import i18n
from flowdesk.web.errors import error_page, retry_minutes
from flowdesk.web.render import redirect, render
from flowdesk.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    Ctx,
    MaybeSession,
    WebSettings,
    clear_session_cookie,
    csrf_ok,
    login_csrf_token,
    safe_next,
    set_login_csrf_cookie,
    set_session_cookie,
)

router = APIRouter()
LOCALE_COOKIE_DAYS = 365


def _login_form(
    request: Request,
    settings: WebSettings,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    minutes: int | None = None,
) -> Response:
    token = login_csrf_token(request)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "next_path": next_path,
            "username": username,
            "error": error,
            "retry_minutes": minutes,
        },
        status=status,
        headers=headers,
    )
    set_login_csrf_cookie(response, token, settings)
    return response


@router.get("/login")
def login_page(
    request: Request, session: MaybeSession, settings: WebSettings, next: str = "/"
) -> Response:
    target = safe_next(next)
    if session is not None:
        return redirect(target)
    return _login_form(request, settings, next_path=target)


@router.post("/login")
async def login(
    request: Request,
    ctx: Ctx,
    settings: WebSettings,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return error_page(request, 403, "csrf_refused")
    try:
        actor = await auth.authenticate_off_request_threads(
            ctx,
            username=username,
            password=password,
            client=auth.client_address(
                ctx.auth,
                request.client.host if request.client else None,
                request.headers.getlist("x-forwarded-for"),
            ),
        )
    except LoginBusy as exc:
        return _login_form(
            request,
            settings,
            next_path=target,
            username=username,
            error="login_busy",
            status=exc.status,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    except TooManyAttempts as exc:
        return _login_form(
            request,
            settings,
            next_path=target,
            username=username,
            error="too_many_attempts",
            status=429,
            headers={"Retry-After": str(exc.retry_after_seconds)},
            minutes=retry_minutes(exc.retry_after_seconds),
        )
    except Unauthenticated:
        return _login_form(
            request,
            settings,
            next_path=target,
            username=username,
            error="bad_credentials",
            status=422,
        )
    session = await run_in_threadpool(auth.start_session, ctx, actor)
    response = redirect(target)
    set_session_cookie(response, session, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx, settings: WebSettings, form: CheckedForm) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        auth.end_session(ctx, token)
    response = redirect("/login")
    clear_session_cookie(response, settings)
    return response


@router.get("/locale/{code}")
def switch_locale(code: str, settings: WebSettings, next: str = "/") -> Response:
    """Remembers the chosen language in a cookie; harmless, so a plain link may set it."""
    locale = i18n.parse_locale(code)
    response = redirect(safe_next(next))
    if locale is not None:
        response.set_cookie(
            i18n.LOCALE_COOKIE,
            locale,
            max_age=LOCALE_COOKIE_DAYS * 86400,
            path="/",
            httponly=False,
            samesite="lax",
            secure=settings.auth.secure_cookies,
        )
    return response
