"""加签 on the ticket page passes axe-core with no serious or critical violation, in zh-CN
and en, on a 375-px phone and a 1280-px desktop: the add-sign form open with an error at
its field, and a task waiting behind its added signer (等待加签人处理, the 减签 form).
Same set-up and rules as test_accessibility.py; the shared ticket is left as it was."""

from __future__ import annotations

from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe

from conftest import APPROVER, LOCALES, VIEWPORTS, Site, file_loan_in_the_browser

pytestmark = pytest.mark.e2e
SIGNER = "he.jia"


def _check(tab: Any, locale: str) -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)


def _waiting_ticket(site: Site) -> str:
    """A new loan whose finance reviewer added SIGNER before themselves, by the form."""
    path = file_loan_in_the_browser(site)
    context = site.context(APPROVER)
    try:
        page = context.new_page()
        page.goto(path)
        page.click("[data-testid=add-sign] > summary")
        page.fill("input[name=add_sign_users]", SIGNER)
        page.fill("textarea[name=add_sign_comment]", "请合规复核")
        page.click("[data-testid=add-sign-submit]")
        page.wait_for_selector("[data-testid=waiting-note]")
    finally:
        context.close()
    return path


@pytest.fixture(scope="module")
def waiting_path(site: Site) -> str:
    return _waiting_ticket(site)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_add_sign_form_with_an_error_is_accessible(site: Site, locale: str, width: str) -> None:
    context = site.context(APPROVER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(site.ticket_path)
        tab.click("[data-testid=add-sign] > summary")
        tab.fill("input[name=add_sign_users]", "no.such.person")
        tab.click("[data-testid=add-sign-submit]")
        tab.wait_for_selector("[data-testid=add-sign-error]")
        _check(tab, locale)
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_waiting_task_is_accessible(
    site: Site, waiting_path: str, locale: str, width: str
) -> None:
    context = site.context(APPROVER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(waiting_path)
        tab.wait_for_selector("[data-testid=remove-sign-form]")
        assert tab.locator("[data-testid=decision-bar]").count() == 0
        _check(tab, locale)
    finally:
        context.close()
