"""The designer's side panel with the issue 8 controls passes axe-core with no serious or
critical violation, in zh-CN and en, on a 375-px phone (the read-only viewer) and a
1280-px desktop: a user task's automatic decision and empty-rule settings shown, and on
the desktop a service task whose publish was refused, its problem shown at the task.
Same set-up and rules as test_accessibility.py; nothing is published (the refused
publish changes nothing). Screenshots go to FLOWDESK_E2E_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from test_accessibility import BLOCKING, axe_violations, describe

from conftest import ADMIN, LOCALES, VIEWPORTS, Site

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("FLOWDESK_E2E_SCREENSHOTS", "")


def _check(tab: Any, locale: str, name: str, shown: str = "") -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
    if SHOTS and shown:  # the desktop panel scrolls: the controls looked at, in its view
        panel = tab.get_by_test_id("designer-panel")
        panel.evaluate(
            "(p, sel) => { const at = document.querySelector(sel).getBoundingClientRect().top;"
            " p.scrollTop += at - p.getBoundingClientRect().top - 60; }",
            shown,
        )
        panel.screenshot(path=f"{SHOTS}/{name}-panel.png", animations="disabled")
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)


def _open(tab: Any) -> None:
    tab.goto("/admin/apps/loan/designer")
    tab.wait_for_selector("[data-testid=designer][data-ready]")


def _select(tab: Any, element_id: str) -> None:
    tab.locator(f'.djs-element[data-element-id="{element_id}"]').first.click(
        position={"x": 6, "y": 6}
    )
    tab.wait_for_selector("#panel-form:not([hidden])")


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_policy_controls_are_accessible(site: Site, locale: str, width: str) -> None:
    context = site.context(ADMIN, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        _open(tab)
        _check(tab, locale, f"designer-process-{locale}-{width}")
        _select(tab, "branch_review")
        tab.wait_for_selector("[data-testid=panel-auto-when]")
        if width == "1280":  # the phone's viewer is read-only
            tab.get_by_test_id("panel-empty-action").select_option("role")
        _check(tab, locale, f"designer-policies-{locale}-{width}", "#panel-auto-when")
    finally:
        context.close()


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_refused_webhook_shows_its_problem_accessibly(site: Site, locale: str) -> None:
    context = site.context(ADMIN, locale=locale, width="1280", bypass_csp=True)
    try:
        tab = context.new_page()
        _open(tab)
        _select(tab, "branch_review")
        tab.locator('.djs-context-pad .entry[data-action="replace"]').click()
        tab.locator('.djs-popup [data-id="replace-with-service-task"]').click()
        tab.locator(".djs-popup").wait_for(state="detached")
        tab.locator("#designer-canvas svg").first.click(position={"x": 5, "y": 5})
        _select(tab, "branch_review")
        tab.get_by_test_id("designer-publish").click()  # no URL: refused
        tab.wait_for_selector("[data-testid=panel-problems]:not([hidden])")
        _check(tab, locale, f"designer-webhook-problem-{locale}-1280", "#panel-webhook-url")
    finally:
        context.close()
