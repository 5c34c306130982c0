"""The ticket page's 催办 button and comment form: CSRF, button state, errors (ADR 0017)."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from

from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext

URGE_BUTTON = re.compile(r'<button[^>]*data-testid="urge"[^>]*>')


def _urge_button(html: str) -> str | None:
    found = URGE_BUTTON.search(html)
    return found.group(0) if found else None


def _post(who: Browser, ticket_id: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    page = who.get(f"/tickets/{ticket_id}")
    return who.post(
        f"/tickets/{ticket_id}/{action}",
        data={"csrf_token": csrf_from(page.text), **data},
        follow_redirects=False,
    )


def test_the_requester_urges_and_the_button_then_waits_with_the_time(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan()
    page = requester.get(f"/tickets/{ticket_id}")
    button = _urge_button(page.text)
    assert button is not None and "disabled" not in button
    assert ">催办</button>" in page.text

    response = _post(requester, ticket_id, "urge")
    assert response.status_code == 303, response.text
    after = requester.get(response.headers["location"])
    assert "已催办处理人。" in after.text  # the flash
    button = _urge_button(after.text)
    assert button is not None and "disabled" in button
    assert 'data-testid="urge-wait"' in after.text and "后可再次催办" in after.text
    timeline = after.text[after.text.index('data-testid="timeline"') :]
    urged = timeline[timeline.index('data-kind="ticket_urged"') :]
    assert "催办" in urged[:400]
    # Who urged whom: "张伟 催办了 王芳、刘洋、马丽" (the holders of both open reviews).
    who = re.search(r'data-testid="urged">([^<]*)<', urged)
    assert who is not None
    assert who.group(1).startswith("张伟 催办了 ")
    assert set(who.group(1).removeprefix("张伟 催办了 ").split("、")) == {"王芳", "刘洋", "马丽"}

    again = _post(requester, ticket_id, "urge")
    assert again.status_code == 429
    assert 14_390 <= int(again.headers["Retry-After"]) <= 14_400
    assert "后可再次催办" in again.text

    jobs.run_due(demo_ctx, owner="test")
    holder = browser("liu.yang")
    notices = holder.get("/notifications").text
    assert "您的待办被催办，请尽快处理" in notices


def test_the_urge_button_is_english_too(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    requester = browser("zhang.wei", locale="en")
    ticket_id = requester.file_loan()
    assert ">Urge</button>" in requester.get(f"/tickets/{ticket_id}").text
    _post(requester, ticket_id, "urge")
    page = requester.get(f"/tickets/{ticket_id}").text
    assert "Urged already. You can urge again at" in page
    assert re.search(r'data-testid="urged">张伟 urged [^<]*刘洋', page)
    jobs.run_due(demo_ctx, owner="test")
    notices = browser("liu.yang", locale="en").get("/notifications").text
    assert "You are urged to act on a task" in notices


def test_only_the_requester_sees_the_urge_button(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    holder = browser("liu.yang")
    assert _urge_button(holder.get(f"/tickets/{ticket_id}").text) is None
    refused = _post(holder, ticket_id, "urge")
    assert refused.status_code == 403
    assert 'data-testid="urge-error"' in refused.text
    assert "只有申请人或管理员可以催办此工单。" in refused.text


def test_a_finished_ticket_offers_no_urge(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei", locale="en")
    ticket_id = requester.file_loan(amount="30,000.00")
    approver = browser("li.na")
    page = approver.get(f"/tickets/{ticket_id}").text
    task = re.search(r"/tasks/([0-9a-f]{32})/approve", page)
    assert task is not None
    rejected = approver.post(
        f"/tasks/{task.group(1)}/reject",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "comment": "no"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    assert _urge_button(requester.get(f"/tickets/{ticket_id}").text) is None
    refused = _post(requester, ticket_id, "urge")
    assert refused.status_code == 409
    assert "This ticket has finished; there is no one to urge." in refused.text


def test_urge_and_comment_need_the_csrf_token(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan()
    for action, data in (("urge", {}), ("comments", {"note": "hello"})):
        response = requester.post(
            f"/tickets/{ticket_id}/{action}", data=data, follow_redirects=False
        )
        assert response.status_code == 403, action
        wrong = requester.post(
            f"/tickets/{ticket_id}/{action}",
            data={**data, "csrf_token": "x" * 43},
            follow_redirects=False,
        )
        assert wrong.status_code == 403, action
    page = requester.get(f"/tickets/{ticket_id}").text
    assert 'data-kind="ticket_urged"' not in page
    assert 'data-kind="comment_added"' not in page


def test_a_participant_comments_and_everyone_reading_sees_it(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    holder = browser("liu.yang", locale="en")
    response = _post(holder, ticket_id, "comments", note="Please attach the bank statements")
    assert response.status_code == 303, response.text
    after = holder.get(response.headers["location"]).text
    assert "Your comment was added." in after
    timeline = after[after.index('data-testid="timeline"') :]
    entry = timeline[timeline.index('data-kind="comment_added"') :]
    assert "Commented" in entry[:400]
    assert "Please attach the bank statements" in entry[:1200]
    requester_page = browser("zhang.wei").get(f"/tickets/{ticket_id}").text
    assert "Please attach the bank statements" in requester_page
    jobs.run_due(demo_ctx, owner="test")
    assert "工单有新评论" in browser("zhang.wei").get("/notifications").text


def test_a_bad_comment_is_shown_beside_the_box_and_kept(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan()
    blank = _post(requester, ticket_id, "comments", note="\u200b  ")
    assert blank.status_code == 422
    assert 'data-testid="comment-error"' in blank.text
    assert "请填写评论内容" in blank.text
    assert 'aria-invalid="true"' in blank.text
    long_text = "长" * 2001
    too_long = _post(requester, ticket_id, "comments", note=long_text)
    assert too_long.status_code == 422
    assert "最多 2000 个字符" in too_long.text
    assert long_text in too_long.text  # what they typed is not lost
    assert 'data-kind="comment_added"' not in requester.get(f"/tickets/{ticket_id}").text


def test_a_stranger_cannot_comment(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    stranger = browser("wu.min")
    token = csrf_from(stranger.get("/apps").text)
    response = stranger.post(
        f"/tickets/{ticket_id}/comments",
        data={"csrf_token": token, "note": "hi"},
        follow_redirects=False,
    )
    assert response.status_code == 404
