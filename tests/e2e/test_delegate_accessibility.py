"""委派 on the ticket page passes axe-core with no serious or critical violation, in zh-CN
and en, on a 375-px phone and a 1280-px desktop: the delegate form open with an error at
its field, the delegate's resolve card, and the owner's task waiting for the delegate.
Same set-up and rules as test_accessibility.py; the shared ticket is left as it was."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe

from conftest import APPROVER, LOCALES, VIEWPORTS, Site, file_loan_in_the_browser

pytestmark = pytest.mark.e2e
DELEGATE = "he.jia"


def _check(tab: Any, locale: str, name: str) -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)
    folder = os.environ.get("FLOWDESK_E2E_SCREENSHOTS")
    if folder:
        tab.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _delegated_ticket(site: Site) -> str:
    """A new loan whose finance reviewer delegated their task to DELEGATE, by the form."""
    path = file_loan_in_the_browser(site)
    context = site.context(APPROVER)
    try:
        page = context.new_page()
        page.goto(path)
        page.click("[data-testid=delegate] > summary")
        page.fill("input[name=delegate_to]", DELEGATE)
        page.fill("textarea[name=delegate_comment]", "请核实收入证明")
        page.click("[data-testid=delegate-submit]")
        page.wait_for_selector("[data-testid=delegated-card]")
    finally:
        context.close()
    return path


@pytest.fixture(scope="module")
def delegated_path(site: Site) -> str:
    return _delegated_ticket(site)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_delegate_form_with_an_error_is_accessible(site: Site, locale: str, width: str) -> None:
    context = site.context(APPROVER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(site.ticket_path)
        tab.click("[data-testid=delegate] > summary")
        tab.fill("input[name=delegate_to]", "no.such.person")
        tab.click("[data-testid=delegate-submit]")
        tab.wait_for_selector("[data-testid=delegate-error]")
        _check(tab, locale, f"h1-delegate-error-{locale}-{width}")
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("who", ["owner", "delegate"])
def test_a_delegated_task_is_accessible(
    site: Site, delegated_path: str, who: str, locale: str, width: str
) -> None:
    person = APPROVER if who == "owner" else DELEGATE
    context = site.context(person, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(delegated_path)
        card = "delegated-card" if who == "owner" else "resolve-card"
        tab.wait_for_selector(f"[data-testid={card}]")
        assert tab.locator("[data-testid=decision-bar]").count() == 0
        _check(tab, locale, f"h1-delegated-{who}-{locale}-{width}")
    finally:
        context.close()
