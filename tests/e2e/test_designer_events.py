"""The designer and ADR 0035: the side panel shows a boundary message's name and
correlation field and changes them; a call activity edited in the panel keeps what the
panel has no field for (a pinned version, a multi-instance call's list and item); both
publish as a new version. Console free of errors (CSP enforced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_accessibility import BLOCKING, axe_violations, describe
from test_designer import Tab, served, shots  # noqa: F401

from approval_apps import yaml_of
from call_apps import child_app, parent_app
from event_apps import order_app
from flowdesk.services import apps, demo
from flowdesk.services.context import ServiceContext

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def _select_shape(page: Any, element_id: str, corner: int) -> None:
    """Clicks the shape after moving the view right, clear of bpmn-js's palette."""
    box = page.locator("#designer-canvas").bounding_box()
    y = box["y"] + box["height"] - 10
    page.mouse.move(box["x"] + box["width"] - 300, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 50, y, steps=5)
    page.mouse.up()
    page.locator(f'.djs-element[data-element-id="{element_id}"]').first.click(
        position={"x": corner, "y": corner}
    )
    sync_api.expect(page.get_by_test_id("panel-id")).to_have_text(element_id)


def test_the_panel_edits_a_boundary_message_and_publishes(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    base, ctx = served
    apps.publish_yaml(ctx, order_app())
    before = apps.current(ctx, "order").version
    tab = Tab(chromium, base, "admin")
    page = tab.page
    page.goto("/admin/apps/order/designer")
    expect = sync_api.expect
    expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    _select_shape(page, "cancelled", 18)
    expect(page.get_by_test_id("panel-message-name")).to_have_value("order_cancelled")
    expect(page.get_by_test_id("panel-message-key")).to_have_value("applicant_name")
    page.get_by_test_id("panel-message-key").select_option("purpose")
    page.screenshot(path=str(shots / "designer-boundary-message-1280.png"), full_page=True)
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    nodes = apps.current(ctx, "order").spec.process.nodes
    cancelled = nodes["cancelled"]
    assert cancelled.type == "boundary_message" and cancelled.message is not None
    assert (cancelled.message.name, cancelled.message.key) == ("order_cancelled", "purpose")
    assert nodes["wait"].type == "event_gateway"
    assert tab.errors == []
    tab.close()


def test_a_call_edited_in_the_panel_keeps_its_version_and_its_items(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
) -> None:
    base, ctx = served
    apps.publish_yaml(ctx, child_app())
    definition = yaml.safe_load(parent_app())
    definition["form"]["fields"].append(
        {"key": "guarantors", "type": "users", "label": {"en": "Guarantors", "zh": "担保人"}}
    )
    call = definition["process"]["nodes"][1]["call"]
    call.pop("outputs")
    call.update({"version": 1, "each": "guarantors", "as": "applicant_name"})
    call["inputs"] = {"amount": "amount", "term_months": "term_months"}
    apps.publish_yaml(ctx, yaml_of(definition))
    before = apps.current(ctx, "credit_order").version
    tab = Tab(chromium, base, "admin")
    page = tab.page
    page.goto("/admin/apps/credit_order/designer")
    expect = sync_api.expect
    expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    _select_shape(page, "call", 6)
    inputs = page.get_by_test_id("panel-call-inputs")
    inputs.fill("amount = amount")
    inputs.press("Tab")
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    called = apps.current(ctx, "credit_order").spec.process.nodes["call"].call
    assert called is not None
    assert called.inputs == (("amount", "amount"),)
    assert (called.version, called.each, called.item_field) == (1, "guarantors", "applicant_name")
    assert tab.errors == []
    tab.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_boundary_message_fields_are_accessible(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
    locale: str,
) -> None:
    base, ctx = served
    apps.publish_yaml(ctx, order_app())  # a new version at most once: then unchanged
    context = chromium.new_context(
        base_url=base,
        locale={"zh": "zh-CN", "en": "en-GB"}[locale],
        viewport={"width": 1280, "height": 900},  # below 768 px the designer is read-only
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
        page.goto("/admin/apps/order/designer")
        sync_api.expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
        _select_shape(page, "cancelled", 18)
        field = page.get_by_test_id("panel-message-key")
        sync_api.expect(field).to_be_visible()
        field.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"designer-boundary-message-{locale}-1280.png"))
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()
