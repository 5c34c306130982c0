"""委派 on the ticket page (ADR 0034): the holder's delegate form, the delegate's resolve
card (no approve or reject buttons), 待办 marking the task as delegated by its owner, the
owner's waiting card, the timeline lines, and a refusal shown at the field."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from web_helpers import Browser, csrf_from


def _form_task(page: str, verb: str) -> str:
    found = re.search(rf'action="/tasks/([0-9a-f]+)/{verb}"', page)
    assert found, f"no {verb} form"
    return found.group(1)


def _delegate(who: Browser, ticket_id: str, to: str, note: str = "") -> httpx.Response:
    page = who.get(f"/tickets/{ticket_id}").text
    return who.post(
        f"/tasks/{_form_task(page, 'delegate')}/delegate",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "delegate_to": to,
            "delegate_comment": note,
        },
        follow_redirects=False,
    )


def test_delegate_resolve_and_the_owner_decides(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    manager = browser("li.na")
    done = _delegate(manager, ticket_id, "huang.lei", "请核实收入证明")
    assert done.status_code == 303, done.text
    after = manager.get(done.headers["location"]).text
    assert "你已委派该任务" in after
    assert 'data-testid="delegated-card"' in after and "黄磊" in after
    assert 'data-testid="sign-card"' not in after  # not an add-sign
    assert 'data-testid="task-form"' not in after  # no decision while delegated
    delegate = browser("huang.lei")
    inbox = delegate.get("/tasks").text
    assert 'data-testid="row-delegated-by"' in inbox and "由 李娜 委派" in inbox
    page = delegate.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="resolve-card"' in page
    assert 'data-testid="approve"' not in page and 'data-testid="reject"' not in page
    resolved = delegate.post(
        f"/tasks/{_form_task(page, 'resolve')}/resolve",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "resolve_comment": "收入证明属实",
            "opinion": "approve",
        },
        follow_redirects=False,
    )
    assert resolved.status_code == 303, resolved.text
    back = manager.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="task-form"' in back and 'data-testid="delegated-card"' not in back
    timeline = back[back.index('data-testid="timeline"') :]
    line = timeline[timeline.index('data-kind="task_delegated"') :][:1500]
    assert "已委派给 黄磊" in line and "请核实收入证明" in line
    line = timeline[timeline.index('data-kind="task_resolved"') :][:1500]
    assert "建议同意" in line and "收入证明属实" in line
    # what the delegate saw is kept with their step: the values at that moment
    assert 'data-testid="decided-values"' in line and "作出此决定时的表单内容" in line
    assert "30,000.00" in line


def test_a_refused_delegation_is_shown_at_the_field(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    manager = browser("li.na")
    refused = _delegate(manager, ticket_id, "zhang.wei", "请处理")
    assert refused.status_code == 403
    assert 'data-testid="delegate-error"' in refused.text
    assert "申请人不能处理自己的工单。" in refused.text
    assert "请处理" in refused.text
