"""The UI's two languages: Babel catalogs read at start-up, and how a request picks one.

The catalogs are the `.po` files under `web/locales/` (edited by translators, kept in
version control); they are read with Babel and compiled to gettext catalogs in memory,
so there is no compile step at install or run time. English message ids are the
source text, so an untranslated English entry shows its id.

A request's locale is the `flowdesk_locale` cookie when set to a known value, else the
browser's preferred language (`Accept-Language`: any zh* → zh, else en).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

Locale = Literal["zh", "en"]
LOCALES: tuple[Locale, ...] = ("zh", "en")
DEFAULT_LOCALE: Locale = "en"
LOCALE_COOKIE = "flowdesk_locale"
LOCALES_DIR = Path(__file__).parent / "locales"
BABEL_LOCALES: Mapping[Locale, str] = {"zh": "zh_Hans_CN", "en": "en"}
HTML_LANG: Mapping[Locale, str] = {"zh": "zh-CN", "en": "en"}
TIME_ZONE_LABEL = "UTC+8"


def _display_zone() -> tzinfo:
    """Bank staff work in China time; Asia/Shanghai has had no daylight saving since 1991."""
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # a slim container without tzdata
        return timezone(timedelta(hours=8), "CST")


DISPLAY_ZONE = _display_zone()


def load_translations(directory: Path = LOCALES_DIR) -> dict[Locale, Translations]:
    """Reads every locale's messages.po and compiles it in memory; fuzzy entries are skipped."""
    found: dict[Locale, Translations] = {}
    for locale in LOCALES:
        po = directory / locale / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=BABEL_LOCALES[locale])
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        found[locale] = Translations(fp=buffer, domain="messages")
    return found


def parse_locale(value: str | None) -> Locale | None:
    if value in LOCALES:
        return value
    return None


def negotiate(cookie: str | None, accept_language: str | None) -> Locale:
    """The cookie's choice, else the first language in Accept-Language that we speak."""
    chosen = parse_locale(cookie)
    if chosen is not None:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en") or tag == "*":
            return "en"
    return DEFAULT_LOCALE


def local_time(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored values are UTC; be lenient with naive ones
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(DISPLAY_ZONE)


def format_datetime(moment: datetime | None) -> str:
    """E.g. "2026-01-05 09:30"; the zone label is shown once next to it by the template."""
    local = local_time(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def format_ago(moment: datetime | None, now: datetime, locale: Locale) -> str:
    """ "3 hours ago" / "3小时前" for list pages."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - now
    if abs(delta) < timedelta(minutes=1):
        return "刚刚" if locale == "zh" else "just now"
    return str(
        format_timedelta(delta, add_direction=True, format="long", locale=BABEL_LOCALES[locale])
    )
