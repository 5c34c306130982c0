"""The ticket page's administrator card (ADR 0026) passes axe-core with no serious or
critical violation, in zh-CN and en, on a 375-px phone and a 1280-px desktop: with its
three disclosures open, with a refused reassignment, and the timeline after a jump
("moved to X by admin Y"). Its controls are 44 px tall on a phone. Same set-up and rules
as test_accessibility.py; FLOWDESK_E2E_SCREENSHOTS keeps a screenshot of each case."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from test_accessibility import BLOCKING, SHOTS, axe_violations, describe

from conftest import ADMIN, LOCALES, REQUESTER, VIEWPORTS, Site, fill_loan_form
from flowdesk.services import demo

pytestmark = pytest.mark.e2e


def _file_loan(site: Site) -> str:
    context = site.context(REQUESTER)
    try:
        page = context.new_page()
        page.goto("/apps/loan/new")
        fill_loan_form(page)
        page.click("[data-testid=ticket-form] button[type=submit]")
        page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
        return str(page.url.split(site.url, 1)[-1])
    finally:
        context.close()


def _publish_again(site: Site) -> None:
    """The loan app once more with only its description changed, so the loans filed
    before run an older version and the card offers the move (this module runs last
    of the e2e files: nothing after it depends on the loan's version)."""
    api = f"{site.url}/api/v1"
    with httpx.Client() as client:
        token = client.post(
            f"{api}/auth/token",
            json={"username": ADMIN, "password": demo.DEMO_PASSWORD, "name": "e2e"},
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        text = client.get(f"{api}/admin/apps/loan/export", headers=headers).text
        definition = yaml.safe_load(text)
        definition["description"] = {"en": "Loans (v-next)", "zh": "贷款（新版）"}
        published = client.post(
            f"{api}/admin/apps",
            content=yaml.safe_dump(definition, allow_unicode=True).encode(),
            headers={**headers, "Content-Type": "application/yaml"},
        )
        assert published.status_code == 200, published.text


@pytest.fixture(scope="module")
def tickets(site: Site) -> dict[str, str]:
    """A loan in its parallel reviews (on an older version), and one an admin moved to
    the credit committee."""
    waiting = _file_loan(site)
    moved = _file_loan(site)
    _publish_again(site)
    context = site.context(ADMIN)
    try:
        page = context.new_page()
        page.goto(moved)
        page.click("[data-testid=jump] summary")
        page.select_option("#jump-node", "committee")
        page.fill("#jump-comment", "审查已线下完成 / reviewed offline")
        page.click("[data-testid=jump-submit]")
        page.wait_for_selector("[data-testid=moved]")
    finally:
        context.close()
    return {"waiting": waiting, "moved": moved}


def _check(tab: Any, locale: str, name: str, width: str) -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=f"{SHOTS}/{name}-{locale}-{width}.png", full_page=True)
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)


def _open_all(tab: Any) -> None:
    for part in ("jump", "reassign", "migrate", "admin-cancel"):
        tab.click(f"[data-testid={part}] summary")
    tab.wait_for_selector("[data-testid=admin-cancel-submit]")


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_administrator_card_is_accessible(
    site: Site, tickets: dict[str, str], locale: str, width: str
) -> None:
    context = site.context(ADMIN, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(tickets["waiting"])
        _open_all(tab)
        tab.locator("[data-testid=repair-card]").scroll_into_view_if_needed()
        if width == "375":  # tap targets of a phone
            for selector in (
                "#jump-node",
                "[data-testid=jump-submit]",
                "[data-testid=jump] summary",
            ):
                box = tab.locator(selector).bounding_box()
                assert box is not None and box["height"] >= 44, (selector, box)
        _check(tab, locale, "repair-card", width)
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_refused_reassignment_is_accessible(
    site: Site, tickets: dict[str, str], locale: str, width: str
) -> None:
    context = site.context(ADMIN, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(tickets["waiting"])
        tab.click("[data-testid=reassign] summary")
        form = tab.locator("[data-testid=reassign-form]").first
        form.locator("input[name=to]").fill(REQUESTER)  # the applicant: maker-checker
        form.locator("[data-testid=reassign-submit]").click()
        tab.wait_for_selector("[data-testid=repair-error]")
        _check(tab, locale, "repair-refused", width)
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_timeline_after_a_jump_is_accessible(
    site: Site, tickets: dict[str, str], locale: str, width: str
) -> None:
    context = site.context(REQUESTER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(tickets["moved"])
        moved = tab.locator("[data-testid=moved]")
        text = moved.inner_text()
        assert ("跳转到" in text) if locale == "zh" else ("Moved to" in text), text
        assert tab.locator("[data-testid=repair-card]").count() == 0  # not an admin
        moved.scroll_into_view_if_needed()
        _check(tab, locale, "repair-timeline", width)
    finally:
        context.close()
