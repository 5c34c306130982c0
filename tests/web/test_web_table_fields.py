"""The new-ticket form and the ticket page with a sub-table (ADR 0036): a card per row
whose cells post as `lines[2].amount`, rows added and removed by the server's round trip,
an error shown on its row's cell and in the summary, and the filed rows on the ticket
page with the personal column masked."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from web_helpers import Browser, csrf_from

from flowdesk.services import apps, task_returns, tickets, views
from flowdesk.services.context import ServiceContext
from table_forms import table_app

ID = "11010519491231002X"


@pytest.fixture
def expenses(demo_ctx: ServiceContext) -> None:
    apps.publish_yaml(demo_ctx, yaml.safe_dump(table_app(), allow_unicode=True))


def cells(row: int, **values: str) -> dict[str, str]:
    base = {"date": "2026-12-01", "type": "travel", "qty": "1", "price": "10.00", "payee_id": ""}
    return {f"lines[{row}].{k}": v for k, v in {**base, **values}.items()}


def test_rows_are_cards_added_and_removed_by_the_server(
    expenses: None, browser: Callable[..., Browser]
) -> None:
    me = browser("zhang.wei", locale="en")
    html = me.get("/apps/expenses/new").text
    assert 'data-testid="row-lines-1"' in html and 'data-testid="row-lines-2"' not in html
    assert 'name="lines[1].price"' in html
    assert 'name="lines[1].amount"' not in html  # a row formula is never posted
    token = csrf_from(html)
    added = me.post(
        "/apps/expenses/new/fields",
        data={
            "purpose": "x",
            **cells(1, qty="3", price="2.50"),
            "_row_action": "add:lines",
            "csrf_token": token,
        },
    )
    assert added.status_code == 200
    assert 'data-testid="row-lines-2"' in added.text
    assert re.search(r'name="lines\[1\]\.qty"[^>]*value="3"', added.text)
    # the row formula and the sum, computed by the server
    assert "7.50" in added.text.split('data-field="lines[1].amount"')[1].split("</div>")[0]
    assert 'data-testid="computed-total">7.50<' in added.text
    removed = me.post(
        "/apps/expenses/new/fields",
        data={
            **cells(1, qty="3"),
            **cells(2, qty="5"),
            "_row_action": "remove:lines:1",
            "csrf_token": token,
        },
    )
    assert 'data-testid="row-lines-2"' not in removed.text
    assert re.search(r'name="lines\[1\]\.qty"[^>]*value="5"', removed.text)


def test_an_error_is_shown_on_its_row_and_the_ticket_page_shows_the_rows(
    expenses: None, browser: Callable[..., Browser]
) -> None:
    me = browser("zhang.wei", locale="en")
    token = csrf_from(me.get("/apps/expenses/new").text)
    refused = me.post(
        "/apps/expenses/new",
        data={"purpose": "Trip", **cells(1), **cells(2, price="abc"), "csrf_token": token},
    )
    assert refused.status_code == 422
    block = refused.text.split('data-field="lines[2].price"')[1].split("data-field=")[0]
    assert 'data-testid="error-lines[2].price"' in block
    assert "Use the digits 0-9 only" in block
    assert "Expense lines · row 2 · Unit price" in refused.text  # the summary names the cell
    assert 'href="#f-lines[2].price"' in refused.text
    assert re.search(r'name="lines\[2\]\.price"[^>]*value="abc"', refused.text)

    filed = me.post(
        "/apps/expenses/new",
        data={"purpose": "Trip", **cells(1, payee_id=ID), **cells(2, qty="2"), "csrf_token": token},
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    page = me.get(filed.headers["location"]).text
    table = page.split('data-testid="table-lines"')[1].split("</table>")[0]
    assert "2 rows; Unit price total 20.00 CNY; Amount total 30.00" in table
    assert "110***********002X" in table and ID not in page


def test_a_returned_claim_is_resubmitted_with_its_lines_and_the_masked_id_stays(
    expenses: None,
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    actors: dict[str, Any],
) -> None:
    values = {
        "purpose": "Trip",
        "lines": [
            {"date": "2026-12-01", "type": "travel", "qty": 1, "price": "10.00", "payee_id": ID}
        ],
    }
    filed = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="expenses", values=values, source="json"
    )
    view = views.ticket(demo_ctx, actors["admin"], filed.ticket_id)
    (task,) = view.open_tasks
    task_returns.return_task(
        demo_ctx,
        actor=actors["li.na"],
        task_id=task.id,
        target=task_returns.APPLICANT,
        comment="Add the second line",
    )
    me = browser("zhang.wei", locale="en")
    page = me.get(f"/tickets/{filed.ticket_id}/resubmit").text
    assert re.search(r'name="lines\[1\]\.payee_id"[^>]*value="110\*+002X"', page)
    assert ID not in page
    sent = me.post(
        f"/tickets/{filed.ticket_id}/resubmit",
        data={
            "purpose": "Trip",
            **cells(1, payee_id="110***********002X"),
            **cells(2, qty="2", price="5.00"),
            "csrf_token": csrf_from(page),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    after = views.ticket(demo_ctx, actors["admin"], filed.ticket_id)
    stored = tickets_store_values(demo_ctx, filed.ticket_id)
    assert stored["lines"][0]["payee_id"] == ID  # the masked echo kept the number
    assert after.values["total"] == "20.00"  # 10.00 + 2 × 5.00


def tickets_store_values(ctx: ServiceContext, ticket_id: str) -> dict[str, Any]:
    with ctx.db.read() as conn:
        raw = conn.execute(
            text('SELECT t."values" FROM tickets t WHERE t.id = :id'), {"id": ticket_id}
        ).scalar_one()
    return raw if isinstance(raw, dict) else json.loads(raw)
