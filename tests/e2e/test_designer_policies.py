"""The designer's controls for what a step does without a person (issue 8): an automatic
decision by condition, the answer to a rule naming nobody, approve-once, no withdrawal,
the add-sign depth; a service task's webhook; the process-wide "no one approves twice".
Each is set in the side panel, published, and shown again after a reload; the published
process behaves (a small loan passes branch review by itself, the reason in its
timeline); a publish problem shows at its element. Console free of errors (CSP
enforced), as test_designer.py."""

from __future__ import annotations

from typing import Any

import pytest
from test_designer import Tab, _open_designer, _select, served  # noqa: F401

from conftest import REQUESTER
from flowdesk.services import apps, auth, tickets, views
from flowdesk.services.context import ServiceContext
from flowdesk.store import org as org_store

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

SMALL_LOAN = {
    "applicant_name": "李雷",
    "amount": "3000.00",
    "term_months": 12,
    "credit_rating": "A",
    "region": "east",
    "purpose": "购买办公设备",
}


def _reopen(tab: Tab) -> Any:
    tab.page.reload()
    sync_api.expect(tab.page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    return tab.page


def test_user_task_policies_round_trip_and_auto_approve_fires(
    chromium: Any,  # the session's browser (test_designer.py)
    served: tuple[str, ServiceContext],  # noqa: F811
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect
    _select(page, "branch_review")
    page.get_by_test_id("panel-auto-when").fill("amount <= 5000 and credit_rating == 'A'")
    page.get_by_test_id("panel-auto-when").press("Tab")
    page.get_by_test_id("panel-auto-action").select_option("approve")
    page.get_by_test_id("panel-empty-action").select_option("role")
    expect(page.get_by_test_id("panel-empty-role")).to_be_visible()
    expect(page.get_by_test_id("panel-empty-user")).to_be_hidden()
    page.get_by_test_id("panel-empty-role").fill("admin")
    page.get_by_test_id("panel-empty-role").press("Tab")
    page.get_by_test_id("panel-approve-once").check()
    page.get_by_test_id("panel-no-withdraw").check()
    page.get_by_test_id("panel-add-sign-depth").fill("2")
    page.get_by_test_id("panel-add-sign-depth").press("Tab")
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")

    node = apps.current(ctx, "loan").spec.process.nodes["branch_review"].to_dict()
    assert node["auto"] == {"when": "amount <= 5000 and credit_rating == 'A'"}
    assert node["on_empty"] == {"action": "assign", "assignee": {"kind": "role", "role": "admin"}}
    assert node["approve_once"] is True
    assert node["withdraw"] is False
    assert node["add_sign_depth"] == 2
    assert node["assignee"] == {"kind": "applicant_manager"}  # untouched

    page = _reopen(tab)
    _select(page, "branch_review")
    expect(page.get_by_test_id("panel-auto-when")).to_have_value(
        "amount <= 5000 and credit_rating == 'A'"
    )
    expect(page.get_by_test_id("panel-auto-action")).to_have_value("approve")
    expect(page.get_by_test_id("panel-empty-action")).to_have_value("role")
    expect(page.get_by_test_id("panel-empty-role")).to_have_value("admin")
    expect(page.get_by_test_id("panel-approve-once")).to_be_checked()
    expect(page.get_by_test_id("panel-no-withdraw")).to_be_checked()
    expect(page.get_by_test_id("panel-add-sign-depth")).to_have_value("2")

    # skip instead, and a fallback person: both kept too
    page.get_by_test_id("panel-auto-action").select_option("skip")
    page.get_by_test_id("panel-empty-action").select_option("user")
    page.get_by_test_id("panel-empty-user").fill("admin")
    page.get_by_test_id("panel-empty-user").press("Tab")
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 2}.")
    node = apps.current(ctx, "loan").spec.process.nodes["branch_review"].to_dict()
    assert node["auto"] == {"when": "amount <= 5000 and credit_rating == 'A'", "action": "skip"}
    assert node["on_empty"] == {"action": "assign", "assignee": {"kind": "user", "user": "admin"}}
    page = _reopen(tab)
    _select(page, "branch_review")
    expect(page.get_by_test_id("panel-auto-action")).to_have_value("skip")
    expect(page.get_by_test_id("panel-empty-user")).to_have_value("admin")

    # back to auto-approve, then the published process decides a small loan itself
    page.get_by_test_id("panel-auto-action").select_option("approve")
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 3}.")
    with ctx.db.read() as conn:
        actor = auth.actor_from_row(conn, org_store.user_by_username(conn, REQUESTER))
    filed = tickets.submit(ctx, actor=actor, app_key="loan", values=SMALL_LOAN)
    view = views.ticket(ctx, actor, filed.ticket_id)
    assert [t.node_id for t in view.open_tasks] == ["disburse"]
    tab.page.goto(f"/tickets/{filed.ticket_id}")
    expect(tab.page.locator("body")).to_contain_text("amount <= 5000")
    assert tab.errors == []
    tab.close()


def test_process_setting_and_a_webhook_round_trip_and_problems_show_at_the_element(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect
    # nothing selected: the process's own settings
    expect(page.get_by_test_id("process-form")).to_be_visible()
    page.get_by_test_id("process-once").check()

    # the branch review becomes a service task calling a webhook
    _select(page, "branch_review")
    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-service-task"]').click()
    page.locator(".djs-popup").wait_for(state="detached")
    page.locator("#designer-canvas svg").first.click(position={"x": 5, "y": 5})
    _select(page, "branch_review")
    expect(page.get_by_test_id("panel-webhook-url")).to_be_visible()
    expect(page.get_by_test_id("panel-mode")).to_be_hidden()
    page.get_by_test_id("panel-webhook-url").fill("ftp://hooks.example.com/loans")
    page.get_by_test_id("panel-webhook-url").press("Tab")
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(
        "Not publishable yet. Correct these problems:"
    )
    assert apps.current(ctx, "loan").version == before
    # the problem shows in the panel of the selected element, and its shape is marked
    expect(page.get_by_test_id("panel-problems")).to_contain_text("invalid_url")
    expect(page.locator('.djs-element.fd-problem[data-element-id="branch_review"]')).to_have_count(
        1
    )

    page.get_by_test_id("panel-webhook-url").fill("https://hooks.example.com/loans")
    page.get_by_test_id("panel-webhook-secret").fill("core_hook")
    page.get_by_test_id("panel-webhook-body").fill("amount = form.amount\nserial = ticket.serial")
    page.get_by_test_id("panel-webhook-headers").fill("X-Source: flowdesk")
    page.get_by_test_id("panel-webhook-headers").press("Tab")
    page.get_by_test_id("designer-publish").click()
    # the demo installation configures no webhook secrets: the name is refused, at the task
    expect(page.get_by_test_id("panel-problems")).to_contain_text("unknown_secret")
    page.get_by_test_id("panel-webhook-secret").fill("")
    page.get_by_test_id("panel-webhook-secret").press("Tab")
    page.get_by_test_id("designer-publish").click()
    status = page.get_by_test_id("designer-status")
    expect(status).to_have_text(f"Published version {before + 1}.")
    expect(page.get_by_test_id("panel-problems")).to_be_hidden()
    expect(page.locator(".djs-element.fd-problem")).to_have_count(0)

    process = apps.current(ctx, "loan").spec.process
    assert process.once_per_ticket is True
    node = process.nodes["branch_review"].to_dict()
    assert node["type"] == "service_task"
    hook = node["webhook"]
    assert hook["url"] == "https://hooks.example.com/loans"
    assert hook["body"] == {"amount": "form.amount", "serial": "ticket.serial"}
    assert hook["headers"] == {"X-Source": "flowdesk"}

    page = _reopen(tab)
    expect(page.get_by_test_id("process-once")).to_be_checked()
    _select(page, "branch_review")
    expect(page.get_by_test_id("panel-webhook-url")).to_have_value(
        "https://hooks.example.com/loans"
    )
    expect(page.get_by_test_id("panel-webhook-body")).to_have_value(
        "amount = form.amount\nserial = ticket.serial"
    )
    expect(page.get_by_test_id("panel-webhook-headers")).to_have_value("X-Source: flowdesk")
    # the refused publish answered 422, which the browser logs; nothing else
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.close()
