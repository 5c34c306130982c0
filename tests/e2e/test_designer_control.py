"""The designer and control flow (ADR 0022): bpmn-js's "change type" menu turns the
loan's amount check into an inclusive gateway, the side panel shows its exit's
default-flow box as it does for an exclusive gateway, and the published process has an
inclusive split with the same default; the panel sets the error code an error end throws
and its boundary event catches. Console free of errors (CSP enforced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe
from test_designer import Tab, _open_designer, _select, _select_flow, served, shots  # noqa: F401

from control_apps import checks_app
from flowdesk.services import apps, demo
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


def _select_event(page: Any, element_id: str) -> None:
    page.locator(f'.djs-element[data-element-id="{element_id}"]').first.click(
        position={"x": 18, "y": 18}
    )
    sync_api.expect(page.get_by_test_id("panel-id")).to_have_text(element_id)


def test_the_panel_sets_the_error_code_of_an_error_end_and_its_boundary_event(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    base, ctx = served
    apps.publish_yaml(ctx, checks_app())
    before = apps.current(ctx, "kyc").version
    tab = Tab(chromium, base, "admin")
    page = tab.page
    page.goto("/admin/apps/kyc/designer")
    expect = sync_api.expect
    expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    code = page.get_by_test_id("panel-error-code")
    _select_event(page, "too_large")
    expect(code).to_have_value("LIMIT_EXCEEDED")
    code.fill("OVER_LIMIT")
    code.press("Tab")
    _select_event(page, "on_limit")
    expect(code).to_have_value("LIMIT_EXCEEDED")
    code.fill("OVER_LIMIT")
    code.press("Tab")
    page.screenshot(path=str(shots / "designer-error-code-1280.png"), full_page=True)
    _select(page, "rework")
    expect(code).to_be_hidden()  # a user task has no error code
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    nodes = apps.current(ctx, "kyc").spec.process.nodes
    assert nodes["too_large"].error_code == "OVER_LIMIT"
    assert nodes["on_limit"].error_code == "OVER_LIMIT"
    assert tab.errors == []
    tab.close()


@pytest.mark.parametrize("width", [1280])  # below 768 px the designer is read-only
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_error_code_field_is_accessible(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
    locale: str,
    width: int,
) -> None:
    base, ctx = served
    apps.publish_yaml(ctx, checks_app())  # a new version at most once: then unchanged
    context = chromium.new_context(
        base_url=base,
        locale={"zh": "zh-CN", "en": "en-GB"}[locale],
        viewport={"width": width, "height": 900},
        bypass_csp=True,  # only so that axe can be injected
    )
    try:
        context.add_cookies([{"name": "flowdesk_locale", "value": locale, "url": base}])
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", "admin")
        page.fill("#password", demo.DEMO_PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto("/admin/apps/kyc/designer")
        sync_api.expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
        page.locator('.djs-element[data-element-id="too_large"]').first.click(
            position={"x": 18, "y": 18}, force=True
        )
        field = page.get_by_test_id("panel-error-code")
        sync_api.expect(field).to_be_visible()
        label = {"zh": "错误代码", "en": "Error code"}[locale]
        sync_api.expect(page.locator("label[for=panel-error-code]")).to_have_text(label)
        field.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"designer-error-code-{locale}-{width}.png"))
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()
