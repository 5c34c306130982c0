"""抄送 pages pass axe-core with no serious or critical violation, in zh-CN and en, on a
375-px phone and a 1280-px desktop: 抄送我 (/copied) with a copy on it, and the ticket
page's copy form showing an error. Same set-up and rules as test_accessibility.py."""

from __future__ import annotations

from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe

from conftest import LOCALES, REQUESTER, VIEWPORTS, Site

pytestmark = pytest.mark.e2e
COPIED = "he.jia"


def _copy_once(site: Site) -> None:
    """REQUESTER copies COPIED on the shared ticket through the ticket page's form (a
    second run finds them copied already and leaves it)."""
    context = site.context(REQUESTER)
    try:
        page = context.new_page()
        page.goto(site.ticket_path)
        page.fill("#copy-users", COPIED)
        page.click("[data-testid=copy-submit]")
        page.wait_for_selector("[data-testid=flash], [data-testid=copy-error]")
    finally:
        context.close()


def _check(tab: Any, locale: str) -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_copied_list_is_accessible(site: Site, locale: str, width: str) -> None:
    _copy_once(site)
    context = site.context(COPIED, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto("/copied")
        tab.wait_for_selector("[data-testid=copy-row]")
        _check(tab, locale)
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_copy_form_with_an_error_is_accessible(site: Site, locale: str, width: str) -> None:
    context = site.context(REQUESTER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(site.ticket_path)
        tab.fill("#copy-users", "no.such.person")
        tab.click("[data-testid=copy-submit]")
        tab.wait_for_selector("[data-testid=copy-error]")
        _check(tab, locale)
    finally:
        context.close()
