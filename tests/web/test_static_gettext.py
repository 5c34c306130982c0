"""Literal messages are translated when a template compiles, and pages read exactly the same."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from babel.support import Translations
from fastapi import FastAPI
from jinja2 import DictLoader, Environment
from web_helpers import Browser

from flowdesk.web import i18n
from flowdesk.web.render import build_ui
from flowdesk.web.static_gettext import StaticGettext

CATALOGS = i18n.load_translations()

SNIPPETS = {
    "plain": '<p>{{ _("Ticket") }} · {{ gettext("Summary") }}</p>',
    "context": '<b>{{ pgettext("event", "Approved") }}</b>',
    "set": '{% set a, b = _("Ticket"), _("Step") %}{{ a }}/{{ b }}',
    "variables": '{{ _("Waiting since %(time)s (%(ago)s)", time="<t>", ago="1h") }}',
    "joined": '{{ _("Ticket") ~ " " ~ label }} {{ _("Step") + label }}',
    "method": '{{ helper.gettext("Ticket") }} {{ helper._("Ticket") }}',
    "nested": '{{ (_("Ticket"))|upper }} {{ [_("Ticket"), 1]|length }}',
}


class Helper:
    """An object whose own gettext method must not be mistaken for the catalog's."""

    def gettext(self, text: str) -> str:
        return f"mine:{text}"

    _ = gettext


def _env(catalog: Translations, *, fold: bool) -> Environment:
    env = Environment(
        loader=DictLoader(SNIPPETS),
        autoescape=True,
        extensions=["jinja2.ext.i18n", StaticGettext],
    )
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.static_catalog = catalog if fold else None  # type: ignore[attr-defined]
    return env


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_a_folded_template_renders_what_the_runtime_call_renders(locale: str, name: str) -> None:
    catalog = CATALOGS[locale]  # type: ignore[index]
    data = {"label": "<x>", "helper": Helper()}
    folded = _env(catalog, fold=True).get_template(name).render(data)
    runtime = _env(catalog, fold=False).get_template(name).render(data)
    assert folded == runtime
    if name == "method":
        assert folded == "mine:Ticket mine:Ticket"


def test_literal_calls_leave_no_gettext_call_in_the_compiled_code() -> None:
    catalog = CATALOGS["zh"]
    folded = _env(catalog, fold=True)
    code = folded.compile(SNIPPETS["plain"] + SNIPPETS["context"], raw=True)
    assert "gettext" not in code and "'Ticket'" not in code and "工单" in code
    kept = folded.compile(SNIPPETS["variables"], raw=True)
    assert "'Waiting since %(time)s (%(ago)s)'" in kept  # variables: translated at render time


def test_a_translation_that_escaping_would_change_keeps_the_runtime_call() -> None:
    catalog = Translations()
    catalog._catalog = {"Terms": "Terms & <b>conditions</b>", "Plain": "plain"}  # type: ignore[attr-defined]
    folded = _env(catalog, fold=True)
    source = '{{ _("Terms") }} {{ _("Plain") }}'
    code = folded.compile(source, raw=True)
    assert "'Terms'" in code and "'Plain'" not in code  # "Plain" folded, "Terms" not
    assert folded.from_string(source).render() == "Terms & <b>conditions</b> plain"


def _pages(app: FastAPI, ticket_id: str, locale: str) -> dict[str, str]:
    # the same database and sessions, so two apps differ only in their templates' folding
    out = {}
    for username, paths in {
        "li.na": ["/", "/tasks", "/tasks?tab=done", "/tickets", f"/tickets/{ticket_id}"],
        "sun.li": ["/tickets?scope=all"],
        "zhang.wei": ["/apps", "/apps/loan/new", "/notifications", "/tickets?q=LN"],
        "admin": ["/admin", "/admin/users", "/admin/users/li.na", "/admin/apps", "/admin/import"],
    }.items():
        me = Browser(app, locale)
        assert me.login(username).status_code == 303
        for path in paths:
            page = me.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            out[f"{username} {path}"] = page.text.replace(me.csrf(), "CSRF")
    return out


def test_every_page_reads_the_same_with_and_without_folding(
    app: FastAPI, browser: Callable[..., Browser]
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00")
    unfolded = build_ui(CATALOGS)
    for env in unfolded.envs.values():
        env.static_catalog = None  # type: ignore[attr-defined]
    for locale in i18n.LOCALES:
        folded_pages = _pages(app, ticket_id, locale)
        folded_ui, app.state.web = app.state.web, unfolded
        try:
            runtime_pages = _pages(app, ticket_id, locale)
        finally:
            app.state.web = folded_ui
        for key, html in folded_pages.items():
            assert html == runtime_pages[key], f"{locale} {key} differs"
