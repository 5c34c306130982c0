"""The ticket page after an error end inside a sub-process (ADR 0022) passes axe-core
with no serious or critical violation in zh-CN and en, on a 375-px phone and a 1280-px
desktop, and its timeline shows the error's code (screenshots for a person to look at:
FLOWDESK_E2E_SCREENSHOTS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe
from test_designer import Tab, served, shots  # noqa: F401

from control_apps import error_ticket
from flowdesk.services import auth, demo
from flowdesk.services.context import ServiceContext
from flowdesk.store import org as org_store

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
VIEWPORTS = {"375": {"width": 375, "height": 812}, "1280": {"width": 1280, "height": 900}}
LOCALES = {"zh": "zh-CN", "en": "en-GB"}


@pytest.fixture(scope="module")
def errored(served: tuple[str, ServiceContext]) -> str:  # noqa: F811
    _, ctx = served
    with ctx.db.read() as conn:
        actors = {
            name: auth.actor_from_row(conn, org_store.user_by_username(conn, name))
            for name in ("zhang.wei", "wang.fang")
        }
    return error_ticket(ctx, actors)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_error_in_the_timeline_is_accessible(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    errored: str,
    shots: Path,  # noqa: F811
    locale: str,
    width: str,
) -> None:
    base, _ = served
    context = chromium.new_context(
        base_url=base,
        locale=LOCALES[locale],
        viewport=VIEWPORTS[width],
        timezone_id="Asia/Shanghai",
        bypass_csp=True,
    )
    try:
        context.add_cookies([{"name": "flowdesk_locale", "value": locale, "url": base}])
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", "zhang.wei")
        page.fill("#password", demo.DEMO_PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"/tickets/{errored}")
        code = page.get_by_test_id("error-code")
        code.wait_for()
        assert "LIMIT_EXCEEDED" in code.inner_text()
        code.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"error-timeline-{locale}-{width}.png"))
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()


def test_the_ticket_diagram_draws_the_sub_process_and_marks_where_the_ticket_is(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    errored: str,
    shots: Path,  # noqa: F811
) -> None:
    base, _ = served
    tab = Tab(chromium, base, "zhang.wei")
    page = tab.page
    page.goto(f"/tickets/{errored}")
    page.get_by_test_id("ticket-diagram-toggle").click()
    canvas = page.get_by_test_id("ticket-diagram-canvas")
    expect = sync_api.expect
    expect(canvas).to_have_attribute("data-ready", "1")
    expect(canvas.locator('.djs-element.fd-current[data-element-id="rework"]')).to_have_count(1)
    for passed in ("checks", "kyc", "too_large", "on_limit"):
        expect(canvas.locator(f'.djs-element.fd-passed[data-element-id="{passed}"]')).to_have_count(
            1
        )
    canvas.screenshot(path=str(shots / "ticket-diagram-sub-process-1280.png"))
    assert tab.errors == []
    tab.close()
