"""The designer keeps an inclusive gateway (ADR 0022): bpmn-js's "change type" menu
turns the loan's amount check into an inclusive gateway, the side panel shows its exit's
default-flow box as it does for an exclusive gateway, and the published process has an
inclusive split with the same default. Console free of errors (CSP enforced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_designer import Tab, _open_designer, _select_flow, served, shots  # noqa: F401

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def test_an_exclusive_gateway_becomes_inclusive_and_publishes(
    chromium: Any,  # the session's browser (conftest.py)
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect
    # the gateway's centre: its box's corner lies under bpmn-js's palette
    page.locator('.djs-element[data-element-id="amount_check"]').first.click(
        position={"x": 25, "y": 25}
    )
    expect(page.get_by_test_id("panel-id")).to_have_text("amount_check")
    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-inclusive-gateway"]').click()
    page.locator(".djs-popup").wait_for(state="detached")
    page.locator("#designer-canvas svg").first.click(position={"x": 5, "y": 5})
    _select_flow(page, "Flow_amount_check_split")
    expect(page.locator("#panel-default")).to_be_visible()
    expect(page.locator("#panel-default")).to_be_checked()
    page.screenshot(path=str(shots / "designer-inclusive-1280.png"), full_page=True)
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    spec = apps.current(ctx, "loan").spec.process
    assert spec.nodes["amount_check"].type == "inclusive_gateway"
    branches = spec.index.branches["amount_check"]
    assert branches.default is not None and branches.default.target == "split"
    assert tab.errors == []
    tab.close()
