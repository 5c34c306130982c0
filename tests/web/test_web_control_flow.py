"""The ticket page after an error end inside a sub-process (ADR 0022): the timeline
shows the error with its code and the check it closed, who decided, in zh and en; the
ticket goes on to rework."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from web_helpers import Browser

from control_apps import error_ticket
from flowdesk.engines.access import Actor
from flowdesk.services import views
from flowdesk.services.context import ServiceContext

TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


@pytest.fixture
def errored(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> str:
    return error_ticket(demo_ctx, actors)


def test_the_timeline_shows_the_error_and_the_check_it_closed(
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    actors: dict[str, Actor],
    errored: str,
) -> None:
    view = views.ticket(demo_ctx, actors["admin"], errored)
    assert [t.node_id for t in view.open_tasks] == ["rework"]
    names = {p.id: p.name for t in view.tasks for p in t.assignees}
    page = browser("zhang.wei").get(f"/tickets/{errored}")
    assert page.status_code == 200
    (thrown,) = re.findall(r'<li class="tl-item tl-error_thrown".*?</li>', page.text, re.S)
    assert _text(thrown).startswith("触发错误 · 超出限额")
    assert "错误代码 LIMIT_EXCEEDED" in _text(thrown)
    (closed,) = re.findall(r'<li class="tl-item tl-task_cancelled".*?</li>', page.text, re.S)
    assert _text(closed).startswith("已关闭 · 反洗钱核查")
    assert f"由 {names[actors['wang.fang'].user_id]} 决定" in _text(closed)

    en = _text(browser("zhang.wei", locale="en").get(f"/tickets/{errored}").text)
    assert "Error thrown · Over the limit" in en
    assert "Error code LIMIT_EXCEEDED" in en
