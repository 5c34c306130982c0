"""The badges on every page count up to 99 and then read "99+"."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser

from flowdesk.engines.access import Actor
from flowdesk.services import jobs, tickets
from flowdesk.services.context import ServiceContext

LOAN = {
    "applicant_name": "客户",
    "amount": "120000.00",  # large: a finance review task for liu.yang
    "term_months": 12,
    "credit_rating": "A",
    "region": "north",
    "purpose": "流动资金周转",
}


def badges(html: str) -> tuple[str, str]:
    tasks = re.search(r'data-testid="task-badge">([^<]*)<', html)
    unread = re.search(r'data-testid="unread-badge">([^<]*)<', html)
    assert tasks and unread, "no badges on the page"
    return tasks.group(1), unread.group(1)


def test_badges_stop_at_99_plus(
    demo_ctx: ServiceContext, actors: dict[str, Actor], browser: Callable[..., Browser]
) -> None:
    finance = browser("liu.yang")
    for _ in range(99):
        tickets.submit(demo_ctx, actor=actors["zhang.wei"], app_key="loan", values=LOAN)
    _deliver_notifications(demo_ctx)
    assert badges(finance.get("/").text) == ("99", "99")
    tickets.submit(demo_ctx, actor=actors["zhang.wei"], app_key="loan", values=LOAN)
    inbox = finance.get("/tasks").text
    assert badges(inbox)[0] == "99+"
    assert 'data-testid="tasks-count">99+<' in inbox
    assert badges(browser("zhang.wei").get("/").text)[0] == "0"  # the requester holds none
    _deliver_notifications(demo_ctx)
    assert badges(finance.get("/tasks").text) == ("99+", "99+")


def _deliver_notifications(ctx: ServiceContext) -> None:
    """What the worker does in the background: send the queued notifications."""
    while jobs.run_due(ctx, owner="test", batch=200).done:
        pass
