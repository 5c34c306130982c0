"""GET /notifications changes nothing; marking read is a POST with the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from

from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext

BADGE = re.compile(r'data-testid="unread-badge">(\d+)<')
MARK_ONE = re.compile(r'action="/notifications/([0-9a-f]{32})/read"')
UP_TO = re.compile(r'name="up_to" value="([0-9a-f]{32})"')


def _unread(who: Browser) -> int:
    found = BADGE.search(who.get("/").text)
    assert found
    return int(found.group(1))


def _two_notices(browser: Callable[..., Browser], demo_ctx: ServiceContext) -> Browser:
    requester = browser("zhang.wei")
    requester.file_loan()
    requester.file_loan()
    jobs.run_due(demo_ctx, owner="test")
    return browser("wang.fang", locale="en")


def test_looking_at_notifications_marks_nothing_read(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    legal = _two_notices(browser, demo_ctx)
    assert _unread(legal) == 2
    for url in ("/notifications", "/notifications?show=all", "/notifications"):
        assert legal.get(url).status_code == 200
        assert _unread(legal) == 2
    page = legal.get("/notifications").text
    assert page.count('data-testid="notification"') == 2
    assert page.count('data-testid="mark-read"') == 2
    assert 'data-testid="mark-all-read"' in page


def test_marking_read_needs_the_csrf_token(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    legal = _two_notices(browser, demo_ctx)
    page = legal.get("/notifications").text
    one = MARK_ONE.search(page)
    newest = UP_TO.search(page)
    assert one and newest
    for url, data in (
        ("/notifications/read", {"up_to": newest.group(1)}),
        (f"/notifications/{one.group(1)}/read", {}),
        ("/notifications/read", {"up_to": newest.group(1), "csrf_token": "forged"}),
    ):
        refused = legal.post(url, data=data, follow_redirects=False)
        assert refused.status_code == 403
    assert _unread(legal) == 2


def test_one_notification_is_marked_read_in_place_with_htmx(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    legal = _two_notices(browser, demo_ctx)
    page = legal.get("/notifications").text
    one = MARK_ONE.search(page)
    assert one
    row = legal.post(
        f"/notifications/{one.group(1)}/read",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_from(page)},
    )
    assert row.status_code == 200
    assert row.text.lstrip().startswith("<li")
    assert "is-read" in row.text and 'data-testid="mark-read"' not in row.text
    assert 'data-testid="unread-badge">1<' in row.text  # out of band
    assert _unread(legal) == 1
    # Without script the same form redirects back to the list.
    other = [i for i in MARK_ONE.findall(legal.get("/notifications").text) if i != one.group(1)]
    page = legal.get("/notifications").text
    done = legal.post(
        f"/notifications/{other[0]}/read",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/notifications"
    assert _unread(legal) == 0
    # Someone else's (or no) notification looks missing.
    assert (
        legal.post(
            f"/notifications/{'0' * 32}/read", data={"csrf_token": csrf_from(page)}
        ).status_code
        == 404
    )


def test_mark_all_read_spares_a_notification_that_arrived_after_the_page(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    legal = _two_notices(browser, demo_ctx)
    page = legal.get("/notifications").text
    newest = UP_TO.search(page)
    assert newest
    browser("zhang.wei").file_loan()  # a third one arrives while the page is open
    jobs.run_due(demo_ctx, owner="test")
    assert _unread(legal) == 3
    marked = legal.post(
        "/notifications/read",
        data={"csrf_token": csrf_from(page), "up_to": newest.group(1)},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    assert _unread(legal) == 1
    assert (
        legal.post(
            "/notifications/read", data={"csrf_token": csrf_from(page), "up_to": "x"}
        ).status_code
        == 404
    )
