"""The admin page of background jobs (a dead webhook with its retry button) and a ticket
page saying "webhook failed" pass axe-core with no serious or critical violation, in
zh-CN and en, on a 375-px phone and a 1280-px desktop; on the phone every tap target is
44 px. Screenshots of each for a person to look at. Its own server (SQLite, demo bank,
worker off: the test runs the jobs) with a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe
from test_phone_comfort import _small_targets

from conftest import ADMIN, LOCALES, REQUESTER, VIEWPORTS, Site, fill_loan_form
from flowdesk.kernel.clock import FrozenClock
from flowdesk.main import create_app
from flowdesk.services import demo, jobs
from flowdesk.services.context import fast_hasher
from flowdesk.settings import Settings
from live_server import serving
from webhook_apps import LOOPBACK_ALLOWED, publish_webhook_app, receiver

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots") if Path("/tmp/shots").is_dir() else None


@pytest.fixture(scope="module")
def jobs_site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("e2e-jobs")
    settings = Settings(dev=True, run_worker=False, database_url=f"sqlite:///{data / 'f.db'}")
    app = create_app(settings)
    ctx = app.state.ctx
    ctx.hasher = fast_hasher()
    ctx.clock = FrozenClock()
    ctx.webhooks = LOOPBACK_ALLOWED
    assert demo.load(ctx)
    with receiver() as hook, serving(app) as url:
        hook.answer(410)  # the receiver refuses: the delivery is dead at once
        publish_webhook_app(ctx, hook.url)
        site = Site(url=url, ticket_path="", task_id="", browser=chromium)
        context = site.context(REQUESTER)
        page = context.new_page()
        page.goto("/apps/hooked/new")
        fill_loan_form(page)
        page.click("[data-testid=ticket-form] button[type=submit]")
        page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
        site.ticket_path = "/tickets/" + page.url.rsplit("/", 1)[1]
        context.close()
        jobs.run_due(ctx, owner="e2e")
        yield site
    ctx.db.dispose()


def _check(tab: Any, locale: str, width: str, name: str) -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    if SHOTS is not None:
        tab.screenshot(path=str(SHOTS / f"h3-{name}-{locale}-{width}.png"), full_page=True)
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)
    if width == "375":
        small = _small_targets(tab)
        assert not small, "\n".join(sorted(set(small)))
        overflow = tab.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, "the page scrolls sideways on a phone"


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_jobs_page_with_a_dead_webhook_is_accessible(
    jobs_site: Site, locale: str, width: str
) -> None:
    context = jobs_site.context(ADMIN, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto("/admin/jobs")
        tab.wait_for_selector("[data-testid=job-row]")
        _check(tab, locale, width, "jobs")
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_ticket_saying_webhook_failed_is_accessible(
    jobs_site: Site, locale: str, width: str
) -> None:
    context = jobs_site.context(REQUESTER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(jobs_site.ticket_path)
        tab.wait_for_selector("[data-testid=webhook]")
        _check(tab, locale, width, "ticket")
    finally:
        context.close()
