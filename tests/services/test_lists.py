"""The lists people work from: 待办, 已办, 我发起 and all tickets, with the shared filter,
sort, search and cursor vocabulary, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from loan_desk import Desk

from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import Forbidden, ValidationFailed
from flowdesk.services import views
from flowdesk.services.list_query import parse_list_query


def _ids(desk: Desk, who: str, scope: views.TicketScope = "all", **params: str) -> list[str]:
    query = parse_list_query(params)
    return [t.id for t in views.ticket_list(desk.ctx, desk.actors[who], query, scope=scope).items]


def _codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in exc.value.errors]


def test_done_tasks_show_my_decision_and_when(desk: Desk) -> None:
    ticket = desk.submit("120000.00")
    desk.approve("wang.fang", ticket, "legal_review", "同意")
    other = desk.submit("130000.00")
    desk.reject("wang.fang", other, "legal_review", "资料不全")
    done = views.task_list(
        desk.ctx, desk.actors["wang.fang"], parse_list_query({}, default_sort="updated"), done=True
    ).items
    assert [(t.ticket_id, t.state, t.comment) for t in done] == [
        (other, "rejected", "资料不全"),
        (ticket, "approved", "同意"),
    ]
    assert all(t.completed_at is not None and t.ticket_serial for t in done)
    # Nothing of it is still open for her; liu.yang decided nothing yet.
    opened = views.task_list(desk.ctx, desk.actors["wang.fang"], parse_list_query({}), done=False)
    assert ticket not in [t.ticket_id for t in opened.items]
    assert (
        views.task_list(desk.ctx, desk.actors["liu.yang"], parse_list_query({}), done=True).items
        == []
    )


def test_rows_show_summary_current_step_and_holder(desk: Desk) -> None:
    ticket = desk.submit("120000.00")
    (row,) = [
        t
        for t in views.ticket_list(
            desk.ctx, desk.actors["zhang.wei"], parse_list_query({}), scope="mine"
        ).items
        if t.id == ticket
    ]
    amount = next(s for s in row.summary if s.key == "amount")
    assert (amount.value, amount.text) == ("120000.00", "120,000.00 CNY")
    assert {c.node_id for c in row.current} == {"legal_review", "finance_review"}
    holders = {p.id for c in row.current for p in c.holders}
    assert {desk.actors["wang.fang"].user_id, desk.actors["liu.yang"].user_id} <= holders
    assert row.waiting_since is not None


def test_all_tickets_only_for_those_who_may_see_every_ticket(desk: Desk) -> None:
    mine = desk.submit(who="zhang.wei")
    with pytest.raises(Forbidden):
        _ids(desk, "zhang.wei", scope="all")
    assert mine in _ids(desk, "admin")
    # Someone neither filing nor working on it does not see it in their visible list.
    assert mine not in _ids(desk, "wu.min", scope="visible")
    assert mine in _ids(desk, "wang.fang", scope="visible")  # the legal reviewer


def test_search_finds_chinese_words_serials_and_english_prefixes(desk: Desk) -> None:
    wanted = desk.submit(purpose="采购生产设备一批，用于扩大产能")
    other = desk.submit(purpose="Working capital for a bakery")
    assert _ids(desk, "admin", q="设备") == [wanted]  # a two-character word
    assert _ids(desk, "admin", q="生产设备") == [wanted]
    assert wanted in _ids(desk, "admin", q="设")  # one character, as a prefix
    assert _ids(desk, "admin", q="扩大 设备") == [wanted]  # every word must match
    assert _ids(desk, "admin", q="设备 bakery") == []
    assert other in _ids(desk, "admin", q="BAK")  # case-folded prefix of a word
    assert other in _ids(desk, "admin", q="ｂａｋｅｒｙ")  # full-width letters
    assert _ids(desk, "admin", q="备设") == []  # both characters there, never side by side
    serial = desk.view(wanted).serial
    assert _ids(desk, "admin", q=serial) == [wanted]


def test_filters_sort_and_cursor_pages(desk: Desk) -> None:
    start = datetime(2035, 6, 1, 2, 0, tzinfo=UTC)
    filed = []
    for day in range(5):
        desk.ctx.clock = FrozenClock(start + timedelta(days=day))
        filed.append(desk.submit("20000.00", purpose=f"批次{day}"))
    admin = desk.actors["admin"]
    params = {"app": "loan", "created_from": "2035-06-01", "created_to": "2035-06-05"}
    assert _ids(desk, "admin", **params) == filed[::-1]
    assert _ids(desk, "admin", **params, order="asc") == filed
    assert _ids(desk, "admin", **{**params, "created_to": "2035-06-02"}) == filed[1::-1]
    assert _ids(desk, "admin", **params, requester="zhang.wei") == filed[::-1]
    assert _ids(desk, "admin", **params, status="approved") == []
    assert _ids(desk, "admin", **params, node="branch_review") == filed[::-1]
    # Pages of two, by cursor, in "waiting" order (longest first): each once, none lost.
    seen: list[str] = []
    cursor = ""
    while True:
        query = parse_list_query({**params, "sort": "waiting", "limit": "2", "cursor": cursor})
        page = views.ticket_list(desk.ctx, admin, query, scope="all")
        seen += [t.id for t in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == filed
    # A cursor belongs to its sort; garbage is refused by name.
    with pytest.raises(ValidationFailed) as mismatch:
        parse_list_query({**params, "sort": "created", "cursor": cursor})
    assert _codes(mismatch) == [("cursor", "cursor_sort_mismatch")]
    with pytest.raises(ValidationFailed) as garbage:
        parse_list_query({"cursor": "' OR 1=1 --"})
    assert _codes(garbage) == [("cursor", "invalid_cursor")]


def test_bad_parameters_are_named_together(desk: Desk) -> None:
    with pytest.raises(ValidationFailed) as bad:
        parse_list_query(
            {"status": "won", "sort": "size", "created_from": "2035-13-01", "colour": "red"}
        )
    assert sorted(_codes(bad)) == [
        ("colour", "unknown_parameter"),
        ("created_from", "invalid_date"),
        ("sort", "invalid_sort"),
        ("status", "invalid_status"),
    ]
    with pytest.raises(ValidationFailed) as unknown:
        _ids(desk, "admin", app="nope", requester="nobody", department="NOPE")
    assert sorted(_codes(unknown)) == [
        ("app", "unknown_app"),
        ("department", "unknown_department"),
        ("requester", "unknown_user"),
    ]
    with pytest.raises(ValidationFailed) as punctuation:
        parse_list_query({"q": "!!!"})
    assert _codes(punctuation) == [("q", "no_search_terms")]
