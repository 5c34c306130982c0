"""A record app's table in the web UI (ADR 0038): the grid with search and "load more",
new / edit / delete for editors, and nothing of it for others."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from

from flowdesk.services.context import ServiceContext
from link_apps import publish_link_apps

NEW = {"customer_name": "成都天府软件有限公司", "manager": "zhang.wei", "segment": "sme"}


def _create(browser: Browser, **values: str) -> str:
    form = browser.get("/apps/customers/records/new")
    assert form.status_code == 200, form.text
    response = browser.post(
        "/apps/customers/records/new",
        data={**NEW, **values, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def test_the_grid_lists_searches_and_pages(browser: Callable[..., Browser]) -> None:
    reader = browser("sun.li")
    html = reader.get("/apps/customers/records").text
    assert 'data-testid="record-grid"' in html and "客户名称" in html
    assert html.count('data-testid="record-row"') == 6  # the demo's customers
    assert "上海浦江物流有限公司" in html and 'data-testid="new-record"' not in html  # a reader
    found = reader.get("/apps/customers/records", params={"q": "浦江"}).text
    assert found.count('data-testid="record-row"') == 1
    first = reader.get("/apps/customers/records", params={"limit": "4"}).text
    assert first.count('data-testid="record-row"') == 4 and 'data-testid="load-more"' in first
    english = browser("sun.li", locale="en").get("/apps/customers/records").text
    assert "Customer name" in english and "Segment" in english


def test_an_editor_creates_edits_and_deletes(browser: Callable[..., Browser]) -> None:
    editor = browser("zhang.wei")
    assert 'data-testid="open-records"' in editor.get("/apps").text
    record_id = _create(editor)
    page = editor.get(f"/tickets/{record_id}").text
    assert "成都天府软件有限公司" in page and 'data-testid="edit-record"' in page
    edit = editor.get(f"/records/{record_id}/edit")
    assert 'value="成都天府软件有限公司"' in edit.text
    saved = editor.post(
        f"/records/{record_id}/edit",
        data={**NEW, "segment": "large", "csrf_token": csrf_from(edit.text)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = editor.get(f"/tickets/{record_id}").text
    assert "大型企业" in page
    refused = editor.post(
        f"/records/{record_id}/edit",
        data={**NEW, "customer_name": "", "csrf_token": csrf_from(edit.text)},
    )
    assert refused.status_code == 422 and 'data-testid="error-summary"' in refused.text
    gone = editor.post(
        f"/records/{record_id}/delete",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=False,
    )
    assert gone.status_code == 303 and gone.headers["location"] == "/apps/customers/records"
    assert "成都天府软件有限公司" not in editor.get("/apps/customers/records").text


def test_others_neither_see_nor_write_the_table(browser: Callable[..., Browser]) -> None:
    outsider = browser("wu.min")
    assert 'data-testid="open-records"' not in outsider.get("/apps").text
    assert outsider.get("/apps/customers/records").status_code == 404
    assert outsider.get("/apps/customers/records/new").status_code == 404
    reader = browser("sun.li")
    assert reader.get("/apps/customers/records/new").status_code == 403


def test_a_link_is_picked_by_search_and_shown_with_its_look_ups(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    publish_link_apps(demo_ctx)
    editor = browser("zhang.wei")
    form = editor.get("/apps/credit_lines/records/new")
    assert 'data-testid="link-search-customer"' in form.text
    options = editor.get("/apps/credit_lines/links/customer/options", params={"q": "华信"})
    assert options.status_code == 200
    assert options.text.count('data-testid="link-option"') == 1
    assert "北京华信科技有限公司" in options.text and "大型企业" in options.text
    customer = re.search(r'name="customer" value="([0-9a-f]{32})"', options.text)
    assert customer is not None
    # the chosen record stays offered, checked, whatever is searched next
    again = editor.get(
        "/apps/credit_lines/links/customer/options",
        params={"q": "珠江", "customer": customer.group(1)},
    )
    assert "北京华信科技有限公司" in again.text and "checked" in again.text
    saved = editor.post(
        "/apps/credit_lines/records/new",
        data={
            "line_name": "项目贷款额度",
            "customer": customer.group(1),
            "credit_limit": "1,000,000.00",
            "csrf_token": csrf_from(form.text),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = editor.get(saved.headers["location"]).text
    assert "北京华信科技有限公司（客户经理 zhang.wei，客户分层 大型企业）" in page
    grid = editor.get("/apps/credit_lines/records").text
    assert "北京华信科技有限公司" in grid
