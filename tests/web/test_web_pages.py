"""CSRF, language choice, notifications, error pages and the page shell."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_helpers import LOAN, Browser, csrf_from

from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import jobs, request_auth, tickets, views
from flowdesk.services.context import ServiceContext


def _actor(ctx: ServiceContext, me: Browser) -> Actor:
    found = request_auth.session(ctx, me.client.cookies.get("flowdesk_session") or "")
    assert found is not None
    return found.actor


def _my_tickets(ctx: ServiceContext, me: Browser) -> list[views.TicketSummary]:
    return views.tickets(ctx, _actor(ctx, me), mine=True).items


# ---------- CSRF ----------


def test_post_without_csrf_token_is_refused_and_changes_nothing(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei")
    response = me.post("/apps/loan/new", data=LOAN, follow_redirects=False)
    assert response.status_code == 403
    assert "表单已过期或来源无效" in response.text
    assert _my_tickets(demo_ctx, me) == []


def test_post_with_a_wrong_csrf_token_is_refused(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    other = browser("zhang.wei")  # a second session of the same person has its own token
    response = me.post(
        "/apps/loan/new", data={**LOAN, "csrf_token": other.csrf()}, follow_redirects=False
    )
    assert response.status_code == 403


def test_csrf_token_in_the_htmx_header_is_accepted(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei")
    response = me.post(
        "/apps/loan/new",
        data=LOAN,
        headers={"X-CSRF-Token": me.csrf()},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert len(_my_tickets(demo_ctx, me)) == 1


def test_every_page_sets_the_csrf_header_for_htmx(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    html = me.get("/").text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{me.csrf()}"}}\'' in html


# ---------- language ----------


def test_language_follows_the_browser_then_the_cookie(app: FastAPI) -> None:
    english = Browser(app, locale="en")
    assert "Log in to flowdesk" in english.get("/login").text
    chinese = Browser(app, locale="zh")
    assert "登录 flowdesk" in chinese.get("/login").text
    switched = chinese.get("/locale/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    assert "flowdesk_locale=en" in switched.headers["set-cookie"]
    assert "Log in to flowdesk" in chinese.get("/login").text
    chinese.get("/locale/zh")
    assert "登录 flowdesk" in chinese.get("/login").text


def test_unknown_language_and_foreign_next_are_ignored(anon: Browser) -> None:
    response = anon.get("/locale/fr?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"
    assert "set-cookie" not in response.headers


def test_switching_language_keeps_the_page(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    html = me.get("/tickets?status=running").text
    assert 'href="/locale/en?next=/tickets%3Fstatus%3Drunning"' in html
    me.get("/locale/en?next=/tickets%3Fstatus%3Drunning")
    page = me.get("/apps/loan/new").text
    assert "Loan amount" in page and "贷款金额" not in page
    assert '<html lang="en">' in page


def test_times_are_shown_in_china_time(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei")
    ticket_id = me.file_loan()
    created = views.ticket(demo_ctx, _actor(demo_ctx, me), ticket_id).created_at
    html = me.get(f"/tickets/{ticket_id}").text
    shown = (created + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert f'<time datetime="{created.isoformat()}" title="{shown} (UTC+8)">{shown}</time>' in html
    assert "时间均为北京时间（UTC+8）" in html


# ---------- notifications ----------


def test_notifications_are_listed_and_stay_unread_until_marked(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    """Looking changes nothing (tests/web/test_web_notifications.py marks them read)."""
    ticket_id = browser("zhang.wei").file_loan()
    stats = jobs.run_due(demo_ctx, owner="test")  # the notify job the worker would run
    assert stats.done >= 1
    legal = browser("wang.fang")
    home = legal.get("/").text
    assert 'data-testid="unread-badge">1<' in home
    page = legal.get("/notifications").text
    assert "有新的待办任务" in page
    assert f'href="/tickets/{ticket_id}#task-' in page
    assert 'data-testid="unread-badge">1<' in page
    assert "有新的待办任务" in legal.get("/notifications").text


@pytest.mark.parametrize(
    ("locale", "older", "none_older"),
    [
        ("zh", "更早的通知", "没有更早的未读通知。"),
        ("en", "Older notifications", "No older unread notifications."),
    ],
)
def test_more_than_fifty_notifications_page_in_by_cursor(
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    actors: dict[str, Actor],
    locale: str,
    older: str,
    none_older: str,
) -> None:
    clock = FrozenClock()
    demo_ctx.clock = clock
    for index in range(53):  # each small loan notifies the branch manager once
        tickets.submit(
            demo_ctx,
            actor=actors["zhang.wei"],
            app_key="loan",
            values={**LOAN, "amount": "1000", "applicant_name": f"客户{index:02d}"},
            source="html",
        )
        jobs.run_due(demo_ctx, owner="test")
        clock.advance(timedelta(seconds=1))
    manager = browser("li.na", locale=locale)
    first = manager.get("/notifications").text
    assert first.count('data-testid="notification"') == 50
    assert "客户52" in first and "客户03" in first and "客户02" not in first  # newest first
    cursor = re.search(r'hx-get="/notifications\?cursor=([0-9a-f]{32})"', first)
    assert cursor, "no way to see older notifications"
    assert f">{older}</a>" in first
    assert f'href="/notifications?cursor={cursor.group(1)}"' in first  # works without script

    more = manager.get(f"/notifications?cursor={cursor.group(1)}", headers={"HX-Request": "true"})
    assert more.status_code == 200
    assert more.text.lstrip().startswith("<li")  # a fragment to append, not a page
    assert more.text.count('data-testid="notification"') == 3
    assert all(f"客户{index:02d}" in more.text for index in range(3))
    assert "load-more" not in more.text
    assert 'data-testid="unread-badge">53<' in more.text  # the nav badge, out of band

    # "Mark all as read" from the first page: its newest and every older one.
    newest = re.search(r'name="up_to" value="([0-9a-f]{32})"', first)
    assert newest
    marked = manager.post(
        "/notifications/read",
        data={"csrf_token": csrf_from(first), "up_to": newest.group(1)},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    again = manager.get(f"/notifications?cursor={cursor.group(1)}").text
    assert none_older in again
    assert 'data-testid="unread-badge">0<' in again
    assert manager.get("/notifications?cursor=nope").status_code == 422

    # All of them, read ones marked, still newest first and paging the same way.
    everything = manager.get("/notifications?show=all").text
    assert everything.count('data-testid="notification"') == 50
    assert everything.count(" is-read") == 50 and "客户52" in everything
    read_label = "已读" if locale == "zh" else "Read"
    assert f" · {read_label}</div>" in everything
    assert 'data-testid="show-unread"' in everything
    older_all = re.search(
        r'hx-get="/notifications\?show=all&amp;cursor=([0-9a-f]{32})"', everything
    )
    assert older_all, "the older link of the full list must keep showing all"
    rest = manager.get(f"/notifications?show=all&cursor={older_all.group(1)}").text
    assert rest.count('data-testid="notification"') == 3
    assert manager.get("/notifications?show=some").status_code == 400  # a malformed address


# ---------- errors and shell ----------


def test_unknown_page_is_a_localized_404(browser: Callable[..., Browser], app: FastAPI) -> None:
    page = browser("zhang.wei").get("/no/such/page")
    assert page.status_code == 404
    assert "页面不存在" in page.text
    assert 'data-testid="task-badge"' in page.text  # logged in: the nav is still there
    english = Browser(app, locale="en").get("/no/such/page")
    assert english.status_code == 404
    assert "Not found" in english.text


def test_unknown_api_paths_still_get_problem_json(anon: Browser) -> None:
    response = anon.get("/api/v2/tickets")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_rest_api_keeps_its_own_json_errors(anon: Browser) -> None:
    response = anon.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_method_not_allowed_is_an_html_page(anon: Browser) -> None:
    response = anon.client.put("/login")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")


def test_unexpected_errors_show_a_500_page_without_a_stack_trace(
    app: FastAPI, browser: Callable[..., Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    me = browser("zhang.wei")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr(views, "task_list", broken)
    client = TestClient(app, raise_server_exceptions=False, cookies=me.client.cookies)
    response = client.get("/tasks", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 500
    assert "系统出错了" in response.text
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


def test_pages_carry_security_headers(browser: Callable[..., Browser]) -> None:
    response = browser("zhang.wei").get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_vendored_scripts_and_styles_are_served(anon: Browser) -> None:
    html = anon.get("/login").text
    for path in ("vendor/htmx-2.0.11.min.js", "vendor/alpine-3.17.5.min.js", "app.css", "app.js"):
        assert f"/static/{path}?v=" in html
        assert anon.get(f"/static/{path}").status_code == 200


def test_home_shows_my_tasks_and_my_tickets(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    empty = me.get("/").text
    assert "暂无待办任务" in empty
    assert "你还没有提交过工单" in empty
    me.file_loan()
    html = me.get("/").text
    assert "贷款审批 · 李雷" in html
    assert "审批中" in html
