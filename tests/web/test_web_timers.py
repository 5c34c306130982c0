"""The ticket page's timers (ADR 0023), on the bundled complaint app (客户投诉处理): the
timers still to fire ("in 2 hours"), then in the timeline the reminder at 1.5 working
hours and the escalation to the handler's manager at 2, in Chinese and English."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from web_helpers import Browser

from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import tickets, timers
from flowdesk.services.context import ServiceContext

TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def test_pending_timers_then_the_reminder_and_the_escalation(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    clock = FrozenClock(datetime(2026, 1, 5, 1, 30, tzinfo=UTC))  # Monday 09:30 in Beijing
    demo_ctx.clock = clock
    ticket_id = tickets.submit(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="complaint",
        values={
            "customer_name": "王女士",
            "channel": "phone",
            "severity": "serious",
            "description": "ATM kept the card",
        },
    ).ticket_id
    page = browser("zhang.wei").get(f"/tickets/{ticket_id}")
    (card,) = re.findall(
        r'<section class="card" data-testid="pending-timers">.*?</section>', page.text, re.S
    )
    assert len(re.findall(r'data-testid="pending-timer"', card)) == 3
    assert "1.5 工作小时提醒" in _text(card) and "提醒处理人" in _text(card)

    clock.advance(timedelta(hours=1, minutes=30))
    assert timers.fire_due(demo_ctx).fired == 1
    clock.advance(timedelta(minutes=30))
    assert timers.fire_due(demo_ctx).fired == 1
    zh = _text(browser("zhang.wei").get(f"/tickets/{ticket_id}").text)
    assert "定时器触发：已提醒 李娜 · 历时 1.5 个工作小时" in zh
    assert "已升级至 周航（行长）" in zh
    en = _text(browser("zhang.wei", locale="en").get(f"/tickets/{ticket_id}").text)
    assert "Timer fired: reminded 李娜 · after 1.5 working hours" in en
    assert "Escalated to 周航（行长）" in en
