"""A bad list parameter on 待办/已办/我发起/all tickets is answered 400 with the list page and
what was wrong, in the reader's language (zh-CN and en); the API's problem+json for the
same parameters stays as it is (422, English, machine codes)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from web_helpers import Browser

from flowdesk.services import demo
from flowdesk.services.list_query import ListQuery, encode_cursor

ERRORS = re.compile(
    r'<div class="alert alert-error" role="alert" data-testid="list-errors">.*?</div>', re.S
)
ITEM = re.compile(r'<li data-code="([a-z_]+)">(.*?)</li>', re.S)
TAG = re.compile(r"<[^>]+>")


def _errors(page: str) -> dict[str, str]:
    """{code: the line shown} of the page's error box."""
    [box] = ERRORS.findall(page)
    return {code: html.unescape(TAG.sub("", text)) for code, text in ITEM.findall(box)}


def _refused(who: Browser, url: str) -> dict[str, str]:
    response = who.get(url)
    assert response.status_code == 400, response.text
    assert 'data-testid="list-filters"' in response.text  # the list page, to correct it
    assert 'data-testid="list-errors-reset"' in response.text
    return _errors(response.text)


# A cursor that decodes, for the sort it is used with, but holds no position of that list:
# the list's service refuses it once it reads it (not the URL parser).
FORGED_CURSOR = encode_cursor(ListQuery(sort="updated"), "not-a-time", "0" * 32)


@pytest.mark.parametrize(
    ("url", "zh", "en"),
    [
        (
            "/tickets?sort=size&created_from=yesterday",
            {
                "invalid_sort": "排序：请从以下选项中选择：最新提交、最近更新、等待最久。",
                "invalid_date": "提交日期自：日期格式应为 YYYY-MM-DD，例如 2026-01-31。",
            },
            {
                "invalid_sort": "Sort by: Choose one of: "
                "Newest filed, Last changed, Waiting longest.",
                "invalid_date": "Filed from: Give a date as YYYY-MM-DD, for example 2026-01-31.",
            },
        ),
        (
            "/tasks?cursor=no%20such%20page",
            {"invalid_cursor": "分页链接：此分页链接不是本列表给出的，请从第一页重新开始。"},
            {
                "invalid_cursor": "Page link: This page link is not one this list gave. "
                "Start again from the first page."
            },
        ),
        (
            f"/tasks?tab=done&cursor={FORGED_CURSOR}",
            {"invalid_cursor": "分页链接：此分页链接不是本列表给出的，请从第一页重新开始。"},
            {
                "invalid_cursor": "Page link: This page link is not one this list gave. "
                "Start again from the first page."
            },
        ),
        (
            f"/tasks?cursor={FORGED_CURSOR}",  # a cursor of another sort (updated, not created)
            {
                "cursor_sort_mismatch": "分页链接："
                "此分页链接属于另一种排序方式，请从第一页重新开始。"
            },
            {
                "cursor_sort_mismatch": "Page link: This page link belongs to another sort or "
                "order. Start again from the first page."
            },
        ),
        (
            "/tickets?app=nosuch&limit=500",
            {"invalid_limit": "每页条数：请填写 1 至 100 之间的整数。"},
            {"invalid_limit": "Rows per page: Give a whole number from 1 to 100."},
        ),
        (
            "/tickets?app=nosuch",
            {"unknown_app": "应用：没有使用此标识的应用。"},
            {"unknown_app": "App: There is no app with this key."},
        ),
        (
            "/tasks?assignee=li.na",
            {"invalid_assignee": "处理人（用户名）：此处只列出你自己的任务。"},
            {"invalid_assignee": "Held by (username): Only your own tasks are listed here."},
        ),
        (
            "/tickets?requester=li.na",
            {"invalid_requester": "申请人（用户名）：此处只列出你发起的工单。"},
            {
                "invalid_requester": "Requester (username): "
                "Only the tickets you filed are listed here."
            },
        ),
        (
            "/tickets?scope=all&requester=nobody.here",
            {"unknown_user": "申请人（用户名）：没有此用户名的用户。"},
            {"unknown_user": "Requester (username): There is no user with this username."},
        ),
        (
            "/tasks?q=%21%21%21&colour=red",
            {
                "no_search_terms": "搜索：请输入字母、数字或汉字进行搜索。",
                "unknown_parameter": "colour：此列表没有这个筛选条件。",
            },
            {
                "no_search_terms": "Search: Give letters, digits or Chinese characters to search.",
                "unknown_parameter": "colour: This list has no such filter.",
            },
        ),
    ],
)
def test_a_bad_list_parameter_is_explained_in_the_readers_language(
    browser: Callable[..., Browser], url: str, zh: dict[str, str], en: dict[str, str]
) -> None:
    who = "admin" if "scope=all" in url else "zhang.wei"
    assert _refused(browser(who), url) == zh
    assert _refused(browser(who, locale="en"), url) == en


def test_the_chinese_page_carries_no_english_error_text(browser: Callable[..., Browser]) -> None:
    response = browser("zhang.wei").get("/tickets?sort=size&order=up&status=lost&finished_to=x")
    assert response.status_code == 400
    box = ERRORS.findall(response.text)[0]
    assert set(_errors(response.text)) == {
        "invalid_sort",
        "invalid_order",
        "invalid_status",
        "invalid_date",
    }
    assert not re.search(r"[A-Za-z]{4,}", TAG.sub("", box).replace("YYYY-MM-DD", ""))


def test_an_unknown_parameter_that_could_be_personal_is_not_echoed(
    browser: Callable[..., Browser],
) -> None:
    response = browser("zhang.wei").get("/tickets?110101199003074578=x")
    assert response.status_code == 400
    assert _errors(response.text) == {"unknown_parameter": "此列表没有这个筛选条件。"}
    assert "110101199003074578" not in ERRORS.findall(response.text)[0]


def test_the_api_answers_the_same_parameters_as_before(browser: Callable[..., Browser]) -> None:
    client = browser().client  # a Chinese browser: the API still answers in English
    token = client.post(
        "/api/v1/auth/token",
        json={"username": "zhang.wei", "password": demo.DEMO_PASSWORD, "name": "tests"},
    ).json()["token"]
    response = client.get("/api/v1/tickets?sort=size", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_query"
    assert body["errors"] == [
        {"path": "sort", "code": "invalid_sort", "message": "One of: created, updated, waiting"}
    ]
