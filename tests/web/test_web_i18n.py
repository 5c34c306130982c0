"""The UI's catalogs are complete and current, and a request's language is chosen right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.dates import format_timedelta
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from flowdesk.web import i18n

WEB_DIR = Path(i18n.__file__).parent
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {
    "**/templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    path = WEB_DIR / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=i18n.BABEL_LOCALES[locale])  # type: ignore[index]


def _extracted() -> set[tuple[str | None, str]]:
    found = set()
    for _, _, message, _, context in extract_from_dir(
        str(WEB_DIR), METHOD_MAP, options_map=OPTIONS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_message_in_the_ui_is_in_the_catalog(locale: str) -> None:
    catalog = _catalog(locale)
    known = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog if m.id}
    extracted = _extracted()
    assert len(extracted) > 100  # the extraction itself works
    missing = extracted - known
    assert not missing, f"run pybabel extract/update (see web/babel.cfg): {sorted(missing)}"


def test_every_message_has_a_chinese_translation() -> None:
    untranslated = [
        m.id
        for m in _catalog("zh")
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert not untranslated
    assert not [m.id for m in _catalog("zh") if m.id and m.fuzzy]


def test_catalogs_load_and_translate() -> None:
    translations = i18n.load_translations()
    assert translations["zh"].gettext("My tasks") == "我的待办"
    assert translations["en"].gettext("My tasks") == "My tasks"
    assert translations["zh"].pgettext("event", "Approved") == "同意"
    assert translations["zh"].gettext("Approved") == "已通过"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "zh-TW", "zh"),
        (None, "zh-Hans", "zh"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR,zh;q=0.5", "zh"),
        (None, "en;q=0.3,zh;q=0.8", "zh"),
        (None, "de-DE", "en"),
        (None, "", "en"),
        (None, None, "en"),
        (None, "zh;q=0,en", "en"),
        (None, "zh;q=abc,en", "en"),
        ("en", "zh-CN", "en"),
        ("zh", "en-US", "zh"),
        ("xx", "zh-CN", "zh"),
    ],
)
def test_locale_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, header) == expected


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_ago_words_a_wait_exactly_as_babel_does(locale: i18n.Locale) -> None:
    """format_ago looks its wording up once per unit and number; every wait from a
    minute to three years (in steps that cross each unit's 0.85 threshold) reads as
    babel's own format_timedelta would put it."""
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    seconds = 60
    while seconds < 3 * 365 * 86400:
        for sign in (-1, 1):
            delta = timedelta(seconds=sign * seconds)
            expected = format_timedelta(
                delta, add_direction=True, format="long", locale=i18n.BABEL_LOCALES[locale]
            )
            assert i18n.format_ago(now + delta, now, locale) == expected, delta
        seconds = int(seconds * 1.07) + 1
    assert i18n.format_ago(now - timedelta(seconds=59), now, locale) in ("刚刚", "just now")
