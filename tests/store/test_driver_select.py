"""Rows read on the driver (store/driver_select.py) equal what SQLAlchemy reads.

Every DriverSelect the services run while pages and lists are read is also executed
through SQLAlchemy, in the same transaction, and the two answers compared value by
value and type by type: datetimes aware UTC, JSON documents decoded, booleans bools.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.services import apps, auth, request_auth, tickets, views
from flowdesk.services.context import ServiceContext
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import apps as apps_store
from flowdesk.store import auth_lookup, lists, ticket_notes
from flowdesk.store import tickets as tickets_store
from flowdesk.store.driver_select import DriverSelect

LOAN = {
    "applicant_name": "张三",
    "amount": "120000.00",
    "term_months": 36,
    "credit_rating": "A",
    "region": "north",
    "purpose": "Working capital",
}


def _module_statements() -> set[int]:
    found = set()
    for module in (apps_store, auth_lookup, lists, ticket_notes, tickets_store):
        found |= {id(v) for v in vars(module).values() if isinstance(v, DriverSelect)}
    return found


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[DriverSelect, int]]:
    """Each DriverSelect run, with how many rows it read, once checked against Core."""
    seen: list[tuple[DriverSelect, int]] = []
    original = DriverSelect.rows

    def checked(self: DriverSelect, conn: Connection, params: Any = None) -> list[Any]:
        ours = original(self, conn, params)
        core = conn.execute(self.statement, params or {}).all()
        assert [tuple(r) for r in ours] == [tuple(r) for r in core]
        for mine, theirs in zip(ours, core, strict=True):
            assert mine._mapping == dict(theirs._mapping)
            assert [type(v) for v in mine] == [type(v) for v in theirs]
        seen.append((self, len(ours)))
        return ours

    monkeypatch.setattr(DriverSelect, "rows", checked)
    return seen


def test_pages_and_lists_read_the_same_rows_on_the_driver(
    demo_ctx: ServiceContext, actors: dict[str, Actor], compared: list[tuple[DriverSelect, int]]
) -> None:
    ctx = demo_ctx
    applicant, legal, finance = actors["zhang.wei"], actors["wang.fang"], actors["liu.yang"]
    ticket_id = tickets.submit(ctx, actor=applicant, app_key="loan", values=LOAN).ticket_id
    tickets.submit(ctx, actor=applicant, app_key="loan", values={**LOAN, "amount": "5000.00"})
    legal_task = next(t for t in views.ticket(ctx, legal, ticket_id).open_tasks)
    tickets.approve(ctx, actor=legal, task_id=legal_task.id, comment="同意")

    token = auth.create_token(ctx, finance, name="ci")
    assert request_auth.token_actor(ctx, token).username == "liu.yang"
    session = auth.start_session(ctx, finance)
    found = request_auth.session(ctx, session.token)
    assert found is not None and found.actor.username == "liu.yang"
    assert views.count_my_tasks(ctx, finance) >= 1
    assert any(a.key == "loan" for a in apps.list_apps(ctx))
    page = views.ticket(ctx, finance, ticket_id)
    assert page.timeline
    for query in ("", "sort=waiting", "order=asc", "app=loan&node=finance_review"):
        given = dict(p.split("=") for p in query.split("&") if p)
        listed = views.task_list(
            ctx, finance, parse_list_query(given, default_sort="created"), done=False
        )
        assert listed.items
    done = views.task_list(ctx, legal, parse_list_query({}, default_sort="updated"), done=True)
    assert [t.state for t in done.items] == ["approved"]

    read = {id(statement) for statement, rows in compared if rows}
    assert _module_statements() <= read | {id(s) for s, _ in compared}
    assert len(read) >= 6  # statements that read rows, not only empty answers
