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
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale as BabelLocale
from babel.dates import TIMEDELTA_UNITS, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

Locale = Literal["zh", "en"]
LOCALES: tuple[Locale, ...] = ("zh", "en")
DEFAULT_LOCALE: Locale = "en"
LOCALE_COOKIE = "flowdesk_locale"
LOCALES_DIR = Path(__file__).parent / "locales"
# Parsed once: babel parses a locale given by name again on every call (~20 µs).
BABEL_LOCALES: Mapping[Locale, BabelLocale] = {
    "zh": BabelLocale.parse("zh_Hans_CN"),
    "en": BabelLocale.parse("en"),
}
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


# babel's format_timedelta moves to the next larger unit at 0.85 of it.
AGO_THRESHOLD = 0.85


def format_ago(moment: datetime | None, now: datetime, locale: Locale) -> str:
    """ "3 hours ago" / "3小时前" for list pages."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - now
    if abs(delta) < timedelta(minutes=1):
        return "刚刚" if locale == "zh" else "just now"
    # babel's choice of unit and number (format_timedelta's threshold, 0.85); only the
    # wording is looked up, once per (unit, number): lists show dozens of these a page.
    seconds = int(delta.days * 86400 + delta.seconds)
    for unit, unit_seconds in TIMEDELTA_UNITS:
        if abs(seconds) / unit_seconds >= AGO_THRESHOLD or unit == "second":
            count = max(1, round(abs(seconds) / unit_seconds))
            return _ago_words(locale, unit, count if seconds > 0 else -count)
    raise AssertionError("the loop ends at seconds")


@lru_cache(maxsize=4096)
def _ago_words(locale: Locale, unit: str, count: int) -> str:
    """`count` (negative: past) `unit`s as babel words them, e.g. "3 hours ago"."""
    unit_seconds = dict(TIMEDELTA_UNITS)[unit]
    return str(
        format_timedelta(
            timedelta(seconds=count * unit_seconds),
            # Only `unit` can reach an infinite threshold: babel words `count` of it.
            threshold=float("inf"),
            granularity=unit,  # type: ignore[arg-type]
            add_direction=True,
            format="long",
            locale=BABEL_LOCALES[locale],
        )
    )
