"""The bundled account opening form in Chromium: a customer manager picks the customer
from the link's search, chooses the licence first and fills the rest (every change
re-renders the fields for the formulas, ADR 0031: the chosen customer and file stay),
adds a second signatory and files; the ticket page shows the application number, the
customer's look-ups, the signatories and the licence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from account_opening_values import CARD, CREDIT_CODE, LEGAL_REP_ID, signatory
from conftest import REQUESTER, Site

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def settled(page: Any) -> None:
    page.wait_for_timeout(50)
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def _type(page: Any, name: str, value: str) -> None:
    page.fill(f"[name='{name}']", value)
    page.press(f"[name='{name}']", "Tab")
    settled(page)


def test_an_account_opening_is_filed_from_the_browser(site: Site, shots: Path) -> None:
    context = site.context(REQUESTER, locale="zh", width="375")
    try:
        page = context.new_page()
        page.goto("/apps/account_opening/new")
        page.fill("[data-testid=link-search-customer]", "京西")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=link-option]').length === 1"
        )
        page.check("[data-testid=link-option] input")
        settled(page)
        page.set_input_files(
            "[data-testid=files-licence]",
            files=[{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        for name, value in (
            ("company_name", "北京京西建材有限公司"),
            ("credit_code", CREDIT_CODE),
            ("registered_capital", "5000000.00"),
            ("legal_rep_name", "陈华"),
            ("legal_rep_id", LEGAL_REP_ID),
            ("legal_rep_mobile", "13812345678"),
            ("settlement_card", CARD),
            ("account_manager", "xie.ting"),
        ):
            _type(page, name, value)
        page.check("input[name=account_type][value=basic]")
        settled(page)
        page.click("[data-testid=add-signatories]")
        page.wait_for_selector("[data-testid=row-signatories-2]")
        settled(page)
        for row in (1, 2):
            for column, value in signatory(row - 1).items():
                _type(page, f"signatories[{row}].{column}", value)
        assert page.inner_text("[data-testid=computed-signatory_count]") == "2"
        assert page.is_checked("[data-testid=link-option] input")
        assert (
            page.evaluate("document.querySelector('[data-testid=files-licence]').files.length") == 1
        )
        page.click("[data-testid=ticket-form] button[type=submit]")
        page.wait_for_selector("[data-testid=ticket-serial]")
        serial = page.inner_text("[data-testid=ticket-serial]")
        assert serial.startswith("KH-")
        details = page.inner_text("dl.values")
        assert serial in details  # the application number is the serial
        assert "北京京西建材有限公司（对公结算账户）" in details
        assert "伍佰万元整" in details  # the registered capital in capitals
        assert page.locator("[data-testid=table-signatories] tbody tr").count() == 2
        assert page.inner_text("[data-testid=field-files]").startswith("营业执照.pdf")
        page.screenshot(path=str(shots / "account-opening-ticket-zh-375.png"), full_page=True)
    finally:
        context.close()
