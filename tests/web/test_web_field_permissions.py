"""Per-node field permissions (ADR 0037) on the web: the new-ticket form leaves out the
field the start hides, the branch manager's ticket page and 待办 leave out the field her
step hides, and her decision form offers the field her step opens, kept old → new."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_web_tasks import task_id_on
from web_helpers import Browser, csrf_from

from field_permission_app import NOTE, field_permission_yaml
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext


@pytest.fixture
def permission_loan(demo_ctx: ServiceContext) -> None:
    apps.publish_yaml(demo_ctx, field_permission_yaml())


@pytest.mark.usefixtures("permission_loan")
def test_the_new_ticket_form_leaves_out_what_the_start_hides(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    page = applicant.get("/apps/loan/new").text
    assert 'name="private_note"' in page
    assert "approved_amount" not in page
    refused = applicant.submit_loan(approved_amount="9000000")
    assert refused.status_code == 422
    assert 'data-testid="error-approved_amount"' not in refused.text
    assert "此环节无权填写该字段" in refused.text
    assert 'href="#f-approved_amount"' not in refused.text


@pytest.mark.usefixtures("permission_loan")
def test_the_approver_neither_sees_the_hidden_field_nor_can_send_it(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00", private_note=NOTE)
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    assert NOTE not in page
    assert "放款备注" not in page
    assert NOTE not in manager.get("/tasks").text
    assert NOTE in browser("zhang.wei").get(f"/tickets/{ticket_id}").text
    # the decision form offers the field her step opens, and nothing else
    assert 'name="edit.approved_amount"' in page
    assert 'name="edit.private_note"' not in page
    task_id = task_id_on(page)
    refused = manager.post(
        f"/tasks/{task_id}/approve",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "edit.private_note": "changed",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "此环节无权填写该字段" in refused.text


@pytest.mark.usefixtures("permission_loan")
def test_the_approver_fills_the_field_her_step_opens(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00")
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    bad = manager.post(
        f"/tasks/{task_id_on(page)}/approve",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "edit.approved_amount": "abc",
        },
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert 'data-testid="error-approved_amount"' in bad.text
    approved = manager.post(
        f"/tasks/{task_id_on(page)}/approve",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "comment": "同意",
            "edit.approved_amount": "800.00",
        },
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    shown = browser("zhang.wei").get(f"/tickets/{ticket_id}").text
    assert "批准金额" in shown and "800.00" in shown
