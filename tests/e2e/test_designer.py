"""The process designer (bpmn-js) and the ticket page's diagram, in Chromium.

An administrator renames a step and makes it a 会签 in the side panel, checks and
publishes: the loan app gets a new version whose process has both changes. A diagram
with a gateway that leads nowhere is refused with the element ids, each a button that
selects its element. The ticket page's diagram (loaded only when opened) marks the
current step. A non-admin gets 403 on the designer, a stranger 404 on a ticket's
diagram. The pages' Content-Security-Policy is enforced throughout and the browser
console must stay free of errors (a CSP violation is one).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowdesk.engines.apps import load_bundled_template
from flowdesk.main import create_app
from flowdesk.services import apps, demo
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.settings import Settings
from live_server import serving

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServiceContext]]:
    data = tmp_path_factory.mktemp("e2e-designer")
    app = create_app(Settings(dev=True, database_url=f"sqlite:///{data / 'flowdesk.db'}"))
    ctx = app.state.ctx
    ctx.hasher = fast_hasher()
    assert demo.load(ctx)
    with serving(app) as url:
        yield url, ctx
    ctx.db.dispose()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get("FLOWDESK_E2E_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    """A logged-in page that collects console errors and uncaught exceptions."""

    def __init__(
        self,
        browser: Any,
        base: str,
        user: str,
        *,
        viewport: dict[str, int] = DESKTOP,
        locale: str = "en",
    ):
        self.context = browser.new_context(
            base_url=base,
            locale="zh-CN" if locale == "zh" else "en-GB",
            viewport=viewport,
            timezone_id="Asia/Shanghai",
        )
        self.context.set_default_timeout(15_000)
        self.context.add_cookies([{"name": "flowdesk_locale", "value": locale, "url": base}])
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )
        self.page.goto("/login")
        self.page.fill("#username", user)
        self.page.fill("#password", demo.DEMO_PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_url(f"{base}/")

    def close(self) -> None:
        self.context.close()


def _open_designer(tab: Tab) -> Any:
    page = tab.page
    page.goto("/admin/apps")
    page.get_by_test_id("admin-app-loan").get_by_test_id("designer-link").click()
    page.wait_for_url(re.compile(r".*/admin/apps/loan/designer$"))
    sync_api.expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    return page


def _select(page: Any, element_id: str) -> None:
    # near a corner: a flow drawn through the middle of the box would take the click
    shape = page.locator(f'.djs-element[data-element-id="{element_id}"]').first
    shape.click(position={"x": 6, "y": 6})
    sync_api.expect(page.get_by_test_id("panel-id")).to_have_text(element_id)


def _select_flow(page: Any, flow_id: str) -> None:
    """Clicks a point on the flow's line near its end (a straight flow's box has no height,
    so Playwright calls it invisible, and a bent one's middle may be another flow's)."""
    point = page.evaluate(
        """(id) => {
          const shape = `.djs-element[data-element-id="${id}"]`;
          const line = document.querySelector(`${shape} .djs-visual > path`);
          const at = line.getPointAtLength(line.getTotalLength() - 12);
          const box = line.getBBox(), rect = line.getBoundingClientRect();
          const scale = rect.width / box.width || rect.height / box.height;
          return {x: rect.left + (at.x - box.x) * scale, y: rect.top + (at.y - box.y) * scale};
        }""",
        flow_id,
    )
    page.mouse.click(point["x"], point["y"])
    sync_api.expect(page.get_by_test_id("panel-id")).to_have_text(flow_id)


def _tab_leaves(page: Any, container: str) -> None:
    """Focus in the diagram is no keyboard trap: Tab moves on past it."""
    page.locator(f"{container} svg").first.focus()
    inside = "(sel) => document.querySelector(sel).contains(document.activeElement)"
    assert page.evaluate(inside, container)  # bpmn-js's canvas takes focus (for its keys)
    for _ in range(3):
        page.keyboard.press("Tab")
        if not page.evaluate(inside, container):
            return
    raise AssertionError(f"Tab stays inside {container}")


def test_designer_renames_a_step_and_publishes_a_countersign(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect
    # the bpmn.io mark the licence asks for is shown
    expect(page.locator(".bjs-powered-by")).to_be_visible()

    # labels in the page's language (the export labels in Chinese)
    expect(page.locator('[data-element-id="finance_review"] text').first).to_contain_text("Finance")
    _select(page, "legal_review")
    expect(page.get_by_test_id("panel-name-en")).to_have_value("Legal review")
    page.get_by_test_id("panel-name-en").fill("Legal and compliance review")
    page.get_by_test_id("panel-name-zh").fill("法务合规审查")
    page.get_by_test_id("panel-name-zh").press("Tab")
    page.get_by_test_id("panel-mode").select_option("all")
    expect(page.get_by_test_id("designer-dirty")).to_be_visible()
    page.screenshot(path=str(shots / "designer-1280.png"), full_page=True)
    _tab_leaves(page, "#designer-canvas")

    page.get_by_test_id("designer-check").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(
        "No problems: the process can be published."
    )
    assert apps.current(ctx, "loan").version == before  # a check publishes nothing

    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    expect(page.get_by_test_id("designer-dirty")).to_be_hidden()

    published = apps.current(ctx, "loan")
    assert published.version == before + 1
    node = published.spec.process.nodes["legal_review"]
    assert dict(node.name) == {"en": "Legal and compliance review", "zh": "法务合规审查"}
    assert node.to_dict()["approval"] == {"mode": "all"}
    # what the panel did not touch stayed as it was
    assert node.to_dict()["assignee"] == {"kind": "department_head", "department": "legal"}
    assert published.spec.process.nodes["finance_review"].to_dict()["assignee"] == {
        "kind": "role",
        "role": "finance_reviewer",
    }
    assert tab.errors == []
    tab.close()


def test_designer_sets_a_vote_an_assignee_field_permissions_and_a_condition(
    chromium: Any, served: tuple[str, ServiceContext]
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect

    _select(page, "committee")
    page.get_by_test_id("panel-assignee-kind").select_option("users")
    page.fill("#panel-users", "liu.yang\nma.li\nzhou.hang")
    page.get_by_test_id("panel-mode").select_option("vote")
    page.get_by_test_id("panel-vote-rule").select_option("percent")
    page.get_by_test_id("panel-vote-value").fill("60")
    page.get_by_test_id("panel-vote-value").press("Tab")
    page.select_option("#panel-vote-fail", "first_reject")
    # per-node field permissions (ADR 0037): one choice per field
    page.locator('[data-field-access="purpose"]').select_option("editable")
    page.locator('[data-field-access="region"]').select_option("hidden")
    default = page.locator('[data-field-access="purpose"] option[value=""]')
    expect(default).to_have_text("Read-only (default)")
    page.get_by_test_id("panel-resubmit").select_option("straight_back")
    _select(page, "start")  # the start form has its own set; a field is editable there
    expect(page.locator('[data-field-access="region"]')).to_have_value("")
    expect(default).to_have_text("Editable (default)")

    box = page.locator('.djs-element[data-element-id="Flow_amount_check_branch_review"]')
    expect(box).to_have_count(1)
    _select_flow(page, "Flow_amount_check_branch_review")
    expect(page.get_by_test_id("panel-condition")).to_have_value("amount <= 50000")
    page.get_by_test_id("panel-condition").fill("amount <= 80000")
    page.get_by_test_id("panel-condition").press("Tab")

    # leaving with unpublished changes asks first
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert not page.is_closed()

    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    process = apps.current(ctx, "loan").spec.process
    committee = process.nodes["committee"].to_dict()
    assert committee["assignee"] == {"kind": "users", "users": ["liu.yang", "ma.li", "zhou.hang"]}
    assert committee["approval"] == {"mode": "vote", "pass_percent": 60, "fail": "first_reject"}
    assert committee["fields"] == {"purpose": "editable", "region": "hidden"}
    assert committee["resubmit"] == "straight_back"
    [flow] = [f for f in process.flows if (f.source, f.target) == ("amount_check", "branch_review")]
    assert flow.condition == "amount <= 80000"
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.close()


def test_a_gateway_without_a_way_out_is_refused_at_its_element(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect
    # delete the only flow out of the join, with the element's own context pad
    _select_flow(page, "Flow_join_committee")
    page.locator('.djs-context-pad .entry[data-action="delete"]').click()
    expect(page.locator('.djs-element[data-element-id="Flow_join_committee"]')).to_have_count(0)

    page.get_by_test_id("designer-check").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(
        "Not publishable yet. Correct these problems:"
    )
    problems = page.get_by_test_id("designer-problem")
    expect(problems.first).to_be_visible()
    text = " ".join(problems.all_inner_texts())
    assert "bpmn[join]" in text
    assert "bpmn[committee]" in text  # nothing leads there any more
    page.screenshot(path=str(shots / "designer-errors-1280.png"), full_page=True)
    # a problem's element id selects that element in the diagram and the panel
    page.locator('#designer-problems button[data-element="join"]').first.click()
    expect(page.get_by_test_id("panel-id")).to_have_text("join")
    expect(page.locator('.djs-element.selected[data-element-id="join"]')).to_have_count(1)

    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(
        "Not publishable yet. Correct these problems:"
    )
    assert apps.current(ctx, "loan").version == before
    # the browser logs each refused check (422) itself; nothing else may be logged
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.close()


def test_a_phone_sees_the_process_read_only(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    base, _ctx = served
    tab = Tab(chromium, base, "admin", viewport=PHONE)
    page = tab.page
    page.goto("/admin/apps/loan/designer")
    expect = sync_api.expect
    expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    expect(page.get_by_test_id("designer-narrow-note")).to_be_visible()
    expect(page.get_by_test_id("designer-publish")).to_be_hidden()
    expect(page.locator(".djs-palette")).to_have_count(0)  # the viewer, not the modeler
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screenshot(path=str(shots / "designer-375.png"), full_page=True)
    assert tab.errors == []
    tab.close()


def test_a_non_admin_gets_403_on_the_designer(
    chromium: Any, served: tuple[str, ServiceContext]
) -> None:
    base, _ctx = served
    tab = Tab(chromium, base, "zhang.wei")
    response = tab.page.goto("/admin/apps/loan/designer")
    assert response is not None and response.status == 403
    answer = tab.page.request.post(
        "/admin/apps/loan/designer/publish",
        data="<x/>",
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status == 403  # no CSRF token, and no right either
    tab.close()


def _file_loan(tab: Tab) -> str:
    page = tab.page
    page.goto("/apps/loan/new")
    page.fill("#f-applicant_name", "李雷")
    page.fill("#f-amount", "120000.00")
    page.fill("#f-term_months", "36")
    page.locator("input[name=credit_rating]").first.check()
    page.select_option("#f-region", "east")
    page.fill("#f-purpose", "采购原材料，补充流动资金")
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
    return "/tickets/" + page.url.rsplit("/", 1)[1]


def test_the_ticket_page_marks_the_current_step_on_demand(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    base, ctx = served
    # legal review as 或签 of two people, so the diagram has a mode to name
    definition = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] == "legal_review":
            node["assignee"] = {"kind": "users", "users": ["wang.fang", "he.jia"]}
            node["approval"] = {"mode": "any"}
    apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True))
    requester = Tab(chromium, base, "zhang.wei")
    ticket = _file_loan(requester)
    page = requester.page
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    page.goto(ticket)
    expect = sync_api.expect
    # the steps and the timeline are text as before; the diagram waits to be opened
    expect(page.get_by_test_id("current-steps")).to_contain_text("Finance review")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    assert not [url for url in loaded if "bpmn-js" in url or url.endswith("/diagram")]

    page.get_by_test_id("ticket-diagram-toggle").click()
    canvas = page.get_by_test_id("ticket-diagram-canvas")
    expect(canvas).to_have_attribute("data-ready", "1")
    for step in ("legal_review", "finance_review"):  # both branches of the split are open
        expect(canvas.locator(f'.djs-element.fd-current[data-element-id="{step}"]')).to_have_count(
            1
        )
    for passed in ("start", "amount_check", "split"):
        expect(canvas.locator(f'.djs-element.fd-passed[data-element-id="{passed}"]')).to_have_count(
            1
        )
    expect(canvas.locator('.djs-element.fd-current[data-element-id="committee"]')).to_have_count(0)
    # who holds each current step, beside it
    holders = canvas.get_by_test_id("diagram-holders")
    expect(holders).to_have_count(2)
    assert "Any one of 王芳, 何佳" in holders.all_inner_texts()
    expect(canvas.locator(".bjs-powered-by")).to_be_visible()
    expect(page.locator("#ticket-diagram-text")).to_contain_text("Current step")
    page.screenshot(path=str(shots / "ticket-diagram-1280.png"), full_page=True)
    canvas.screenshot(path=str(shots / "ticket-diagram-canvas-1280.png"))
    _tab_leaves(page, "#ticket-diagram-canvas")
    assert requester.errors == []

    # someone who may not read the ticket learns nothing from its diagram
    stranger = Tab(chromium, base, "xu.ming")
    answer = stranger.page.request.get(ticket + "/diagram")
    assert answer.status == 404
    assert stranger.page.request.get(ticket).status == 404
    stranger.close()
    requester.close()


def test_other_pages_do_not_load_bpmn_js(chromium: Any, served: tuple[str, ServiceContext]) -> None:
    base, _ctx = served
    tab = Tab(chromium, base, "admin")
    for path in ("/", "/tasks", "/tickets", "/admin/apps"):
        html = tab.page.request.get(path).text()
        assert "bpmn-js" not in html, path
    tab.close()
