"""The web decision form offers no value inputs and refuses any posted value (422)."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from

TASK_FORM = re.compile(r'action="/tasks/([0-9a-f]{32})/approve"')
# the decision form itself (the action card also holds the 转交 and 加签 forms)
FORM_BLOCK = re.compile(r'<form method="post" action="/tasks/[0-9a-f]{32}/approve".*?</form>', re.S)


def test_the_decision_form_posts_only_the_comment(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00")
    page = browser("li.na").get(f"/tickets/{ticket_id}").text
    (form,) = FORM_BLOCK.findall(page)
    names = set(re.findall(r'name="([^"]+)"', form))
    # and the 退回 button's target (its resubmit choice only where the returner chooses),
    # and the files the decision carries (ADR 0028)
    assert names == {"csrf_token", "ticket_id", "comment", "target", "files"}


def test_a_value_posted_with_the_approval_is_refused(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00")
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    found = TASK_FORM.search(page)
    assert found
    task_id = found.group(1)

    refused = manager.post(
        f"/tasks/{task_id}/approve",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "comment": "同意",
            "amount": "99,999,999.00",
        },
        follow_redirects=False,
    )

    assert refused.status_code == 422
    assert 'data-testid="action-error"' in refused.text
    assert "此环节不能修改表单" in refused.text
    assert "99,999,999" not in refused.text
    after = manager.get(f"/tickets/{ticket_id}").text
    assert "1,000.00" in after
    assert TASK_FORM.search(after)  # still li.na's to decide
    assert 'data-kind="task_approved"' not in after


def test_without_the_ticket_the_refusal_is_a_problem(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="1,000.00")
    manager = browser("li.na", locale="en")
    page = manager.get(f"/tickets/{ticket_id}").text
    found = TASK_FORM.search(page)
    assert found
    refused = manager.post(
        f"/tasks/{found.group(1)}/reject",
        data={"csrf_token": csrf_from(page), "comment": "no", "purpose": "x"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Values cannot be changed while deciding a task" in refused.text
    assert TASK_FORM.search(manager.get(f"/tickets/{ticket_id}").text)
