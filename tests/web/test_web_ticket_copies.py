"""抄送 on the web: the ticket page's copy form (CSRF, errors inline in zh and en), the
timeline's CC lines, the 抄送我 page and its read marks."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from web_helpers import Browser, csrf_from

from cc_apps import EMPTY_ROLE, memo_values, publish_cc_app
from flowdesk.engines.access import Actor
from flowdesk.services import ticket_copies, tickets, views
from flowdesk.services.context import ServiceContext


@pytest.fixture
def memo_ticket(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> str:
    publish_cc_app(demo_ctx)
    return tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="memo", values=memo_values()
    ).ticket_id


def _copy(who: Browser, ticket_id: str, users: str, note: str = "", csrf: str | None = None):  # type: ignore[no-untyped-def]
    page = who.get(f"/tickets/{ticket_id}")
    return who.post(
        f"/tickets/{ticket_id}/copies",
        data={
            "csrf_token": csrf if csrf is not None else csrf_from(page.text),
            "users": users,
            "note": note,
        },
        follow_redirects=False,
    )


def _timeline(html: str) -> str:
    return html[html.index('data-testid="timeline"') :]


def test_the_cc_node_shows_in_the_timeline_and_the_holder_copies_more(
    browser: Callable[..., Browser], memo_ticket: str
) -> None:
    holder = browser("wang.fang")
    page = holder.get(f"/tickets/{memo_ticket}")
    assert page.status_code == 200
    copied = re.search(r'data-testid="copied">([^<]*)<', _timeline(page.text))
    assert copied is not None and copied.group(1) == "已抄送给 罗欣、宋杰"
    assert 'data-testid="copy-form"' in page.text and "抄送" in page.text
    response = _copy(holder, memo_ticket, "he.jia， xu.ming", "请知悉")
    assert response.status_code == 303, response.text
    after = holder.get(response.headers["location"])
    assert "已将此工单抄送给您填写的人员。" in after.text
    lines = re.findall(r'data-testid="copied">([^<]*)<', _timeline(after.text))
    assert lines[-1] == "王芳 抄送给 何佳、徐明"
    assert "请知悉" in _timeline(after.text)


def test_a_copied_person_reads_without_a_form_and_their_list_marks_it_read(
    browser: Callable[..., Browser], memo_ticket: str
) -> None:
    reader = browser("luo.xin")
    listed = reader.get("/copied")
    assert listed.status_code == 200
    assert 'data-testid="copy-row"' in listed.text and 'data-testid="copy-unread"' in listed.text
    assert "抄送节点：抄送团队" in listed.text and "BW-" in listed.text
    assert 'data-testid="nav-copied"' in listed.text and "抄送我" in listed.text
    page = reader.get(f"/tickets/{memo_ticket}")
    assert page.status_code == 200
    assert 'data-testid="copy-form"' not in page.text  # a reader copies no one
    assert 'data-testid="task-form"' not in page.text  # and decides nothing
    again = reader.get("/copied")
    assert 'data-testid="copy-unread"' not in again.text  # opened: read
    unread = reader.get("/copied?unread=true")
    assert 'data-testid="no-copies"' in unread.text


def test_the_copied_page_in_english_and_empty(browser: Callable[..., Browser]) -> None:
    page = browser("xu.ming", locale="en").get("/copied")
    assert page.status_code == 200
    assert "CC&#39;d to me" in page.text or "CC'd to me" in page.text
    assert "No one has copied you on a ticket yet." in page.text
    bad = browser("xu.ming", locale="en").get("/copied?cursor=nonsense")
    assert bad.status_code == 400 and 'data-testid="list-errors"' in bad.text


@pytest.mark.parametrize(
    ("users", "status", "text"),
    [
        ("", 422, "请至少填写一位抄送人。"),
        ("ghost", 422, "没有使用此用户名的在职用户：ghost"),
        ("wang.fang", 422, "不能抄送给自己。"),
        ("he.jia he.jia", 422, "每人只能填写一次：he.jia"),
        ("luo.xin", 409, "已抄送过此工单：luo.xin"),
    ],
)
def test_copy_errors_show_beside_the_form(
    browser: Callable[..., Browser], memo_ticket: str, users: str, status: int, text: str
) -> None:
    response = _copy(browser("wang.fang"), memo_ticket, users)
    assert response.status_code == status
    error = re.search(r'data-testid="copy-error">([^<]*)<', response.text)
    assert error is not None and error.group(1) == text
    assert f'value="{users}"' in response.text  # what was typed is kept


def test_copy_errors_in_english_and_the_note_checked(
    browser: Callable[..., Browser], memo_ticket: str
) -> None:
    holder = browser("wang.fang", locale="en")
    response = _copy(holder, memo_ticket, "ghost")
    assert "No active user with this username: ghost" in response.text
    long_note = _copy(holder, memo_ticket, "he.jia", "x" * 2001)
    assert long_note.status_code == 422
    assert 'data-testid="copy-note-error"' in long_note.text


def test_the_form_needs_its_csrf_token_and_others_may_not_copy(
    browser: Callable[..., Browser],
    memo_ticket: str,
    demo_ctx: ServiceContext,
    actors: dict[str, Actor],
) -> None:
    holder = browser("wang.fang")
    refused = _copy(holder, memo_ticket, "he.jia", csrf="wrong")
    assert refused.status_code == 403
    reader = browser("luo.xin")
    response = reader.post(
        f"/tickets/{memo_ticket}/copies",
        data={"csrf_token": reader.csrf(), "users": "he.jia"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "只有申请人或当前步骤的处理人可以抄送此工单。" in response.text
    assert ticket_copies.copied_list(demo_ctx, actors["he.jia"], {}).items == []


def test_a_skipped_cc_step_says_so_in_english(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    publish_cc_app(demo_ctx, key="skip", mid_rule={"kind": "role", "role": EMPTY_ROLE})
    ticket_id = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="skip", values=memo_values()
    ).ticket_id
    task = next(t for t in tickets_view(demo_ctx, actors, ticket_id) if t.node_id == "review")
    tickets.approve(demo_ctx, actor=actors["wang.fang"], task_id=task.id)
    page = browser("zhang.wei", locale="en").get(f"/tickets/{ticket_id}")
    lines = re.findall(r'data-testid="copied">([^<]*)<', _timeline(page.text))
    assert lines == ["Copied to 罗欣, 宋杰", "No one to copy; the step was skipped."]


def tickets_view(
    ctx: ServiceContext, actors: dict[str, Actor], ticket_id: str
) -> tuple[views.TaskView, ...]:
    return views.ticket(ctx, actors["admin"], ticket_id).open_tasks
