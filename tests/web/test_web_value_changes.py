"""The ticket page shows what an approver changed: each field's label with old → new value,
formatted as the details show values, personal text still masked."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from test_web_tasks import decide
from web_helpers import Browser

from flowdesk.engines.access import Actor
from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps, tickets, views
from flowdesk.services.context import ServiceContext
from flowdesk.web.pages.tickets import value_changes

PHONE = "13812345678"
CHANGES = re.compile(r'<li class="tl-item tl-values_changed".*?</li>', re.S)
CHANGE_ROW = re.compile(
    r'<div class="tl-change" data-field="(\w+)">\s*<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>', re.S
)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def editable_loan(demo_ctx: ServiceContext) -> None:
    """The loan app with the branch manager allowed to change amount, rating and purpose
    (the gateway routes on the term, so the amount may change after it)."""
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for flow in definition["process"]["flows"]:
        if flow.get("condition") == "amount <= 50000":
            flow["condition"] = "term_months <= 60"
    for node in definition["process"]["nodes"]:
        if node["id"] == "branch_review":
            node["editable"] = ["amount", "credit_rating", "purpose"]
    apps.publish_yaml(demo_ctx, yaml.safe_dump(definition, allow_unicode=True))


def _approve_with_changes(ctx: ServiceContext, actors: dict[str, Actor], ticket_id: str) -> None:
    """li.na approves (as the API lets her) with three changed values."""
    view = views.ticket(ctx, actors["li.na"], ticket_id)
    [task] = [t for t in view.open_tasks if t.node_id == "branch_review"]
    tickets.approve(
        ctx,
        actor=actors["li.na"],
        task_id=task.id,
        comment="按实际需求调整",
        values={"amount": "150000", "credit_rating": "B", "purpose": f"购置烤炉，联系 {PHONE}"},
    )


def _changes(page: str) -> dict[str, tuple[str, str]]:
    """{field: (label, "old → new" as text)} of the one values_changed entry."""
    [entry] = CHANGES.findall(page)
    found = {}
    for key, label, value in CHANGE_ROW.findall(entry):
        text = " ".join(html.unescape(TAG.sub(" ", value)).split())
        found[key] = (html.unescape(label), text)
    return found


@pytest.mark.usefixtures("editable_loan")
def test_the_ticket_page_shows_old_and_new_values_in_the_readers_language(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="120,000.00", purpose="经营周转")
    _approve_with_changes(demo_ctx, actors, ticket_id)

    zh = browser("zhang.wei").get(f"/tickets/{ticket_id}").text
    assert _changes(zh) == {
        "amount": ("贷款金额", "120,000.00 CNY → 改为 150,000.00 CNY"),
        "credit_rating": ("信用评级", "A 级（优） → 改为 B 级（良）"),
        "purpose": ("贷款用途", "经营周转 → 改为 购置烤炉，联系 138****5678"),
    }
    [entry] = CHANGES.findall(zh)
    assert PHONE not in entry  # the timeline keeps personal text masked
    # The decision itself follows, with its comment.
    approved = zh.split(entry, 1)[1]
    assert approved.index('data-kind="task_approved"') < approved.index("按实际需求调整")

    en = browser("li.na", locale="en").get(f"/tickets/{ticket_id}").text
    assert _changes(en) == {
        "amount": ("Loan amount", "120,000.00 CNY → changed to 150,000.00 CNY"),
        "credit_rating": ("Credit rating", "A (excellent) → changed to B (good)"),
        "purpose": ("Purpose of the loan", "经营周转 → changed to 购置烤炉，联系 138****5678"),
    }
    # The details show the ticket's values now; the arrow is not read out.
    assert "150,000.00 CNY" in en.split('data-testid="timeline"')[0]
    assert '<span class="tl-arrow" aria-hidden="true">→</span>' in en


def test_a_decision_without_changes_shows_none(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00")
    _, response = decide(browser("li.na"), ticket_id, "approve", "同意")
    assert response.status_code == 303
    page = browser("zhang.wei").get(f"/tickets/{ticket_id}").text
    assert 'data-kind="task_approved"' in page
    assert 'data-testid="value-changes"' not in page


def test_an_event_from_before_values_were_kept_names_the_fields() -> None:
    form = load_bundled_template("loan").form
    [change] = value_changes(form, {"fields": ["amount"]}, "zh")
    assert (change.label, change.recorded) == ("贷款金额", False)
    [cleared] = value_changes(
        form, {"changes": [{"field": "purpose", "old": "旧用途", "new": None}]}, "en"
    )
    assert (cleared.label, cleared.old, cleared.new) == ("Purpose of the loan", "旧用途", "")
