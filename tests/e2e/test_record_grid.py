"""A record app's table in Chromium (ADR 0038): a customer manager adds a customer, finds
it in the grid by search, edits it, and sees the change in its timeline; the grid at a
phone's and a desktop's width, in Chinese and English (screenshots kept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LOCALES, REQUESTER, VIEWPORTS, Site

pytestmark = pytest.mark.e2e


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
