"""The designer offers issue 8's assignee kinds: a form field's person or department head
(the panel lists the form's user and department fields), the previous approver's manager,
a role's pick (round robin, least loaded) and "no one approves twice"; what it writes
publishes as those rules. Console free of errors (CSP enforced), as test_designer.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_designer import Tab, _open_designer, _select, served, shots  # noqa: F401

from flowdesk.engines.apps import dump_app_yaml
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def _with_org_fields(ctx: ServiceContext) -> None:
    """The loan form gains a reviewer (user) and a cost centre (department) field."""
    definition: dict[str, Any] = yaml.safe_load(dump_app_yaml(apps.current(ctx, "loan").spec))
    definition["form"]["fields"] += [
        {"key": "reviewer", "type": "user", "label": {"en": "Reviewer", "zh": "复核人"}},
        {
            "key": "cost_centre",
            "type": "department",
            "label": {"en": "Cost centre", "zh": "成本中心"},
        },
    ]
    apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True))


def _choose(page: Any, element_id: str) -> None:
    """Selects a step after a click on the empty canvas (the last one's pad may cover it)."""
    page.locator("#designer-canvas svg").first.click(position={"x": 5, "y": 5})
    _select(page, element_id)


def test_the_panel_sets_field_rules_a_pick_and_no_one_approves_twice(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    base, ctx = served
    _with_org_fields(ctx)
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect

    _select(page, "branch_review")
    page.get_by_test_id("panel-assignee-kind").select_option("field_user")
    expect(page.get_by_test_id("panel-people-field")).to_be_visible()
    expect(page.get_by_test_id("panel-people-field")).to_have_value("reviewer")
    page.get_by_test_id("panel-people-field").press("Tab")

    _choose(page, "legal_review")
    page.get_by_test_id("panel-assignee-kind").select_option("field_department_head")
    expect(page.get_by_test_id("panel-department-field")).to_have_value("cost_centre")
    page.get_by_test_id("panel-department-field").press("Tab")

    _choose(page, "committee")
    page.get_by_test_id("panel-assignee-kind").select_option("role")
    page.fill("#panel-role", "credit_committee")
    page.get_by_test_id("panel-pick").select_option("least_loaded")
    page.get_by_test_id("panel-once").check()
    page.screenshot(path=str(shots / "designer-assignees-1280.png"), full_page=True)

    _choose(page, "finance_review")
    page.get_by_test_id("panel-assignee-kind").select_option("previous_approver_manager")
    expect(page.get_by_test_id("panel-pick")).to_be_hidden()
    page.get_by_test_id("panel-assignee-kind").press("Tab")

    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    nodes = apps.current(ctx, "loan").spec.process.nodes
    assert nodes["branch_review"].to_dict()["assignee"] == {
        "kind": "field_user",
        "field": "reviewer",
    }
    assert nodes["legal_review"].to_dict()["assignee"] == {
        "kind": "field_department_head",
        "field": "cost_centre",
    }
    committee = nodes["committee"].to_dict()
    assert committee["assignee"] == {
        "kind": "role",
        "role": "credit_committee",
        "pick": "least_loaded",
    }
    assert committee["once_per_ticket"] is True
    assert nodes["finance_review"].to_dict()["assignee"] == {"kind": "previous_approver_manager"}
    assert not nodes["branch_review"].once_per_ticket

    # opened again, the panel shows what was published
    page.reload()
    expect(page.get_by_test_id("designer")).to_have_attribute("data-ready", "1")
    _select(page, "committee")
    expect(page.get_by_test_id("panel-pick")).to_have_value("least_loaded")
    expect(page.get_by_test_id("panel-once")).to_be_checked()
    assert tab.errors == []
    tab.close()

    zh = Tab(chromium, base, "admin")
    zh.context.add_cookies([{"name": "flowdesk_locale", "value": "zh", "url": base}])
    page = _open_designer(zh)
    _select(page, "committee")
    page.screenshot(path=str(shots / "designer-assignees-zh-1280.png"), full_page=True)
    page.get_by_test_id("panel-once").scroll_into_view_if_needed()
    page.get_by_test_id("designer-panel").screenshot(path=str(shots / "designer-once-zh.png"))
    assert zh.errors == []
    zh.close()


def test_a_form_with_people_and_department_fields_on_a_phone(
    chromium: Any,
    served: tuple[str, ServiceContext],  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    """The new-ticket page of a form with user, users and department fields, at 375 px in
    both languages: plain text inputs, axe-core without a serious or critical finding."""
    base, ctx = served
    label = {"en": "Purchase", "zh": "采购"}
    definition = {
        "key": "purchase",
        "name": label,
        "form": {
            "fields": [
                {"key": "title", "type": "text", "label": {"en": "Title", "zh": "标题"}},
                {"key": "reviewer", "type": "user", "label": {"en": "Reviewer", "zh": "复核人"}},
                {"key": "panel", "type": "users", "label": {"en": "Panel", "zh": "评审组"}},
                {
                    "key": "cost_centre",
                    "type": "department",
                    "label": {"en": "Cost centre", "zh": "成本中心"},
                },
            ]
        },
        "process": {
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "check",
                    "type": "user_task",
                    "assignee": {"kind": "field_user", "field": "reviewer"},
                },
                {"id": "end", "type": "end"},
            ],
            "flows": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
        },
    }
    apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True))
    for locale in ("zh", "en"):
        tab = Tab(chromium, base, "zhang.wei", viewport={"width": 375, "height": 812})
        tab.context.add_cookies([{"name": "flowdesk_locale", "value": locale, "url": base}])
        page = tab.page
        page.goto("/apps/purchase/new")
        for key in ("reviewer", "panel", "cost_centre"):
            box = page.locator(f'[name="{key}"]').bounding_box()
            assert box is not None and box["height"] >= 44  # a finger's tap target
        page.screenshot(path=str(shots / f"new-ticket-org-fields-{locale}-375.png"), full_page=True)
        assert tab.errors == []
        tab.close()
