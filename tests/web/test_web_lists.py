"""The list pages: 待办/已办 tabs, 我发起 and all tickets, filter bar, search, serials,
load more with the filters kept, and a bad filter shown, not a 500."""

from __future__ import annotations

import re
from collections.abc import Callable

from test_web_tasks import decide
from web_helpers import Browser

SERIAL = re.compile(r'data-testid="row-serial">(LN-\d{4}-\d{6})<')


def test_done_tab_lists_my_decision(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="120000.00")
    legal = browser("wang.fang")
    _, response = decide(legal, ticket_id, "approve", "同意放款")
    assert response.status_code == 303
    done = legal.get("/tasks?tab=done").text
    assert f"/tickets/{ticket_id}#task-" in done
    assert 'data-testid="decision">同意<' in done and "同意放款" in done
    assert f"/tickets/{ticket_id}#task-" not in legal.get("/tasks").text
    assert 'aria-current="page" data-testid="tab-done"' in done


def test_my_tickets_show_serial_summary_and_current_step(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    ticket_id = me.file_loan(amount="120000.00", purpose="采购生产设备一批")
    page = me.get("/tickets").text
    serial = SERIAL.search(page)
    assert serial
    assert "120,000.00 CNY" in page  # the app's summary field
    assert "法务审查" in page and "王芳" in page  # the step and who holds it
    assert f'href="/tickets/{ticket_id}"' in me.get("/tickets?q=设备").text
    assert f'href="/tickets/{ticket_id}"' in me.get(f"/tickets?q={serial.group(1)}").text
    assert f'href="/tickets/{ticket_id}"' not in me.get("/tickets?q=量子").text
    # Empty fields of a submitted filter bar mean "no filter".
    assert f'href="/tickets/{ticket_id}"' in me.get("/tickets?q=&app=&status=&sort=").text
    ticket_page = me.get(f"/tickets/{ticket_id}").text
    assert re.search(rf"<title>{serial.group(1)} ", ticket_page)


def test_all_tickets_only_for_those_allowed(browser: Callable[..., Browser]) -> None:
    ticket_id = browser("zhang.wei").file_loan()
    assert 'data-testid="tab-all"' not in browser("zhang.wei").get("/tickets").text
    assert browser("zhang.wei").get("/tickets?scope=all").status_code == 403
    admin = browser("admin")
    assert f'href="/tickets/{ticket_id}"' in admin.get("/tickets?scope=all").text


def test_a_bad_filter_is_shown_on_the_page(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    response = me.get("/tickets?created_from=yesterday&sort=size")
    assert response.status_code == 400
    assert 'data-testid="list-errors"' in response.text
    assert "created_from" in response.text and "sort" in response.text


def test_load_more_keeps_the_filters(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    for index in range(21):
        me.file_loan(amount="1000.00", applicant_name=f"客户{index:02d}", purpose="设备采购")
    first = me.get("/tickets?q=设备&sort=waiting").text
    assert first.count('data-testid="ticket-row"') == 20
    more = re.search(r'hx-get="([^"]+)"', first)
    assert more
    url = more.group(1).replace("&amp;", "&")
    assert "q=" in url and "sort=waiting" in url
    rest = me.get(url, headers={"HX-Request": "true"}).text
    assert rest.count('data-testid="ticket-row"') == 1
    assert "客户20" in rest  # waiting longest first: the newest comes last
