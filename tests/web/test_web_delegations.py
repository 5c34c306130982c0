"""The out-of-office page: a substitute set in China time, listed and ended; its errors
in the page's language; and the ticket's history naming on whose behalf a substitute
decided."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from web_helpers import Browser, csrf_from

from flowdesk.web.i18n import DISPLAY_ZONE


def _local(delta: timedelta) -> str:
    return (datetime.now(DISPLAY_ZONE) + delta).strftime("%Y-%m-%dT%H:%M")


def _set(who: Browser, delegate: str, start: timedelta, end: timedelta):  # type: ignore[no-untyped-def]
    page = who.get("/delegations").text
    return who.post(
        "/delegations",
        data={
            "csrf_token": csrf_from(page),
            "delegate": delegate,
            "starts_at": _local(start),
            "ends_at": _local(end),
            "note": "年假",
        },
        follow_redirects=False,
    )


def test_a_substitute_is_set_and_decides_on_the_principals_behalf(
    browser: Callable[..., Browser],
) -> None:
    manager = browser("li.na")
    assert 'href="/delegations"' in manager.get("/tasks").text
    done = _set(manager, "huang.lei", timedelta(minutes=-5), timedelta(days=3))
    assert done.status_code == 303, done.text
    page = manager.get("/delegations").text
    assert "代理人已设置。" in page and "黄磊 代 李娜" in page and "生效中" in page
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    deputy = browser("huang.lei")
    ticket = deputy.get(f"/tickets/{ticket_id}").text
    task_id = re.search(r"/tasks/([0-9a-f]+)/approve", ticket)
    assert task_id, "the substitute holds the task"
    approved = deputy.post(
        f"/tasks/{task_id.group(1)}/approve",
        data={"csrf_token": csrf_from(ticket), "ticket_id": ticket_id, "comment": "同意"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    after = deputy.get(f"/tickets/{ticket_id}").text
    line = after[after.index('data-kind="task_approved"') :][:1200]
    assert "黄磊" in line and "代 李娜" in line
    revoke = re.search(r'action="(/delegations/[0-9a-f]+/revoke)"', page)
    assert revoke
    ended = manager.post(
        revoke.group(1), data={"csrf_token": csrf_from(page)}, follow_redirects=False
    )
    assert ended.status_code == 303
    assert "已结束" in manager.get("/delegations").text


def test_errors_are_shown_in_the_pages_language(browser: Callable[..., Browser]) -> None:
    manager = browser("li.na")
    reversed_period = _set(manager, "huang.lei", timedelta(days=2), timedelta(days=1))
    assert reversed_period.status_code == 422
    assert "结束时间须晚于开始时间。" in reversed_period.text
    assert 'value="huang.lei"' in reversed_period.text  # what was typed is kept
    english = browser("li.na", locale="en")
    unknown = _set(english, "nobody.here", timedelta(0), timedelta(days=1))
    assert unknown.status_code == 422 and "There is no user with that username." in unknown.text
    forged = manager.post("/delegations", data={"delegate": "huang.lei"}, follow_redirects=False)
    assert forged.status_code == 403
