"""转交 on the ticket page: the holder's hand-over form, its refusals shown at the field in
the page's language with what was typed kept, and the new holder's task; and the
timeline line that says to whom."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from web_helpers import Browser, csrf_from


def _transfer_form(page: str) -> str:
    found = re.search(r'action="/tasks/([0-9a-f]+)/transfer"', page)
    assert found, "no transfer form"
    return found.group(1)


def _transfer(who: Browser, ticket_id: str, to: str, note: str = "") -> httpx.Response:
    page = who.get(f"/tickets/{ticket_id}").text
    return who.post(
        f"/tasks/{_transfer_form(page)}/transfer",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "transfer_to": to,
            "transfer_comment": note,
        },
        follow_redirects=False,
    )


def test_the_holder_hands_the_task_over_and_the_new_holder_decides(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="transfer-form"' in page and "转交给他人" in page
    done = _transfer(manager, ticket_id, "huang.lei", "出差，请代为审批")
    assert done.status_code == 303, done.text
    after = manager.get(done.headers["location"]).text
    assert "已转交待办。" in after
    assert 'data-testid="transfer-form"' not in after  # not hers to decide any more
    timeline = after[after.index('data-testid="timeline"') :]
    line = timeline[timeline.index('data-kind="task_transferred"') :][:1500]
    assert "转交给 黄磊" in line and "出差，请代为审批" in line and "李娜" in line
    other = browser("huang.lei").get(f"/tickets/{ticket_id}").text
    assert "/approve" in other and 'data-testid="transfer-form"' in other
    done_list = manager.get("/tasks?tab=done").text
    assert ticket_id in done_list and "转交" in done_list


def test_a_refused_transfer_is_shown_at_the_field_and_changes_nothing(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    manager = browser("li.na")
    unknown = _transfer(manager, ticket_id, "no.such.person", "请处理")
    assert unknown.status_code == 422
    assert "没有这个用户名的用户。" in unknown.text
    assert 'value="no.such.person"' in unknown.text and "请处理</textarea>" in unknown.text
    assert '<details class="transfer" open' in unknown.text
    assert 'aria-invalid="true"' in unknown.text
    itself = _transfer(manager, ticket_id, "li.na")
    assert itself.status_code == 422 and "您已是该待办的处理人" in itself.text
    english = browser("li.na", locale="en")
    refused = _transfer(english, ticket_id, "")
    assert refused.status_code == 422
    assert "Enter the username of the person to hand the task to." in refused.text
    page = manager.get(f"/tickets/{ticket_id}").text
    assert 'data-kind="task_transferred"' not in page and "/approve" in page


def test_a_transfer_needs_the_forms_token(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    forged = manager.post(
        f"/tasks/{_transfer_form(page)}/transfer",
        data={"ticket_id": ticket_id, "transfer_to": "huang.lei"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "/approve" in manager.get(f"/tickets/{ticket_id}").text
