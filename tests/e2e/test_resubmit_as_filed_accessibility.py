"""The resubmit page of an app that keeps a returned ticket as filed (`edit_on_resubmit:
false`, ADR 0034) passes axe-core with no serious or critical violation, in zh-CN and en,
on a 375-px phone and a 1280-px desktop: the values read-only, a note and the comment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_accessibility import BLOCKING, axe_violations, describe

from conftest import LOCALES, REQUESTER, VIEWPORTS, Site, file_returned_loan
from flowdesk.services import apps

pytestmark = pytest.mark.e2e


def _check(tab: Any, locale: str, name: str) -> None:
    assert tab.evaluate("document.documentElement.lang").startswith(locale)
    blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)
    folder = os.environ.get("FLOWDESK_E2E_SCREENSHOTS")
    if folder:
        tab.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def kept_path(site: Site) -> str:
    """A ticket of a copy of the loan app that forbids edits, returned to its applicant."""
    ctx = site.ctx
    assert ctx is not None
    loan = yaml.safe_load(apps.export_yaml(ctx, "loan"))
    loan.update(key="loan_kept", serial_prefix="LK", edit_on_resubmit=False)
    loan["name"] = {"en": "Loan (as filed)", "zh": "贷款审批（按原样重提）"}
    apps.publish_yaml(ctx, yaml.safe_dump(loan, allow_unicode=True))
    return f"/tickets/{file_returned_loan(ctx, 'loan_kept')}/resubmit"


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_read_only_resubmit_page_is_accessible(
    site: Site, kept_path: str, locale: str, width: str
) -> None:
    context = site.context(REQUESTER, locale=locale, width=width, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(kept_path)
        tab.wait_for_selector("[data-testid=resubmit-as-filed]")
        assert tab.locator("input[name=amount]").count() == 0
        _check(tab, locale, f"h1-resubmit-as-filed-{locale}-{width}")
    finally:
        context.close()
