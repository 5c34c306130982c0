"""In Chromium (ADR 0036): a ticket with a sub-table filed from the new-ticket form, rows
added with the server's round trip, a bad cell refused with its message on its own row,
then fixed and filed; the ticket page lists the rows with the sum the server computed.
Screenshots at 375 and 1280 px in both languages go to the `shots` folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_accessibility import lines_with_a_bad_row, settled

from conftest import LOCALES, REQUESTER, VIEWPORTS, Site

pytestmark = pytest.mark.e2e

MESSAGES = {
    "zh": "只能使用数字 0-9（可用全角数字）",
    "en": "Use the digits 0-9 only (full-width ０-９ are fine)",
}


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_bad_line_is_refused_on_its_row_then_the_claim_is_filed(
    site: Site, shots: Path, locale: str, width: str
) -> None:
    context = site.context(REQUESTER, locale=locale, width=width)
    try:
        tab = context.new_page()
        tab.goto("/apps/expenses/new")
        lines_with_a_bad_row(tab)
        error = tab.locator("[data-testid='error-lines[2].price']")
        assert error.inner_text() == MESSAGES[locale]
        assert tab.locator("[data-testid='error-lines[1].price']").count() == 0
        assert tab.input_value("[name='lines[1].price']") == "120.50"  # the rows are kept
        assert tab.get_attribute("[name='lines[2].price']", "aria-invalid") == "true"
        tab.screenshot(path=str(shots / f"h3-lines-error-{locale}-{width}.png"), full_page=True)

        tab.fill("[name='lines[2].price']", "80.00")
        tab.press("[name='lines[2].price']", "Tab")
        settled(tab)
        tab.click("[data-testid=ticket-form] button[type=submit]")
        table = tab.wait_for_selector("[data-testid=table-lines]")
        assert table is not None
        # 2 × 120.50 + 2 × 80.00 = 401.00
        assert "401.00" in tab.inner_text("[data-field=total]")
        assert tab.locator("[data-testid=table-lines] tbody tr").count() == 2
        tab.screenshot(path=str(shots / f"h3-lines-ticket-{locale}-{width}.png"), full_page=True)
    finally:
        context.close()
