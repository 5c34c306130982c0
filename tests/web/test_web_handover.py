"""The hand-over card on a person's admin page: how many open tasks wait on them, the
hand-over to their manager or to someone chosen, and the report of what stayed."""

from __future__ import annotations

from collections.abc import Callable

from web_helpers import Browser, csrf_from


def test_an_administrator_hands_over_a_persons_open_tasks(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    filed = [applicant.file_loan(amount="30,000.00") for _ in range(2)]
    admin = browser("admin")
    page = admin.get("/admin/users/li.na").text
    assert 'data-testid="handover-form"' in page and "此人名下的待办：2 件" in page
    # the header names who is logged in, not the person edited (and keeps the admin link)
    assert 'title="admin">系统管理员</span>' in page and 'data-testid="nav-admin"' in page
    done = admin.post(
        "/admin/users/li.na/hand-over",
        data={"csrf_token": csrf_from(page), "handover_to": "", "handover_comment": "调岗"},
    )
    assert done.status_code == 200, done.text
    assert "已交接给 zhou.hang 的待办：2 件" in done.text
    assert 'data-testid="handover-left"' not in done.text
    assert 'data-testid="no-open-tasks"' in admin.get("/admin/users/li.na").text
    president = browser("zhou.hang")
    assert all("/approve" in president.get(f"/tickets/{t}").text for t in filed)


def test_a_refused_hand_over_says_why_and_moves_nothing(browser: Callable[..., Browser]) -> None:
    browser("zhang.wei").file_loan(amount="30,000.00")
    admin = browser("admin", locale="en")
    page = admin.get("/admin/users/li.na").text
    refused = admin.post(
        "/admin/users/li.na/hand-over",
        data={"csrf_token": csrf_from(page), "handover_to": "nobody.here"},
    )
    assert refused.status_code == 422
    assert "There is no user with that username. Nothing was handed over." in refused.text
    assert "Open tasks waiting on this person: 1" in admin.get("/admin/users/li.na").text
    clerk = browser("zhang.wei")
    forbidden = clerk.post(
        "/admin/users/li.na/hand-over",
        data={"csrf_token": csrf_from(clerk.get("/").text), "handover_to": "huang.lei"},
    )
    assert forbidden.status_code == 403
