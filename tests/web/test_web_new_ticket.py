"""The new-ticket form generated from the loan app's FormSpec, and server-side validation."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import LOAN, Browser, csrf_from

from flowdesk.services import views
from flowdesk.services.context import ServiceContext

LOAN_LABELS_ZH = ("申请人姓名", "贷款金额", "贷款期限（月）", "信用评级", "区域", "贷款用途")
LOAN_LABELS_EN = (
    "Applicant name",
    "Loan amount",
    "Term (months)",
    "Credit rating",
    "Region",
    "Purpose of the loan",
)


def field_error(html: str, key: str) -> str | None:
    """The error message shown next to field `key`, if any."""
    found = re.search(rf'data-testid="error-{key}">([^<]*)<', html)
    return found.group(1) if found else None


def input_value(html: str, key: str) -> str | None:
    found = re.search(rf'id="f-{key}"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else None


def test_form_renders_every_loan_field_in_chinese(browser: Callable[..., Browser]) -> None:
    page = browser("zhang.wei").get("/apps/loan/new")
    assert page.status_code == 200
    html = page.text
    for label in LOAN_LABELS_ZH:
        assert label in html
    assert "单位：元" in html  # help text in the user's language
    assert html.count('class="req"') >= 6  # every loan field is required
    assert 'name="applicant_name"' in html
    assert 'id="f-amount"' in html and 'inputmode="decimal"' in html
    assert 'hx-get="/apps/loan/capitals?field=amount"' in html
    assert 'id="f-term_months"' in html and 'inputmode="numeric"' in html
    assert html.count('type="radio" name="credit_rating"') == 3  # few options: radios
    assert '<select id="f-region" name="region"' in html  # more options: a select
    assert "华北" in html and "A 级（优）" in html
    assert '<textarea id="f-purpose" name="purpose"' in html
    assert '<html lang="zh-CN">' in html


def test_form_renders_in_english(browser: Callable[..., Browser]) -> None:
    html = browser("zhang.wei", locale="en").get("/apps/loan/new").text
    for label in LOAN_LABELS_EN:
        assert label in html
    assert "North China" in html and "A (excellent)" in html
    assert "In yuan, from 1.00 to 100,000,000.00" in html
    assert "申请人姓名" not in html


def test_missing_amount_is_reported_next_to_it_and_values_are_kept(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei")
    response = me.submit_loan(amount="", applicant_name="韩梅梅", region="south")
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "amount") == "此项为必填"
    assert field_error(html, "applicant_name") is None
    assert 'data-testid="error-summary"' in html
    assert '<a href="#f-amount">贷款金额</a>：此项为必填' in html
    assert input_value(html, "applicant_name") == "韩梅梅"
    assert input_value(html, "term_months") == "36"
    assert '<option value="south" selected>' in html
    assert 'value="A" checked' in html
    assert "经营周转</textarea>" in html
    assert 'aria-invalid="true"' in html
    actor = _actor(demo_ctx, "zhang.wei")
    assert views.tickets(demo_ctx, actor, mine=True).items == []


def test_all_bad_fields_are_reported_at_once_in_english(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei", locale="en")
    response = me.submit_loan(amount="12.345", term_months="abc", region="mars", purpose="")
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "amount") == "At most 2 decimal places"
    assert field_error(html, "term_months") == "Use the digits 0-9 only (full-width ０-９ are fine)"
    assert field_error(html, "region") == "Not one of the options"
    assert field_error(html, "purpose") == "This field is required"


def test_personal_data_typed_into_a_bad_field_is_not_echoed_in_errors(
    browser: Callable[..., Browser],
) -> None:
    id_number = "110101199003074514"
    phone = "13800138000x"
    me = browser("zhang.wei")
    response = me.submit_loan(amount=id_number + "元", term_months=phone)
    assert response.status_code == 422
    html = response.text
    amount_error = field_error(html, "amount")
    term_error = field_error(html, "term_months")
    assert amount_error == "只能使用数字 0-9（可用全角数字）"
    assert term_error == "只能使用数字 0-9（可用全角数字）"
    summary = html[html.index('data-testid="error-summary"') : html.index("</ul>")]
    for secret in (id_number, phone):
        assert secret not in amount_error + term_error
        assert secret not in summary
    # The person's own input stays in its box so they can correct it.
    assert input_value(html, "amount") == id_number + "元"


def test_unknown_posted_fields_are_refused_without_echoing_their_names(
    browser: Callable[..., Browser],
) -> None:
    me = browser("zhang.wei")
    response = me.submit_loan(**{"身份证 110101199003074514": "x"})
    assert response.status_code == 422
    assert "110101199003074514" not in response.text
    assert "未知字段" in response.text


def test_submit_redirects_to_the_ticket_page_with_values_and_open_tasks(
    browser: Callable[..., Browser],
) -> None:
    me = browser("zhang.wei")
    response = me.submit_loan()
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/tickets/[0-9a-f]{32}", location)
    page = me.get(location)
    html = page.text
    assert 'data-testid="flash">工单已提交。' in html
    assert "贷款审批 · 李雷" in html
    assert "120,000.00 CNY" in html
    assert "壹拾贰万元整" in html
    assert "36" in html and "A 级（优）" in html and "华北" in html and "经营周转" in html
    assert html.count('data-testid="open-task"') == 2
    assert "法务审查" in html and "财务审查" in html
    assert "王芳" in html and "刘洋" in html
    assert "审批中" in html
    assert 'data-testid="task-form"' not in html  # the requester is no assignee
    # The flash is shown once.
    assert 'data-testid="flash"' not in me.get(location).text


def test_capitals_preview(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    ok = me.get("/apps/loan/capitals", params={"field": "amount", "amount": "1,001.05"})
    assert ok.status_code == 200
    assert "壹仟零壹元零伍分" in ok.text
    bad = me.get("/apps/loan/capitals", params={"field": "amount", "amount": "1.005"})
    assert "最多 2 位小数" in bad.text
    empty = me.get("/apps/loan/capitals", params={"field": "amount", "amount": ""})
    assert empty.text.strip() == ""
    unknown = me.get("/apps/loan/capitals", params={"field": "nope"})
    assert unknown.status_code == 404


def test_capitals_kept_when_the_form_is_shown_again(browser: Callable[..., Browser]) -> None:
    html = browser("zhang.wei").submit_loan(purpose="").text
    assert "壹拾贰万元整" in html


def test_unknown_app_is_a_404_page(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    page = me.get("/apps/nope/new")
    assert page.status_code == 404
    assert "该应用不存在" in page.text
    posted = me.post("/apps/nope/new", data={"csrf_token": csrf_from(page.text)})
    assert posted.status_code == 404


def test_app_list_offers_new_ticket(browser: Callable[..., Browser]) -> None:
    html = browser("zhang.wei").get("/apps").text
    assert "贷款审批" in html
    assert 'href="/apps/loan/new"' in html
    assert "发起申请" in html


def _actor(ctx: ServiceContext, username: str):  # type: ignore[no-untyped-def]
    from flowdesk.services import auth, demo

    return auth.authenticate(ctx, username=username, password=demo.DEMO_PASSWORD)


def test_loan_constant_is_valid() -> None:
    assert set(LOAN) == {
        "applicant_name",
        "amount",
        "term_months",
        "credit_rating",
        "region",
        "purpose",
    }
