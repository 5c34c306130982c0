"""Working tasks in the web UI: inbox, badge, approve, reject, conflicts, visibility."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx2 as httpx
import pytest
from web_helpers import Browser, csrf_from

TASK_FORM = re.compile(r'action="/tasks/([0-9a-f]{32})/approve"')


def badge(html: str) -> int:
    found = re.search(r'data-testid="task-badge">(\d+)<', html)
    assert found, "no task badge"
    return int(found.group(1))


def task_id_on(html: str) -> str:
    found = TASK_FORM.search(html)
    assert found, "no approve form on the page"
    return found.group(1)


def decide(
    who: Browser, ticket_id: str, outcome: str, comment: str = ""
) -> tuple[str, httpx.Response]:
    page = who.get(f"/tickets/{ticket_id}")
    task_id = task_id_on(page.text)
    response = who.post(
        f"/tasks/{task_id}/{outcome}",
        data={"csrf_token": csrf_from(page.text), "ticket_id": ticket_id, "comment": comment},
        follow_redirects=False,
    )
    return task_id, response


def test_approver_sees_the_task_in_the_inbox_with_the_badge(
    browser: Callable[..., Browser],
) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan()
    approver = browser("liu.yang")
    inbox = approver.get("/tasks")
    assert inbox.status_code == 200
    assert badge(inbox.text) == 1
    assert 'data-testid="tasks-count">1<' in inbox.text
    assert f'href="/tickets/{ticket_id}#task-' in inbox.text
    assert "贷款审批 · 李雷" in inbox.text
    assert "财务审查" in inbox.text
    assert badge(approver.get("/").text) == 1
    assert badge(requester.get("/").text) == 0
    home = approver.get("/").text
    assert 'data-testid="home-task-count">1<' in home


def test_approve_through_the_ui(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    legal = browser("wang.fang")
    page = legal.get(f"/tickets/{ticket_id}")
    assert 'data-testid="task-form"' in page.text
    assert "你的审批" in page.text
    _, response = decide(legal, ticket_id, "approve", "材料齐全，同意")
    assert response.status_code == 303
    assert response.headers["location"] == f"/tickets/{ticket_id}"
    after = legal.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="flash">已同意。' in after
    assert "材料齐全，同意" in after
    assert 'data-kind="task_approved"' in after
    assert 'data-testid="task-form"' not in after  # nothing left for wang.fang
    assert badge(after) == 0


def test_reject_needs_a_reason_in_the_ui(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan()
    finance = browser("liu.yang")
    _, refused = decide(finance, ticket_id, "reject", "   ")
    assert refused.status_code == 422
    assert "驳回时请填写理由。" in refused.text
    assert "审批中" in requester.get(f"/tickets/{ticket_id}").text

    _, response = decide(finance, ticket_id, "reject", "收入证明不足")
    assert response.status_code == 303
    page = requester.get(f"/tickets/{ticket_id}").text
    assert "已驳回" in page
    assert "收入证明不足" in page
    assert 'data-kind="ticket_rejected"' in page
    assert 'data-testid="open-task"' not in page


@pytest.mark.parametrize(
    ("locale", "too_long", "bad_characters"),
    [
        (
            "zh",
            "审批意见过长（最多 2000 个字符）",
            "审批意见包含不允许的控制字符",
        ),
        (
            "en",
            "The comment is too long (at most 2000 characters)",
            "The comment contains control characters that are not allowed",
        ),
    ],
)
def test_a_bad_comment_is_explained_next_to_the_comment_box_in_the_users_language(
    browser: Callable[..., Browser], locale: str, too_long: str, bad_characters: str
) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    finance = browser("liu.yang", locale=locale)
    for comment, expected in (("x" * 2001, too_long), ("同意\x07", bad_characters)):
        task_id, refused = decide(finance, ticket_id, "approve", comment)
        assert refused.status_code == 422
        field_error = re.search(
            rf'<p class="field-error" id="comment-{task_id}-error">([^<]*)</p>', refused.text
        )
        assert field_error, "no error under the comment box"
        assert field_error.group(1) == expected
        assert f'aria-describedby="comment-{task_id}-error"' in refused.text
        assert 'data-testid="action-error"' in refused.text
        assert "validation" not in refused.text.lower()
    # Nothing was decided: the task is still waiting for liu.yang.
    assert 'data-testid="task-form"' in finance.get(f"/tickets/{ticket_id}").text


def test_approving_an_already_approved_task_shows_409_on_the_page(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    first = browser("liu.yang")
    second = browser("ma.li")  # the same finance review task is also assigned to ma.li
    page_seen_by_second = second.get(f"/tickets/{ticket_id}").text
    task_id, done = decide(first, ticket_id, "approve", "同意")
    assert done.status_code == 303
    late = second.post(
        f"/tasks/{task_id}/approve",
        data={
            "csrf_token": csrf_from(page_seen_by_second),
            "ticket_id": ticket_id,
            "comment": "我也同意",
        },
        follow_redirects=False,
    )
    assert late.status_code == 409
    assert 'data-testid="action-error"' in late.text
    assert "该任务已被处理" in late.text
    assert "Traceback" not in late.text
    assert "贷款审批 · 李雷" in late.text  # still the ticket page, not a crash


def test_someone_who_is_not_an_assignee_cannot_decide(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    task_id = task_id_on(browser("liu.yang").get(f"/tickets/{ticket_id}").text)
    outsider = browser("admin")  # may read every ticket, but is no assignee
    response = outsider.post(
        f"/tasks/{task_id}/approve",
        data={"csrf_token": outsider.csrf(), "ticket_id": ticket_id},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "只有该任务的处理人才能审批" in response.text


def test_hidden_and_missing_tickets_are_404(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    stranger = browser("wu.min")
    hidden = stranger.get(f"/tickets/{ticket_id}")
    assert hidden.status_code == 404
    assert "该工单不存在，或你没有查看权限。" in hidden.text
    assert "李雷" not in hidden.text
    missing = stranger.get("/tickets/" + "0" * 32)
    assert missing.status_code == 404
    assert missing.text.count("404") >= 1
    assert stranger.get("/tickets/not-an-id").status_code == 404


def test_my_tickets_lists_and_filters(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    ticket_id = me.file_loan()
    listed = me.get("/tickets").text
    assert f'href="/tickets/{ticket_id}"' in listed
    assert f'href="/tickets/{ticket_id}"' in me.get("/tickets?status=running").text
    assert f'href="/tickets/{ticket_id}"' not in me.get("/tickets?status=approved").text
    assert "没有符合筛选条件的工单" in me.get("/tickets?status=rejected").text
    assert ticket_id not in browser("wu.min").get("/tickets").text
    assert "贷款审批 · 李雷" in me.get("/").text


def test_inbox_loads_more_with_a_cursor(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    for index in range(21):
        requester.file_loan(amount="1000.00", applicant_name=f"客户{index:02d}")
    manager = browser("li.na")  # small loans go to the applicant's branch manager
    first = manager.get("/tasks").text
    assert badge(first) == 21
    assert first.count('data-testid="task-row"') == 20
    assert "客户20" in first and "客户00" not in first  # newest first
    cursor = re.search(r'hx-get="/tasks\?tab=open&amp;cursor=([A-Za-z0-9_-]+)"', first)
    assert cursor
    more = manager.get(f"/tasks?cursor={cursor.group(1)}", headers={"HX-Request": "true"})
    assert more.status_code == 200
    assert more.text.lstrip().startswith("<tr")  # a fragment, not a page
    assert more.text.count('data-testid="task-row"') == 1
    assert "客户00" in more.text
    assert "load-more" not in more.text
    assert manager.get("/tasks?cursor=bad").status_code == 400


def test_full_loan_through_the_ui_ends_approved(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan()
    for who in ("liu.yang", "wang.fang", "chen.jing", "zhao.lei"):
        _, response = decide(browser(who), ticket_id, "approve", f"{who} 同意")
        assert response.status_code == 303, who
    page = requester.get(f"/tickets/{ticket_id}").text
    assert 'class="status status-approved" data-testid="status">已通过<' in page
    for step in ("财务审查", "法务审查", "信贷审批委员会", "放款"):
        assert step in page
    assert page.count('data-kind="task_approved"') == 4
    assert 'data-kind="ticket_approved"' in page
    assert "已于" in page  # finished at …
