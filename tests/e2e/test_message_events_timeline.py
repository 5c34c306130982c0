"""The ticket page after a boundary message interrupted a task and an event-based
gateway's message beat its timer (ADR 0035) passes axe-core with no serious or critical
violation in zh-CN and en, on a 375-px phone and a 1280-px desktop; its timeline says the
task was interrupted by the message and the timer's wait was cancelled (screenshots for
a person to look at: FLOWDESK_E2E_SCREENSHOTS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe
from test_designer import Tab, served, shots  # noqa: F401

from event_apps import interrupted_ticket
from flowdesk.services import auth, demo
from flowdesk.services.context import ServiceContext
from flowdesk.store import org as org_store

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
VIEWPORTS = {"375": {"width": 375, "height": 812}, "1280": {"width": 1280, "height": 900}}
LOCALES = {"zh": "zh-CN", "en": "en-GB"}
WORDS = {
    "zh": ("被消息中断", "不再等待"),
    "en": ("Interrupted by a message", "No longer waited for"),
}


@pytest.fixture(scope="module")
def interrupted(served: tuple[str, ServiceContext]) -> str:  # noqa: F811
    _, ctx = served
    with ctx.db.read() as conn:
        actors = {
            name: auth.actor_from_row(conn, org_store.user_by_username(conn, name))
            for name in ("zhang.wei", "wang.fang", "admin")
        }
    return interrupted_ticket(ctx, actors)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_interruption_and_the_cancelled_wait_are_shown_and_accessible(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    interrupted: str,
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
        page.goto(f"/tickets/{interrupted}")
        note = page.get_by_test_id("interrupted")
        note.wait_for()
        interrupted_words, cancelled_words = WORDS[locale]
        assert interrupted_words in note.inner_text()
        assert cancelled_words in page.locator("[data-testid=timer]").all_inner_texts()[-1]
        note.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"message-events-{locale}-{width}.png"), full_page=True)
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()
