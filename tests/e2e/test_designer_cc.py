"""The designer makes a send task a CC step (抄送): the side panel shows the assignee
(whom it copies) without the approval settings, writes the CC marker, and the published
process has the CC node. Console free of errors (CSP enforced), as test_designer.py."""

from __future__ import annotations

from typing import Any

import pytest
from test_designer import Tab, _open_designer, _select, served  # noqa: F401

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def test_a_send_task_becomes_a_cc_step_and_publishes(
    chromium: Any,  # the session's browser (conftest.py)
    served: tuple[str, ServiceContext],  # noqa: F811
) -> None:
    base, ctx = served
    before = apps.current(ctx, "loan").version
    tab = Tab(chromium, base, "admin")
    page = _open_designer(tab)
    expect = sync_api.expect
    # turn the branch review into a send task with bpmn-js's own "change type" menu
    _select(page, "branch_review")
    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-send-task"]').click()
    page.locator(".djs-popup").wait_for(state="detached")
    # a click on the empty canvas, then on the step: the panel shows the send task
    page.locator("#designer-canvas svg").first.click(position={"x": 5, "y": 5})
    _select(page, "branch_review")
    expect(page.get_by_test_id("panel-cc-help")).to_be_visible()
    expect(page.get_by_test_id("panel-mode")).to_be_hidden()
    page.get_by_test_id("panel-assignee-kind").select_option("users")
    page.locator("#panel-users").fill("wang.fang\nhe.jia")
    page.locator("#panel-users").press("Tab")
    page.get_by_test_id("designer-publish").click()
    expect(page.get_by_test_id("designer-status")).to_have_text(f"Published version {before + 1}.")
    node = apps.current(ctx, "loan").spec.process.nodes["branch_review"]
    assert node.type == "cc"
    assert node.to_dict()["assignee"] == {"kind": "users", "users": ["wang.fang", "he.jia"]}
    assert tab.errors == []
    tab.close()
