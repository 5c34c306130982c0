"""A record app's table in Chromium (ADR 0038): a customer manager adds a customer, finds
it in the grid by search, edits it, and sees the change in its timeline; the grid at a
phone's and a desktop's width, in Chinese and English (screenshots kept)."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest

from conftest import ADMIN, LOCALES, REQUESTER, VIEWPORTS, Site
from flowdesk.services import demo
from link_apps import GROUPS, LINES

pytestmark = pytest.mark.e2e
BLOCKING = ("serious", "critical")


def test_a_customer_manager_works_the_customer_table(site: Site, shots: Path) -> None:
    context = site.context(REQUESTER, locale="zh", width="1280")
    try:
        page = context.new_page()
        page.goto("/apps")
        page.click("[data-testid=app-customers] [data-testid=open-records]")
        page.wait_for_selector("[data-testid=record-grid]")
        page.click("[data-testid=new-record]")
        page.fill("#f-customer_name", "重庆两江机械制造有限公司")
        page.fill("#f-manager", REQUESTER)
        page.check("input[name=segment][value=large]")
        page.click("[data-testid=save-record]")
        page.wait_for_selector("[data-testid=record-card]")
        assert "CUS-" in page.inner_text("[data-testid=ticket-serial]")
        page.click("[data-testid=edit-record]")
        page.check("input[name=segment][value=sme]")
        page.click("[data-testid=save-record]")
        page.wait_for_selector("[data-kind=values_changed]")
        page.goto("/apps/customers/records")
        page.fill("[data-testid=list-q]", "两江")
        page.press("[data-testid=list-q]", "Enter")
        page.wait_for_url("**q=*")
        rows = page.locator("[data-testid=record-row]")
        assert rows.count() == 1
        assert "中小企业" in rows.first.inner_text()
    finally:
        context.close()
    for locale in LOCALES:
        for width in VIEWPORTS:
            context = site.context(REQUESTER, locale=locale, width=width)
            try:
                page = context.new_page()
                page.goto("/apps/customers/records")
                page.wait_for_selector("[data-testid=record-grid]")
                page.screenshot(path=str(shots / f"records-{locale}-{width}.png"), full_page=True)
            finally:
                context.close()


AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def _publish_link_apps(site: Site) -> None:
    """The credit-lines record app, linking to the demo's customers, published as an
    administrator would, through the API (once per server)."""
    with httpx.Client(base_url=f"{site.url}/api/v1") as api:
        token = api.post(
            "/auth/token",
            json={"username": ADMIN, "password": demo.DEMO_PASSWORD, "name": "e2e"},
        ).json()["token"]
        for text in (LINES, GROUPS):
            published = api.post(
                "/admin/apps",
                content=text.encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"},
            )
            assert published.status_code in (200, 201), published.text


def test_a_link_is_picked_by_search_on_a_phone(site: Site, shots: Path) -> None:
    _publish_link_apps(site)
    for locale, width in (("zh", "375"), ("en", "1280")):
        context = site.context(REQUESTER, locale=locale, width=width, bypass_csp=True)
        try:
            page = context.new_page()
            page.goto("/apps/credit_lines/records/new")
            page.fill("[data-testid=link-search-customer]", "华信")
            option = page.locator("[data-testid=link-option]", has_text="北京华信科技有限公司")
            option.wait_for()
            # the search's answer replaces the newest records the picker opened with
            page.wait_for_function(
                "document.querySelectorAll('[data-testid=link-option]').length === 1"
            )
            assert option.bounding_box()["height"] >= 44  # type: ignore[index]  # a tap target
            page.screenshot(path=str(shots / f"link-picker-{locale}-{width}.png"), full_page=True)
            page.add_script_tag(path=str(AXE))
            found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [v["id"] for v in found["violations"] if v["impact"] in BLOCKING]
            assert serious == []
            option.locator("input").check()
            page.fill("#f-line_name", f"流动资金额度 {locale}")
            page.fill("#f-credit_limit", "2000000.00")
            page.click("[data-testid=save-record]")
            page.wait_for_selector("[data-testid=record-card]")
            details = page.inner_text("[data-field=customer]")
            assert "北京华信科技有限公司" in details and "zhang.wei" in details
            page.screenshot(path=str(shots / f"linked-record-{locale}-{width}.png"), full_page=True)
        finally:
            context.close()
