"""Per-node field permissions (ADR 0037) in Chromium: the applicant's new-ticket form has
no input for the field the start hides; the branch manager's ticket page shows neither
label nor value of the field her step hides and offers an input for the one it opens;
her approval with that value lands in the timeline as old → new. The pages pass axe-core
in zh-CN and en at 375 and 1280 px (screenshots under /tmp/h4-*.png)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe

from conftest import Site, fill_loan_form
from field_permission_app import NOTE, attachment_yaml, field_permission_yaml
from file_samples import PDF
from flowdesk.main import create_app
from flowdesk.services import apps, auth, demo, tickets
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.settings import Settings
from flowdesk.store import org as org_store
from live_server import serving

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api")
SHOTS = Path("/tmp")
MANAGER = "li.na"  # branch review of loans up to 50,000


@contextmanager
def _demo_site(
    tmp_path_factory: pytest.TempPathFactory, chromium: Any, definition: str
) -> Iterator[tuple[Site, ServiceContext]]:
    """A server on a fresh demo bank with `definition` published."""
    data = tmp_path_factory.mktemp("e2e-field-permissions")
    app = create_app(
        Settings(dev=True, run_worker=False, database_url=f"sqlite:///{data / 'flowdesk.db'}")
    )
    ctx = app.state.ctx
    ctx.hasher = fast_hasher()
    assert demo.load(ctx)
    apps.publish_yaml(ctx, definition)
    with serving(app) as url:
        yield Site(url=url, ticket_path="", task_id="", browser=chromium), ctx
    ctx.db.dispose()


@pytest.fixture(scope="module")
def permissions_site(
    tmp_path_factory: pytest.TempPathFactory, chromium: Any
) -> Iterator[tuple[Site, str]]:
    """The permission loan published, and a loan of 1,000.00 with a note waiting on the
    branch manager."""
    with _demo_site(tmp_path_factory, chromium, field_permission_yaml()) as (site, ctx):
        with ctx.db.read() as conn:
            applicant = auth.actor_from_row(conn, org_store.user_by_username(conn, "zhang.wei"))
        values = {
            "applicant_name": "李雷",
            "amount": "1000.00",
            "term_months": 12,
            "credit_rating": "A",
            "region": "east",
            "purpose": "采购原材料",
            "private_note": NOTE,
        }
        filed = tickets.submit(ctx, actor=applicant, app_key="loan", values=values)
        yield site, filed.ticket_id


def test_the_manager_fills_the_field_her_step_opens_and_never_sees_the_hidden_one(
    permissions_site: tuple[Site, str],
) -> None:
    site, _waiting = permissions_site
    expect = sync_api.expect
    applicant = site.context("zhang.wei", locale="en")
    page = applicant.new_page()
    page.goto("/apps/loan/new")
    expect(page.locator("#f-private_note")).to_be_visible()
    expect(page.locator("[name=approved_amount]")).to_have_count(0)
    fill_loan_form(page)
    page.fill("#f-amount", "2000.00")
    page.fill("#f-private_note", NOTE)
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
    ticket_path = "/tickets/" + page.url.rsplit("/", 1)[1]
    applicant.close()

    manager = site.context(MANAGER, locale="en")
    page = manager.new_page()
    page.goto(ticket_path)
    expect(page.get_by_test_id("decision-edits")).to_be_visible()
    assert NOTE not in page.content()
    assert "Note for disbursement" not in page.content()
    page.fill("#f-edit-approved_amount", "1800.00")
    page.click("[data-testid=approve]")
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}(\?.*)?$"))
    manager.close()

    applicant = site.context("zhang.wei", locale="en")
    page = applicant.new_page()
    page.goto(ticket_path)
    change = page.locator('.tl-change[data-field="approved_amount"]')
    expect(change).to_contain_text("1,800.00")
    expect(page.locator("body")).to_contain_text(NOTE)
    applicant.close()


@pytest.mark.parametrize("width", ["375", "1280"])
@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("which", ["new-ticket", "decision-edits"])
def test_the_pages_pass_axe(
    permissions_site: tuple[Site, str], which: str, locale: str, width: str
) -> None:
    site, ticket_id = permissions_site
    user, path = (
        ("zhang.wei", "/apps/loan/new")
        if which == "new-ticket"
        else (MANAGER, f"/tickets/{ticket_id}")
    )
    context = site.context(user, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(path)
        if which == "decision-edits":
            tab.locator("[data-testid=decision-edits]").scroll_into_view_if_needed()
        tab.screenshot(path=str(SHOTS / f"h4-{which}-{locale}-{width}.png"), full_page=True)
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()


@pytest.fixture(scope="module")
def attachment_site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[Site]:
    with _demo_site(tmp_path_factory, chromium, attachment_yaml()) as (site, _ctx):
        yield site


def test_the_applicant_attaches_the_licence_and_the_manager_downloads_it(
    attachment_site: Site, tmp_path: Path
) -> None:
    expect = sync_api.expect
    applicant = attachment_site.context("zhang.wei", locale="zh")
    page = applicant.new_page()
    page.goto("/apps/loan/new")
    fill_loan_form(page)
    page.fill("#f-amount", "3000.00")
    page.click("[data-testid=ticket-form] button[type=submit]")  # no licence yet
    expect(page.get_by_test_id("error-licence")).to_be_visible()
    fill_loan_form(page)
    page.fill("#f-amount", "3000.00")
    licence = tmp_path / "营业执照.pdf"
    licence.write_bytes(PDF)
    page.set_input_files("#f-licence", str(licence))
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
    ticket_path = "/tickets/" + page.url.rsplit("/", 1)[1]
    applicant.close()

    manager = attachment_site.context(MANAGER, locale="zh")
    page = manager.new_page()
    page.goto(ticket_path)
    link = page.get_by_test_id("field-files").get_by_test_id("attachment-link")
    expect(link).to_have_text("营业执照.pdf")
    with page.expect_download() as arrived:
        link.click()
    assert Path(arrived.value.path()).read_bytes() == PDF
    manager.close()


@pytest.mark.parametrize("width", ["375", "1280"])
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_attachment_form_passes_axe(attachment_site: Site, locale: str, width: str) -> None:
    context = attachment_site.context("zhang.wei", locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto("/apps/loan/new")
        tab.click("[data-testid=ticket-form] button[type=submit]")  # the errors shown too
        tab.wait_for_selector("[data-testid=error-summary]")
        tab.screenshot(path=str(SHOTS / f"h4-attachment-form-{locale}-{width}.png"), full_page=True)
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_designer_shows_each_fields_permission_at_a_step(
    permissions_site: tuple[Site, str], locale: str
) -> None:
    """The permission editor of the published map: branch review hides the note and
    opens the approved amount; the start hides the approved amount. Desktop only: a
    phone gets the read-only viewer."""
    site, _ticket = permissions_site
    context = site.context("admin", locale=locale, width="1280", bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto("/admin/apps/loan/designer")
        tab.wait_for_selector("[data-testid=designer][data-ready]")
        for element, shown in (
            ("branch_review", {"private_note": "hidden", "approved_amount": "editable"}),
            ("start", {"approved_amount": "hidden", "private_note": ""}),
        ):
            tab.locator(f'.djs-element[data-element-id="{element}"]').first.click(
                position={"x": 6, "y": 6}
            )
            sync_api.expect(tab.get_by_test_id("panel-id")).to_have_text(element)
            for key, access in shown.items():
                sync_api.expect(tab.locator(f'[data-field-access="{key}"]')).to_have_value(access)
        tab.locator('[data-section="fields"]').scroll_into_view_if_needed()
        tab.screenshot(path=str(SHOTS / f"h4-designer-fields-{locale}-1280.png"))
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()
