"""The UI's catalogs are complete and current, and a request's language is chosen right."""

from __future__ import annotations

from pathlib import Path

import pytest
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
