"""Rendering pages: one Jinja2 environment per language, and what every page is given.

Each page gets the viewer (if logged in), their CSRF token, the nav badges (open
tasks, unread notifications), a one-shot flash message and the request's locale.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from flowdesk.services import views
from flowdesk.services.auth import WebSession
from flowdesk.web import i18n
from flowdesk.web.i18n import Locale
from flowdesk.web.session import optional_session
from flowdesk.web.static_gettext import StaticGettext

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
FLASH_COOKIE = "flowdesk_flash"
FLASH_CODES = frozenset(
    {
        "submitted",
        "approved",
        "rejected",
        "logged_out",
        "locale_changed",
        "logged_in",
        "urged",
        "commented",
        "returned",
        "resubmitted",
        "transferred",
        "task_delegated",  # 委派 (ADR 0034), not "delegated": a 代理 substitute was set
        "task_resolved",
        "delegated",
        "delegation_ended",
        "signers_added",
        "signers_removed",
        "copied",
        "ticket_withdrawn",
        "ticket_cancelled",
        "revoke_requested",  # 通过后撤销 (ADR 0042)
        "decision_withdrawn",
        "ticket_moved",  # admin repairs (ADR 0026)
        "task_reassigned",
        "task_approver_removed",  # ADR 0041
        "ticket_admin_cancelled",
        "ticket_migrated",
        "record_saved",  # record apps (ADR 0038)
        "record_deleted",
    }
)

SECURITY_HEADERS: Mapping[str, str] = {
    # Alpine's standard build compiles its expressions with `new Function`.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavCounts:
    tasks: int
    unread: int


@dataclass
class WebUI:
    """What the composition root builds once: templates per locale and static file hashes."""

    envs: dict[Locale, Environment]
    static_versions: dict[str, str]

    def template_env(self, locale: Locale) -> Environment:
        return self.envs[locale]


def build_ui(translations: Mapping[Locale, Translations]) -> WebUI:
    versions = _static_versions(STATIC_DIR)
    envs: dict[Locale, Environment] = {}
    for locale, catalog in translations.items():
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n", StaticGettext],
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates ship with the code: no stat() of every template and its parents
            # on every render to look for edits (a restart picks up a new release).
            auto_reload=False,
        )
        env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
        env.static_catalog = catalog  # type: ignore[attr-defined]
        env.globals.update(
            static=_static_url(versions), badge=_badge, TIME_ZONE_LABEL=i18n.TIME_ZONE_LABEL
        )
        # Filters, not globals: Jinja calls a filter directly, while every call of a
        # global goes through Context.call (a third of a list row's rendering).
        env.filters.update(
            local=_local_text(locale),
            datetime=i18n.format_datetime,
            ago=_ago,
            filesize=_file_size,
        )
        envs[locale] = env
    return WebUI(envs, versions)


def _file_size(size: object) -> str:
    """A file's size for people: 980 B, 12.5 KB, 3.2 MB (units read alike in Chinese)."""
    amount = float(size) if isinstance(size, int | float) else 0.0
    for unit in ("B", "KB", "MB"):
        if amount < 1024 or unit == "MB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} MB"


def _static_versions(directory: Path) -> dict[str, str]:
    found = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            relative = path.relative_to(directory).as_posix()
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return found


def _static_url(versions: Mapping[str, str]) -> Any:
    def static(path: str) -> str:
        version = versions.get(path)
        return f"/static/{path}?v={version}" if version else f"/static/{path}"

    return static


def _local_text(locale: Locale) -> Callable[[object], str]:
    """The `local` filter of one language's environment: a {"en": …, "zh": …} mapping
    (or LocalText) in that language. Bound to the language, so no context look-up."""

    def local(text: object) -> str:
        if text is None:
            return ""
        if isinstance(text, dict | Mapping):  # dict first: the ABC check is slower
            return str(text.get(locale) or text.get("en") or next(iter(text.values()), ""))
        getter = getattr(text, "get", None)
        if callable(getter):
            return str(getter(locale))
        return str(text)

    return local


def _badge(count: int) -> str:
    """A badge's number: counts stop at views.BADGE_CAP, shown as "99+"."""
    return f"{views.BADGE_CAP - 1}+" if count >= views.BADGE_CAP else str(count)


@pass_context
def _ago(context: Context, moment: datetime | None) -> str:
    return i18n.format_ago(moment, context["now"], context["locale"])


def request_locale(request: Request) -> Locale:
    cached = getattr(request.state, "locale", None)
    if cached in i18n.LOCALES:
        return cached  # type: ignore[no-any-return]
    chosen = i18n.negotiate(
        request.cookies.get(i18n.LOCALE_COOKIE), request.headers.get("accept-language")
    )
    request.state.locale = chosen
    return chosen


def nav_counts(request: Request, session: WebSession) -> NavCounts:
    return NavCounts(*views.nav_counts(request.app.state.ctx, session.actor))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    fragment: bool = False,
    session: WebSession | None = None,
) -> HTMLResponse:
    """A full page (or an HTMX fragment: no nav badges, no flash) in the request's language."""
    ui: WebUI = request.app.state.web
    locale = request_locale(request)
    if session is None:
        session = optional_session(request)
    counts = None
    if not fragment and session is not None:
        try:
            counts = nav_counts(request, session)
        except Exception:  # an error page must still render when the database is away
            log.warning("nav counts unavailable", exc_info=True)
    flash = None if fragment else request.cookies.get(FLASH_COOKIE)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    data: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "html_lang": i18n.HTML_LANG[locale],
        "session": session,
        "user": session.actor if session else None,
        "csrf_token": session.csrf_token if session else "",
        "nav": counts,
        "flash": flash if flash in FLASH_CODES else None,
        "here": here,
        "path": request.url.path,
        "now": request.app.state.ctx.clock.now(),
        "colon": "：" if locale == "zh" else ": ",
        "list_sep": "、" if locale == "zh" else ", ",
    }
    if context:
        data.update(context)
    html = ui.template_env(locale).get_template(template).render(data)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Vary"] = "Cookie, Accept-Language"
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, *, flash: str | None = None, status: int = 303) -> RedirectResponse:
    response = RedirectResponse(url, status_code=status)
    if flash is not None:
        response.set_cookie(
            FLASH_COOKIE, flash, max_age=60, path="/", httponly=True, samesite="lax"
        )
    return response


def hx_redirect(url: str, status: int = 200) -> Response:
    """For HTMX requests: ask htmx to load `url` as a whole page."""
    return Response(status_code=status, headers={"HX-Redirect": url})
