"""Shared set-up for the browser tests of accessibility and phone comfort.

One flowdesk (SQLite, demo bank, worker running) serves the whole session, with one loan
filed by zhang.wei so there is a ticket to read and a task for liu.yang to decide, and a
second loan whose values liu.yang changed while approving (its timeline shows them). Each
person logs in once; later browser contexts reuse the saved cookies and only choose the
language (the `flowdesk_locale` cookie, the same one the language switch sets).
test_loan_flow.py keeps its own fixtures (module ones win over these).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowdesk.engines.access import Actor
from flowdesk.engines.apps import load_bundled_template
from flowdesk.main import create_app
from flowdesk.services import apps, auth, demo, task_returns, tickets, views
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.services.task_steps import StepOutcome
from flowdesk.settings import Settings
from flowdesk.store import org as org_store
from live_server import serving
from table_forms import table_app

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = {"375": PHONE, "1280": DESKTOP}
LOCALES = {"zh": "zh-CN", "en": "en-GB"}
LOCALE_COOKIE = "flowdesk_locale"
REQUESTER = "zhang.wei"
APPROVER = "liu.yang"  # finance review, the loan's first step
AUDITOR = "sun.li"  # sees all tickets
ADMIN = "admin"


@dataclass
class Site:
    """The running server and the demo data the tests look at."""

    url: str
    ticket_path: str
    task_id: str
    browser: Any
    changed_ticket_path: str = ""  # a ticket whose values an approver changed
    returned_ticket_path: str = ""  # a ticket returned (退回) to its applicant
    approved_ticket_path: str = ""  # an approved ticket its applicant may revoke (ADR 0042)
    ctx: ServiceContext | None = None  # the server's services, for set-ups of a test's own
    logins: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def context(
        self,
        user: str | None,
        *,
        locale: str = "zh",
        width: str = "1280",
        bypass_csp: bool = False,
        height: int | None = None,
    ) -> Any:
        """A fresh browser context, logged in as `user` (None: anonymous), in `locale`."""
        phone = width == "375"
        viewport = dict(VIEWPORTS[width])
        if height is not None:
            viewport["height"] = height
        context = self.browser.new_context(
            base_url=self.url,
            locale=LOCALES[locale],
            viewport=viewport,
            timezone_id="Asia/Shanghai",
            is_mobile=phone,
            has_touch=phone,
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(10_000)
        cookies = [{"name": LOCALE_COOKIE, "value": locale, "url": self.url}]
        if user is not None:
            cookies += self._cookies(user)
        context.add_cookies(cookies)
        return context

    def _cookies(self, user: str) -> list[dict[str, Any]]:
        if user not in self.logins:
            context = self.browser.new_context(base_url=self.url)
            _login(context, self.url, user)
            self.logins[user] = context.cookies()
            context.close()
        return [c for c in self.logins[user] if c["name"] != LOCALE_COOKIE]


def _login(context: Any, base: str, username: str) -> Any:
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def fill_loan_form(page: Any) -> None:
    """Types a complete loan application (zh-CN labels are not needed: ids only)."""
    page.fill("#f-applicant_name", "李雷")
    page.fill("#f-amount", "120000.00")
    page.fill("#f-term_months", "36")
    page.locator("input[name=credit_rating]").first.check()
    page.select_option("#f-region", "east")
    page.fill("#f-purpose", "采购原材料，补充流动资金")


def file_loan_in_the_browser(site: Site) -> str:
    """A new loan REQUESTER files through the form; the ticket page's path."""
    context = site.context(REQUESTER)
    try:
        page = context.new_page()
        page.goto("/apps/loan/new")
        fill_loan_form(page)
        page.click("[data-testid=ticket-form] button[type=submit]")
        page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
        return "/tickets/" + page.url.rsplit("/", 1)[1]
    finally:
        context.close()


def _at_finance_review(
    ctx: ServiceContext, values: dict[str, Any], app_key: str = "loan"
) -> tuple[dict[str, Actor], StepOutcome, views.TaskView]:
    """A loan REQUESTER files (in `app_key`, the loan app or a copy), and APPROVER's task
    at finance review."""
    with ctx.db.read() as conn:
        actor = {
            name: auth.actor_from_row(conn, org_store.user_by_username(conn, name))
            for name in (REQUESTER, APPROVER)
        }
    filed = tickets.submit(ctx, actor=actor[REQUESTER], app_key=app_key, values=values)
    view = views.ticket(ctx, actor[APPROVER], filed.ticket_id)
    [task] = [t for t in view.open_tasks if t.node_id == "finance_review"]
    return actor, filed, task


def file_changed_loan(ctx: ServiceContext) -> str:
    """A loan whose finance reviewer (APPROVER) changed the rating and the purpose while
    approving, through the services as the API does (the web form offers no value
    inputs). The loan app gets a version that opens those two fields at finance review;
    nothing routes on them, so every other loan goes as before. Returns the ticket's id."""
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] == "finance_review":
            node["editable"] = ["credit_rating", "purpose"]
    apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True))
    values = {
        "applicant_name": "韩梅梅",
        "amount": "250000.00",
        "term_months": 24,
        "credit_rating": "A",
        "region": "south",
        "purpose": "购置冷链运输车辆两台，用于生鲜配送业务扩张",
    }
    actor, filed, task = _at_finance_review(ctx, values)
    tickets.approve(
        ctx,
        actor=actor[APPROVER],
        task_id=task.id,
        comment="评级按最新报表下调",
        values={"credit_rating": "B", "purpose": "购置冷链运输车辆两台，联系人 13812345678"},
    )
    return filed.ticket_id


def file_returned_loan(ctx: ServiceContext, app_key: str = "loan") -> str:
    """A loan the finance reviewer (APPROVER) returned (退回) to its applicant with a
    reason, through the services; it waits on the applicant's resubmission."""
    values = {
        "applicant_name": "王小明",
        "amount": "180000.00",
        "term_months": 12,
        "credit_rating": "B",
        "region": "west",
        "purpose": "门店装修",
    }
    actor, filed, task = _at_finance_review(ctx, values, app_key)
    task_returns.return_task(
        ctx,
        actor=actor[APPROVER],
        task_id=task.id,
        target=task_returns.APPLICANT,
        comment="请补充装修预算明细和近三个月流水",
    )
    return filed.ticket_id


def file_revocable_ticket(ctx: ServiceContext) -> str:
    """A ticket of a one-step app (the loan form, APPROVER decides) that allows revoking
    within 7 days of approval (通过后撤销, ADR 0042), approved: its applicant sees 撤销."""
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    definition.pop("serial_prefix")
    definition.update({"key": "revocable", "withdraw": {"revoke_days": 7}})
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": APPROVER}},
            {"id": "end", "type": "end"},
        ],
        "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
    }
    apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True))
    values = {
        "applicant_name": "李雷",
        "amount": "50000.00",
        "term_months": 6,
        "credit_rating": "A",
        "region": "east",
        "purpose": "设备采购",
    }
    with ctx.db.read() as conn:
        actor = {
            name: auth.actor_from_row(conn, org_store.user_by_username(conn, name))
            for name in (REQUESTER, APPROVER)
        }
    filed = tickets.submit(ctx, actor=actor[REQUESTER], app_key="revocable", values=values)
    [task] = views.ticket(ctx, actor[APPROVER], filed.ticket_id).open_tasks
    tickets.approve(ctx, actor=actor[APPROVER], task_id=task.id, comment="同意")
    return filed.ticket_id


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("e2e-a11y")
    settings = Settings(dev=True, run_worker=True, database_url=f"sqlite:///{data / 'flowdesk.db'}")
    app = create_app(settings)
    ctx = app.state.ctx
    ctx.hasher = fast_hasher()  # demo passwords only; keeps the set-up quick
    assert demo.load(ctx)
    # an app whose form has a sub-table (ADR 0036): tests/table_forms.py
    apps.publish_yaml(ctx, yaml.safe_dump(table_app(), allow_unicode=True))
    with serving(app) as url:
        site = Site(url=url, ticket_path="", task_id="", browser=chromium, ctx=ctx)
        context = site.context(REQUESTER)
        page = context.new_page()
        page.goto("/apps/loan/new")
        fill_loan_form(page)
        page.click("[data-testid=ticket-form] button[type=submit]")
        page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
        site.ticket_path = "/tickets/" + page.url.rsplit("/", 1)[1]
        context.close()
        context = site.context(APPROVER)
        page = context.new_page()
        page.goto(site.ticket_path)
        site.task_id = page.locator("section[id^=task-]").first.get_attribute("id")[5:]  # type: ignore[index]
        context.close()
        site.changed_ticket_path = "/tickets/" + file_changed_loan(ctx)
        site.returned_ticket_path = "/tickets/" + file_returned_loan(ctx)
        site.approved_ticket_path = "/tickets/" + file_revocable_ticket(ctx)
        yield site
    ctx.db.dispose()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Screenshots for a person to open; /tmp/shots when it exists, else the test's tmp dir."""
    folder = Path("/tmp/shots") if Path("/tmp/shots").is_dir() else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
