"""Notifications name the ticket by its serial (LN-2026-000123), as lists and tab titles do,
so two notices about two loans of the same applicant can be told apart."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from

from flowdesk.engines.access import Actor
from flowdesk.services import jobs, notifications
from flowdesk.services.context import ServiceContext

TICKET_SERIAL = re.compile(r'data-testid="ticket-serial">(LN-\d{4}-\d{6})<')
NOTICE = re.compile(
    r'<a class="item-title" href="/tickets/([0-9a-f]{32})#task-[0-9a-f]{32}">'
    r'<span class="serial" data-testid="notification-serial">(LN-\d{4}-\d{6})</span> ([^<]+)</a>'
)
MARK_ONE = re.compile(r'action="/notifications/([0-9a-f]{32})/read"')


def _serial(who: Browser, ticket_id: str) -> str:
    found = TICKET_SERIAL.search(who.get(f"/tickets/{ticket_id}").text)
    assert found
    return found.group(1)


def test_each_notification_shows_its_tickets_serial(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    requester = browser("zhang.wei")
    first = requester.file_loan()
    second = requester.file_loan()  # same applicant, same title: only the serial differs
    jobs.run_due(demo_ctx, owner="test")
    serials = {first: _serial(requester, first), second: _serial(requester, second)}
    assert serials[first] != serials[second]

    legal = browser("wang.fang", locale="en")
    page = legal.get("/notifications").text
    shown = {ticket: (serial, title) for ticket, serial, title in NOTICE.findall(page)}
    assert shown == {
        first: (serials[first], "Loan approval · 李雷"),
        second: (serials[second], "Loan approval · 李雷"),
    }
    # The service names it too (what the in-app list, and any later channel, draw from).
    items = notifications.unread(demo_ctx, actors["wang.fang"])
    assert {(n.ticket_id, n.serial) for n in items} == set(serials.items())

    # A row marked read in place (HTMX) keeps naming its ticket by the serial.
    one = MARK_ONE.search(page)
    assert one
    row = legal.post(
        f"/notifications/{one.group(1)}/read",
        data={"csrf_token": csrf_from(page)},
        headers={"HX-Request": "true"},
    ).text
    [(ticket, serial, _)] = NOTICE.findall(row)
    assert serial == serials[ticket]
