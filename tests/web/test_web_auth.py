"""Logging in and out of the web UI, redirects for anonymous visitors, throttling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_helpers import Browser

from flowdesk.main import create_app
from flowdesk.services.context import ServiceContext
from flowdesk.services.hashing import PasswordHashPool
from flowdesk.settings import AuthSettings, Settings
from flowdesk.web.session import SESSION_COOKIE, safe_next


def test_anonymous_page_request_redirects_to_login_with_next(anon: Browser) -> None:
    response = anon.get("/tasks?cursor=abc", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/tasks%3Fcursor%3Dabc"
    login = anon.get(response.headers["location"])
    assert 'name="next" value="/tasks?cursor=abc"' in login.text


def test_anonymous_htmx_request_gets_hx_redirect(anon: Browser) -> None:
    response = anon.get(
        "/tasks?cursor=" + "0" * 32,
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/tasks"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/tasks"


def test_login_sets_a_hardened_session_cookie_and_follows_next(anon: Browser) -> None:
    response = anon.login("zhang.wei", next_path="/tickets?status=running")
    assert response.status_code == 303
    assert response.headers["location"] == "/tickets?status=running"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie
    home = anon.get("/")
    assert home.status_code == 200
    assert "张伟" in home.text


def test_secure_cookie_when_configured(demo_ctx: ServiceContext) -> None:
    settings = Settings(dev=True, run_worker=False, auth=AuthSettings(secure_cookies=True))
    browser = Browser(create_app(settings, demo_ctx, migrate=False), base_url="https://testserver")
    response = browser.login("zhang.wei")
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "Secure" in cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", "x"])
def test_login_never_redirects_off_site(anon: Browser, target: str) -> None:
    response = anon.login("zhang.wei", next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_safe_next_keeps_local_paths_only() -> None:
    assert safe_next("/tickets/abc?x=1") == "/tickets/abc?x=1"
    assert safe_next("/\x00x") == "/"
    assert safe_next(None) == "/"


def test_wrong_password_shows_the_form_again_with_a_localized_message(anon: Browser) -> None:
    response = anon.login("zhang.wei", password="wrong")
    assert response.status_code == 422
    assert "用户名或密码错误" in response.text
    assert 'value="zhang.wei"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_wrong_password_in_english(app: FastAPI) -> None:
    browser = Browser(app, locale="en")
    response = browser.login("nobody", password="wrong")
    assert response.status_code == 422
    assert "Wrong username or password." in response.text


def test_repeated_failures_are_throttled_with_retry_after(anon: Browser) -> None:
    for _ in range(5):
        assert anon.login("zhang.wei", password="wrong").status_code == 422
    response = anon.login("zhang.wei")  # even the right password, while locked
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in response.text
    assert "5 分钟后再试" in response.text


def test_login_without_the_form_token_is_refused(anon: Browser) -> None:
    anon.login_form_token()
    response = anon.post(
        "/login",
        data={"username": "zhang.wei", "password": "Demo@2026", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "表单已过期" in response.text


def test_login_page_when_already_logged_in_goes_home(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    response = me.get("/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_logout_needs_the_csrf_token_and_ends_the_session(
    browser: Callable[..., Browser],
) -> None:
    me = browser("zhang.wei")
    refused = me.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert me.get("/", follow_redirects=False).status_code == 200
    done = me.post("/logout", data={"csrf_token": me.csrf()}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert me.get("/", follow_redirects=False).status_code == 303


def test_anonymous_post_is_sent_to_login(anon: Browser) -> None:
    response = anon.post("/apps/loan/new", data={"csrf_token": "x"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_a_stranger_failing_on_a_username_does_not_lock_its_owner_out(app: FastAPI) -> None:
    stranger = Browser(app)
    stranger.client.headers["X-Forwarded-For"] = "192.0.2.10"  # not believed: no trusted proxy
    for _ in range(5):
        assert stranger.login("zhang.wei", password="wrong").status_code == 422
    assert stranger.login("zhang.wei").status_code == 429
    # The owner, at another address (a different peer), logs in.
    owner = Browser(app)
    owner.client = TestClient(app, client=("192.0.2.10", 50000))
    assert owner.login("zhang.wei").status_code == 303


def test_a_busy_hash_pool_shows_a_retry_soon_message(
    anon: Browser, demo_ctx: ServiceContext
) -> None:
    demo_ctx.hash_pool = PasswordHashPool(workers=1, queue=0)
    with demo_ctx.hash_pool.slot():  # the one place is taken
        response = anon.login("zhang.wei")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "当前登录的人很多" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert anon.login("zhang.wei").status_code == 303
