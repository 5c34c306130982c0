"""加签 and 减签 on the ticket page: the form beside the decision, the waiting task with no
decision buttons and "等待加签人处理", the timeline's add-sign line, removing the signers,
and a refusal shown at its field (zh/en)."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from


def _task_id(page: str, action: str) -> str:
    found = re.search(rf"/tasks/([0-9a-f]+)/{action}", page)
    assert found, f"no {action} form"
    return found.group(1)


def _at_disburse(browser: Callable[..., Browser]) -> str:
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="30,000.00")
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    approved = manager.post(
        f"/tasks/{_task_id(page, 'approve')}/approve",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "comment": "同意"},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    return ticket_id


def _add(who: Browser, ticket_id: str, **data: str):  # type: ignore[no-untyped-def]
    page = who.get(f"/tickets/{ticket_id}").text
    return who.post(
        f"/tasks/{_task_id(page, 'add-signers')}/add-signers",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, **data},
        follow_redirects=False,
    )


def test_before_the_holder_waits_and_the_signer_decides(browser: Callable[..., Browser]) -> None:
    ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei")
    page = disburser.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="add-sign-form"' in page and "加签人用户名" in page
    done = _add(
        disburser,
        ticket_id,
        add_sign_users="he.jia",
        add_sign_position="before",
        add_sign_mode="all",
        add_sign_comment="请复核金额",
    )
    assert done.status_code == 303, done.text
    page = disburser.get(done.headers["location"]).text
    assert "已为您的任务加签。" in page
    # the waiting task: no decision buttons, the note, the pending signer, a 减签 form
    assert 'data-testid="decision-bar"' not in page
    assert "等待加签人处理" in page and 'data-testid="waiting-note"' in page
    assert 'data-testid="remove-sign-form"' in page
    timeline = page[page.index('data-testid="timeline"') :]
    line = timeline[timeline.index('data-testid="add-sign-line"') :][:300]
    assert "前加签" in line and "请复核金额" in timeline
    # the added signer decides; then the holder decides again
    signer = browser("he.jia")
    signer_page = signer.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="decision-bar"' in signer_page
    assert 'data-testid="add-sign-form"' in signer_page  # offered; depth 1 refuses it (409)
    approved = signer.post(
        f"/tasks/{_task_id(signer_page, 'approve')}/approve",
        data={"csrf_token": csrf_from(signer_page), "ticket_id": ticket_id},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    back = disburser.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="decision-bar"' in back and 'data-testid="waiting-note"' not in back


def test_removing_the_signer_gives_the_task_back(browser: Callable[..., Browser]) -> None:
    ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei")
    _add(disburser, ticket_id, add_sign_users="he.jia", add_sign_position="before")
    page = disburser.get(f"/tickets/{ticket_id}").text
    task_id = _task_id(page, "remove-signer")
    refused = disburser.post(
        f"/tasks/{task_id}/remove-signer",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id},
    )
    assert refused.status_code == 422
    assert "请选择要减签的人。" in refused.text
    user_id = re.search(r'name="remove_users" value="([a-z.]+)"', page)
    assert user_id
    removed = disburser.post(
        f"/tasks/{task_id}/remove-signer",
        data={
            "csrf_token": csrf_from(page),
            "ticket_id": ticket_id,
            "remove_users": user_id.group(1),
            "remove_comment": "不需要了",
        },
        follow_redirects=False,
    )
    assert removed.status_code == 303, removed.text
    page = disburser.get(removed.headers["location"]).text
    assert "已减签。" in page and 'data-testid="decision-bar"' in page
    assert 'data-testid="remove-sign-line"' in page


def test_a_refusal_is_shown_at_the_field_with_what_was_typed(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei")
    refused = _add(disburser, ticket_id, add_sign_users="no.such.person", add_sign_position="after")
    assert refused.status_code == 422
    assert 'data-testid="add-sign-error"' in refused.text
    assert "没有该用户名的用户" in refused.text or "没有" in refused.text
    assert 'value="no.such.person"' in refused.text
    assert 'value="after" checked' in refused.text
    myself = _add(disburser, ticket_id, add_sign_users="zhao.lei", add_sign_position="before")
    assert myself.status_code == 422 and "不能给自己加签。" in myself.text


def test_the_english_page(browser: Callable[..., Browser]) -> None:
    ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei", locale="en")
    done = _add(disburser, ticket_id, add_sign_users="he.jia", add_sign_position="after")
    assert done.status_code == 303, done.text
    page = disburser.get(f"/tickets/{ticket_id}").text
    assert "Waiting for the added signers" in page
    assert "approved and added" in page


def test_add_sign_and_remove_need_the_csrf_token(browser: Callable[..., Browser]) -> None:
    ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei")
    page = disburser.get(f"/tickets/{ticket_id}").text
    task_id = _task_id(page, "add-signers")
    for action, data in (
        ("add-signers", {"add_sign_users": "he.jia", "add_sign_position": "before"}),
        ("remove-signer", {"remove_users": "he.jia"}),
    ):
        for token in ({}, {"csrf_token": "x" * 43}):
            response = disburser.post(
                f"/tasks/{task_id}/{action}",
                data={"ticket_id": ticket_id, **data, **token},
                follow_redirects=False,
            )
            assert response.status_code == 403, action
    assert 'data-kind="task_add_sign"' not in disburser.get(f"/tickets/{ticket_id}").text


def test_alongside_the_holder_still_decides_and_may_remove_the_signer(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei")
    done = _add(disburser, ticket_id, add_sign_users="he.jia", add_sign_position="parallel")
    assert done.status_code == 303, done.text
    page = disburser.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="decision-bar"' in page and 'data-testid="waiting-note"' not in page
    card = page[page.index('data-testid="sign-card"') :]
    assert "加签人：" in card[:400] and 'data-testid="remove-sign-form"' in card
    assert 'data-testid="add-sign-form"' not in page  # one chain at a time
    timeline = page[page.index('data-testid="timeline"') :]
    assert "并加签" in timeline
