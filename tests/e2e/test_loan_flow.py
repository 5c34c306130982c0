"""End to end: a loan goes through every approval step in a real browser (headless Chromium).

flowdesk runs under uvicorn in a background thread on a free local port, on SQLite in
a temporary directory, with the demo bank and the in-process worker. Playwright drives
Debian's Chromium (/usr/bin/chromium); the Playwright-managed browsers are never used.
Screenshots go to $FLOWDESK_E2E_SCREENSHOTS when set, else to the test's tmp dir.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowdesk.main import create_app
from flowdesk.services import demo
from flowdesk.services.context import fast_hasher
from flowdesk.settings import Settings
from live_server import serving

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
APPROVERS = (
    ("liu.yang", "财务审查"),
    ("wang.fang", "法务审查"),
    ("chen.jing", "信贷审批委员会"),
    ("zhao.lei", "放款"),
)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """flowdesk on http://127.0.0.1:<port>, demo bank loaded, worker running."""
    data = tmp_path_factory.mktemp("e2e")
    settings = Settings(dev=True, run_worker=True, database_url=f"sqlite:///{data / 'flowdesk.db'}")
    app = create_app(settings)
    ctx = app.state.ctx
    ctx.hasher = fast_hasher()  # demo passwords only; keeps the set-up quick
    assert demo.load(ctx)
    with serving(app) as url:
        yield url
    ctx.db.dispose()


# `chromium` (Debian's /usr/bin/chromium, launched once per session) is in conftest.py:
# Playwright allows only one sync_playwright() at a time.


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FLOWDESK_E2E_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(browser: object, base: str, username: str, viewport: dict[str, int] = DESKTOP):  # type: ignore[no-untyped-def]
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=base, locale="zh-CN", viewport=viewport, timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page, errors


def _no_horizontal_overflow(page: object) -> int:
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"
    return int(width)


def test_loan_goes_through_every_step(chromium: object, server: str, shots: Path) -> None:
    expect = sync_api.expect

    # The applicant files a loan of 120,000.00 yuan.
    context, page, errors = _login(chromium, server, "zhang.wei")
    page.get_by_role("link", name="应用").first.click()
    page.get_by_test_id("app-loan").get_by_role("link", name="发起申请").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("贷款审批")
    page.fill("#f-applicant_name", "李雷")
    page.fill("#f-amount", "120000.00")
    expect(page.get_by_test_id("capitals-amount")).to_have_text("壹拾贰万元整")  # HTMX preview
    page.fill("#f-term_months", "36")
    page.get_by_label("A 级（优）").check()
    page.select_option("#f-region", "east")
    page.fill("#f-purpose", "采购原材料，补充流动资金")
    page.screenshot(path=str(shots / "new-ticket-desktop.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
    ticket_url = page.url
    expect(page.get_by_test_id("flash")).to_have_text("工单已提交。")
    expect(page.get_by_test_id("status")).to_have_text("审批中")
    expect(page.get_by_test_id("open-task")).to_have_count(2)
    expect(page.get_by_test_id("value-capitals")).to_have_text("壹拾贰万元整")
    context.close()

    # Finance and legal review in parallel, then the credit committee, then disbursement.
    for index, (username, step) in enumerate(APPROVERS):
        approver, page, approver_errors = _login(chromium, server, username)
        expect(page.get_by_test_id("task-badge")).to_have_text("1")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的待办").click()
        row = page.get_by_test_id("task-row").filter(has_text="贷款审批 · 李雷")
        expect(row).to_contain_text(step)
        row.get_by_role("link").click()
        page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}(#.*)?$"))
        form = page.get_by_test_id("task-form")
        if index == 0:
            # Rejecting needs a reason: the page says so and stays.
            form.get_by_test_id("reject").click()
            expect(form.get_by_text("驳回时请填写理由。")).to_be_visible()
            assert page.url.split("#")[0] == ticket_url
        form.get_by_label("审批意见").fill(f"{step}：同意")
        if index == 0:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots / "ticket-approver-desktop.png"), full_page=True)
        form.get_by_test_id("approve").click()
        expect(page.get_by_test_id("flash")).to_have_text("已同意。")
        expect(page.get_by_test_id("task-badge")).to_have_text("0")
        assert not approver_errors, approver_errors
        approver.close()

    # The applicant sees the loan approved, with every step on the timeline.
    context, page, errors = _login(chromium, server, "zhang.wei")
    page.goto(ticket_url)
    expect(page.get_by_test_id("status")).to_have_text("已通过")
    timeline = page.get_by_test_id("timeline")
    for _, step in APPROVERS:
        expect(timeline).to_contain_text(step)
        expect(timeline).to_contain_text(f"{step}：同意")
    expect(timeline.locator('[data-kind="task_approved"]')).to_have_count(4)
    expect(timeline.locator('[data-kind="ticket_approved"]')).to_have_count(1)
    page.screenshot(path=str(shots / "ticket-approved-desktop.png"), full_page=True)

    # The worker delivered an "approved" notification.
    deadline = time.monotonic() + 15
    while True:
        page.goto("/notifications")
        if page.get_by_text("你的工单已通过").count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(page.get_by_text("你的工单已通过")).to_be_visible()
    assert not errors, errors
    state = context.storage_state()
    context.close()

    # On a 375-px phone: no horizontal scrolling; the nav collapses behind a button.
    phone = chromium.new_context(  # type: ignore[attr-defined]
        base_url=server,
        locale="zh-CN",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        storage_state=state,
    )
    page = phone.new_page()
    page.goto(ticket_url)
    expect(page.get_by_test_id("status")).to_have_text("已通过")
    _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "ticket-phone.png"), full_page=True)
    nav_link = page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的工单")
    expect(nav_link).to_be_hidden()
    page.get_by_role("button", name="菜单").click()
    expect(nav_link).to_be_visible()
    page.screenshot(path=str(shots / "menu-phone.png"))
    nav_link.click()
    page.wait_for_url(f"{server}/tickets")
    _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "tickets-phone.png"), full_page=True)
    for path in ("/", "/apps", "/tasks", "/notifications", "/apps/loan/new"):
        page.goto(path)
        _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "new-ticket-phone.png"), full_page=True)
    phone.close()
