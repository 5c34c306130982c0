"""Every page passes axe-core with no serious or critical violation, in zh-CN and en,
on a 375-px phone and a 1280-px desktop.

axe-core is vendored under tests/e2e/vendor/ (a test tool, never served; version and
licence in src/flowdesk/web/static/vendor/README.md) and injected with add_script_tag.
The contexts that run axe bypass the Content-Security-Policy only so that the injected
script may run; the pages' own scripts are the same as in production.

A page is one line in PAGES. The API docs page (/api/v1/docs) is not in the list: it is
the vendored Swagger UI, whose markup flowdesk does not write; its accessibility is
upstream's (swagger-api/swagger-ui).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import ADMIN, APPROVER, AUDITOR, LOCALES, REQUESTER, VIEWPORTS, Site

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
BLOCKING = ("serious", "critical")
PDF_SAMPLE = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# Set FLOWDESK_E2E_SCREENSHOTS to a folder to keep a full-page screenshot of every case.
SHOTS = os.environ.get("FLOWDESK_E2E_SCREENSHOTS", "")


def _enter_calendar_day(page: Any) -> None:
    """A make-up working day with its own hours, so the page shows the table of days."""
    page.fill("#f-date", "2026-09-27")
    page.check("input[name=kind][value=working]")
    page.fill("#f-hours", "09:00-12:00, 13:30-16:00")
    page.fill("#f-note", "调休 make-up day")
    page.click("[data-testid=save-day]")
    page.wait_for_selector("[data-testid=day-row]")


def _submit_bad_calendar_day(page: Any) -> None:
    """A day whose hours cross midnight, so the form shows its errors."""
    page.fill("#f-date", "2027-01-02")
    page.check("input[name=kind][value=working]")
    page.fill("#f-hours", "22:00-02:00")
    page.click("[data-testid=save-day]")
    page.wait_for_selector("[data-testid=error-summary]")


def _submit_empty(page: Any) -> None:
    """The loan form sent blank, so every required field shows its error."""
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_selector("[data-testid=error-summary]")


def _open_withdraw_and_cancel(page: Any) -> None:
    """The applicant's 撤回 and 撤销 disclosures opened, their forms shown."""
    page.click("[data-testid=withdraw] summary")
    page.click("[data-testid=cancel] summary")
    page.wait_for_selector("[data-testid=cancel-submit]")


def _open_revoke(page: Any) -> None:
    """The applicant's 撤销 of their approved ticket (ADR 0042), its form shown."""
    page.click("[data-testid=revoke] summary")
    page.wait_for_selector("[data-testid=revoke-submit]")


def _designer_with_a_step_selected(page: Any) -> None:
    """The designer once bpmn-js has drawn the process, with a user task's settings shown."""
    page.wait_for_selector("[data-testid=designer][data-ready]")
    page.locator('.djs-element[data-element-id="legal_review"]').first.click(
        position={"x": 6, "y": 6}
    )
    page.wait_for_selector("#panel-form:not([hidden])")


def _builder_with_a_field_selected(page: Any) -> None:
    """The form builder with a choice field's settings (its options) and the preview shown."""
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("field-credit_rating").click()
    page.wait_for_selector("[data-testid=preview-frame][data-ready]")


def _builder_with_columns(page: Any) -> None:
    """The form builder with a sub-table selected: its columns editor, each column with
    its type's settings."""
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("field-lines").click()
    page.wait_for_selector("[data-testid=columns] [data-testid=column]")
    page.wait_for_selector("[data-testid=preview-frame][data-ready]")


def _builder_with_a_link(page: Any) -> None:
    """The form builder with a new link field naming the customers record app: the app's
    select and the look-up fields to tick (nothing published)."""
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.click("[data-testid=palette] [data-testid=add-link]")
    page.select_option("[data-testid=settings-form] [data-setting=app]", "customers")
    page.wait_for_selector("[data-testid=settings-form] [data-setting=lookup]")
    page.wait_for_selector("[data-testid=preview-frame][data-ready]")


def _builder_with_problems(page: Any) -> None:
    """The form builder after Check refused a rule naming no field: the problems listed,
    the field's card marked, the message under its setting."""
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("field-purpose").click()
    page.fill("[data-testid=settings-form] [data-setting=visible_when]", "nothing_here > 1")
    page.click("[data-testid=builder-check]")
    page.wait_for_selector("[data-testid=setting-error]")


def _open_ticket_diagram(page: Any) -> None:
    """The ticket page with its process diagram opened (loaded on demand)."""
    page.click("[data-testid=ticket-diagram-toggle]")
    page.wait_for_selector("[data-testid=ticket-diagram-canvas][data-ready]")


def _urge_and_comment(page: Any) -> None:
    """The ticket after its requester urged (the button then waits, with the time) and
    commented (the shared ticket is urged once; later runs find the button waiting)."""
    if page.locator("[data-testid=urge]:not([disabled])").count():
        page.click("[data-testid=urge]")
        page.wait_for_selector("[data-testid=urge-wait]")
    page.fill("#note", "请补充近三个月的银行流水 / Please attach three months of statements")
    page.click("[data-testid=add-comment]")
    page.wait_for_selector("[data-kind=comment_added]")


def _comment_with_a_file(page: Any) -> None:
    """A comment carrying a file (ADR 0028): listed under its timeline entry as a link."""
    page.fill("#note", "附上营业执照扫描件 / The business licence, scanned")
    page.set_input_files(
        "#note-files",
        files=[{"name": "营业执照扫描件.pdf", "mimeType": "application/pdf", "buffer": PDF_SAMPLE}],
    )
    page.click("[data-testid=add-comment]")
    page.wait_for_selector("[data-kind=comment_added] [data-testid=attachment-link]")


def _submit_blank_comment(page: Any) -> None:
    """A comment of invisible characters only: refused beside the box."""
    page.fill("#note", "\u200b\u200b")
    page.click("[data-testid=add-comment]")
    page.wait_for_selector("[data-testid=comment-error]")


def _return_without_a_reason(page: Any) -> None:
    """退回 with no reason: refused beside the comment box before anything is sent."""
    page.select_option("select[name=target]", "applicant")
    page.click("[data-testid=return]")
    page.wait_for_selector(
        "text="
        + (
            "请填写退回原因。"
            if "zh" in page.evaluate("document.documentElement.lang")
            else "Please give a reason for returning."
        )
    )


def _resubmit_without_the_purpose(page: Any) -> None:
    """The resubmit form with a required field emptied: the errors beside each field."""
    page.fill("#f-purpose", "")
    page.click("[data-testid=resubmit]")
    page.wait_for_selector("[data-testid=error-summary]")


def _transfer_to_nobody(page: Any) -> None:
    """转交 to a username nobody has: the form opens again with the error at the field."""
    page.click("[data-testid=transfer] summary")
    page.fill("[data-testid=transfer-form] input[name=transfer_to]", "nobody.here")
    page.click("[data-testid=transfer-submit]")
    page.wait_for_selector("[data-testid=transfer-error]")


def _hand_over_to_nobody(page: Any) -> None:
    """A hand-over to an unknown person: refused, nothing moved, the reason shown."""
    page.fill("#handover-to", "nobody.here")
    page.click("[data-testid=handover-submit]")
    page.wait_for_selector("[data-testid=handover-error]")


def _set_a_substitute(page: Any) -> None:
    """A substitute for a week (the first run sets it; later runs are refused as
    overlapping, so the page shows either the rule or that error)."""
    page.fill("#d-delegate", "huang.lei")
    page.fill("#d-starts", "2030-01-02T09:00")
    page.fill("#d-ends", "2030-01-09T18:00")
    page.click("[data-testid=delegation-submit]")
    page.wait_for_selector("[data-testid=delegation], [data-testid=delegation-error]")


def _reversed_substitute_period(page: Any) -> None:
    page.fill("#d-delegate", "huang.lei")
    page.fill("#d-starts", "2030-02-09T09:00")
    page.fill("#d-ends", "2030-02-02T09:00")
    page.click("[data-testid=delegation-submit]")
    page.wait_for_selector("[data-testid=delegation-error]")


def _fill_line(page: Any, row: int, price: str) -> None:
    """One expense line typed, waiting after each change for the server's re-rendering of
    the fields (its formulas, ADR 0031) as a person would see it before typing on."""
    for name, value in (("date", "2026-12-01"), ("qty", "2"), ("price", price)):
        page.fill(f"[name='lines[{row}].{name}']", value)
        page.press(f"[name='lines[{row}].{name}']", "Tab")  # the change a person makes
        settled(page)
    page.check(f"[name='lines[{row}].type'][value=travel]")
    settled(page)


def settled(page: Any) -> None:
    """No htmx round trip in flight or being swapped in."""
    page.wait_for_timeout(50)
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def lines_with_a_bad_row(page: Any) -> None:
    """An expense claim whose second line has a price that is no number: the error is
    shown on that row's cell, the rows typed are kept (ADR 0036)."""
    page.fill("#f-purpose", "客户拜访 / Client visit")
    _fill_line(page, 1, "120.50")
    page.click("[data-testid=add-lines]")
    page.wait_for_selector("[data-testid=row-lines-2]")
    settled(page)
    _fill_line(page, 2, "12O.00")
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_selector("[data-testid='error-lines[2].price']")


def _file_lines(page: Any) -> None:
    """An expense claim of two lines filed: the ticket page shows its rows."""
    lines_with_a_bad_row(page)
    page.fill("[name='lines[2].price']", "80.00")
    page.press("[name='lines[2].price']", "Tab")
    settled(page)
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_selector("[data-testid=table-lines]")


def _save_empty_record(page: Any) -> None:
    """A new customer record saved blank: every required field shows its error."""
    page.click("[data-testid=save-record]")
    page.wait_for_selector("[data-testid=error-summary]")


def _open_first_record(page: Any) -> None:
    """A record's own page (ADR 0038), from the grid's first row."""
    page.click("[data-testid=record-row] a")
    page.wait_for_selector("[data-testid=record-card]")


@dataclass(frozen=True)
class Page:
    name: str
    user: str | None  # None: not logged in
    path: str  # {ticket}, {task}, {changed}, {returned}, {approved}: from the demo data
    then: Callable[[Any], None] | None = None  # run after loading, before axe


PAGES = [
    Page("login", None, "/login"),
    Page("home", REQUESTER, "/"),
    Page("apps", REQUESTER, "/apps"),
    Page("new-ticket", REQUESTER, "/apps/loan/new"),
    Page("new-ticket-errors", REQUESTER, "/apps/loan/new", _submit_empty),
    Page("new-ticket-reimbursement", REQUESTER, "/apps/reimbursement/new"),
    Page("new-ticket-contract", REQUESTER, "/apps/contract_review/new"),
    Page("new-ticket-complaint", REQUESTER, "/apps/complaint/new"),
    # the bundled account opening: a customer link, a signatories sub-table, the licence
    Page("new-ticket-account-opening", REQUESTER, "/apps/account_opening/new"),
    Page(
        "new-ticket-account-opening-errors", REQUESTER, "/apps/account_opening/new", _submit_empty
    ),
    Page("new-ticket-lines", REQUESTER, "/apps/expenses/new"),
    Page("new-ticket-lines-errors", REQUESTER, "/apps/expenses/new", lines_with_a_bad_row),
    Page("ticket-lines", REQUESTER, "/apps/expenses/new", _file_lines),
    Page("app-import", REQUESTER, "/apps/loan/import"),
    Page("ticket-requester", REQUESTER, "{ticket}"),
    Page("ticket-approver", APPROVER, "{ticket}#task-{task}"),
    Page("ticket-values-changed", REQUESTER, "{changed}"),
    Page("ticket-urged-and-commented", REQUESTER, "{ticket}", _urge_and_comment),
    Page("ticket-comment-error", REQUESTER, "{ticket}", _submit_blank_comment),
    Page("ticket-attachments", REQUESTER, "{ticket}", _comment_with_a_file),
    Page("ticket-return-no-reason", APPROVER, "{ticket}#task-{task}", _return_without_a_reason),
    Page("ticket-returned-to-applicant", REQUESTER, "{returned}"),
    Page("ticket-returned-reader", APPROVER, "{returned}"),
    Page("ticket-resubmit", REQUESTER, "{returned}/resubmit"),
    Page("ticket-resubmit-errors", REQUESTER, "{returned}/resubmit", _resubmit_without_the_purpose),
    Page("ticket-transfer-error", APPROVER, "{ticket}#task-{task}", _transfer_to_nobody),
    Page("ticket-withdraw-open", REQUESTER, "{ticket}", _open_withdraw_and_cancel),
    Page("ticket-revoke-open", REQUESTER, "{approved}", _open_revoke),
    Page("tasks", APPROVER, "/tasks"),
    Page("delegations", REQUESTER, "/delegations", _set_a_substitute),
    Page("delegations-errors", REQUESTER, "/delegations", _reversed_substitute_period),
    Page("tickets", REQUESTER, "/tickets"),
    # a record app's table (ADR 0038): the grid, a record, the new-record form's errors
    Page("records-grid", REQUESTER, "/apps/customers/records"),
    Page("records-search", AUDITOR, "/apps/customers/records?q=%E4%B8%8A%E6%B5%B7"),
    Page("record", REQUESTER, "/apps/customers/records", _open_first_record),
    Page("record-new-errors", REQUESTER, "/apps/customers/records/new", _save_empty_record),
    Page("notifications", APPROVER, "/notifications?show=all"),
    Page("tasks-done", APPROVER, "/tasks?tab=done"),
    Page("tickets-all", AUDITOR, "/tickets?scope=all"),
    Page("tickets-search", REQUESTER, "/tickets?q=%E6%9D%8E%E9%9B%B7"),
    Page("tickets-bad-filter", REQUESTER, "/tickets?sort=size&created_from=yesterday"),
    Page("admin", ADMIN, "/admin"),
    Page("admin-users", ADMIN, "/admin/users"),
    Page("admin-user-new", ADMIN, "/admin/users/new"),
    Page("admin-user", ADMIN, f"/admin/users/{REQUESTER}"),
    Page("admin-user-with-tasks", ADMIN, f"/admin/users/{APPROVER}"),
    Page("admin-hand-over-refused", ADMIN, f"/admin/users/{APPROVER}", _hand_over_to_nobody),
    Page("admin-departments", ADMIN, "/admin/departments"),
    Page("admin-department", ADMIN, "/admin/departments/hq"),
    Page("admin-roles", ADMIN, "/admin/roles"),
    Page("admin-import", ADMIN, "/admin/import"),
    Page("admin-apps", ADMIN, "/admin/apps"),
    Page("admin-designer", ADMIN, "/admin/apps/loan/designer", _designer_with_a_step_selected),
    Page(
        "admin-form-builder", ADMIN, "/admin/apps/loan/form-builder", _builder_with_a_field_selected
    ),
    Page(
        "admin-form-builder-columns",
        ADMIN,
        "/admin/apps/expenses/form-builder",
        _builder_with_columns,
    ),
    Page("admin-form-builder-link", ADMIN, "/admin/apps/loan/form-builder", _builder_with_a_link),
    Page(
        "admin-form-builder-problems",
        ADMIN,
        "/admin/apps/loan/form-builder",
        _builder_with_problems,
    ),
    Page("ticket-diagram", REQUESTER, "{ticket}", _open_ticket_diagram),
    Page("admin-calendar", ADMIN, "/admin/calendar?year=2026", _enter_calendar_day),
    Page("admin-calendar-uncovered", ADMIN, "/admin/calendar?year=2027"),
    Page("admin-calendar-errors", ADMIN, "/admin/calendar?year=2027", _submit_bad_calendar_day),
    Page("not-found", REQUESTER, "/no-such-page"),
    Page("not-found-ticket", REQUESTER, "/tickets/" + "0" * 32),
]


def url_of(page: Page, site: Site) -> str:
    return page.path.format(
        ticket=site.ticket_path,
        task=site.task_id,
        changed=site.changed_ticket_path,
        returned=site.returned_ticket_path,
        approved=site.approved_ticket_path,
    )


def axe_violations(browser_page: Any) -> list[dict[str, Any]]:
    browser_page.add_script_tag(path=str(AXE))
    result = browser_page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [json.dumps(n["target"]) for n in v["nodes"][:5]]
        lines.append(f"{v['impact']} {v['id']}: {v['help']} -> {', '.join(targets)}")
    return "\n".join(lines)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_axe_finds_nothing_serious(site: Site, page: Page, locale: str, width: str) -> None:
    context = site.context(page.user, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(url_of(page, site))
        if page.then is not None:
            page.then(tab)
        assert tab.evaluate("document.documentElement.lang").startswith(locale)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=f"{SHOTS}/{page.name}-{locale}-{width}.png", full_page=True)
        violations = axe_violations(tab)
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, describe(blocking)
    finally:
        context.close()
