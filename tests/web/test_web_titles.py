"""Ticket titles are shown in the viewer's language: "<app name> · <subject>"."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from web_helpers import Browser

from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext

TITLES = {"zh": "贷款审批 · 李雷", "en": "Loan approval · 李雷"}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_ticket_titles_follow_the_viewers_language(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, locale: str
) -> None:
    title, other = TITLES[locale], TITLES["en" if locale == "zh" else "zh"]
    # Filed by a Chinese-speaking requester: what others see must not depend on that.
    ticket_id = browser("zhang.wei", locale="zh").file_loan()
    jobs.run_due(demo_ctx, owner="test")  # the notify job the worker would run

    requester = browser("zhang.wei", locale=locale)
    page = requester.get(f"/tickets/{ticket_id}").text
    serial = re.search(r'data-testid="ticket-serial">(LN-\d{4}-\d{6})<', page)
    assert serial
    assert f"{serial.group(1)}</span> {title}</h1>" in page
    assert re.search(rf"<title>{serial.group(1)} {re.escape(title)}\b", page)
    named = f'<span class="serial" data-testid="row-serial">{serial.group(1)}</span> {title}</a>'
    mine = requester.get("/tickets").text
    assert f'<a href="/tickets/{ticket_id}" class="item-title">{named}' in mine
    home = requester.get("/").text
    home_named = f'<span class="serial">{serial.group(1)}</span> {title}</a>'
    assert f'<a href="/tickets/{ticket_id}" class="item-title">{home_named}' in home

    approver = browser("liu.yang", locale=locale)  # finance review is waiting for them
    inbox = approver.get("/tasks").text
    assert re.search(
        rf'href="/tickets/{ticket_id}#task-[0-9a-f]+" class="item-title">'
        rf'<span class="serial" data-testid="row-serial">{serial.group(1)}</span> {title}<',
        inbox,
    )
    assert f'class="item-title">{home_named}' in approver.get("/").text
    notices = approver.get("/notifications").text
    assert re.search(
        rf'href="/tickets/{ticket_id}#task-[0-9a-f]+"><span class="serial"'
        rf' data-testid="notification-serial">{serial.group(1)}</span> {title}</a>',
        notices,
    )

    for html in (page, mine, home, inbox, notices):
        assert other not in html
