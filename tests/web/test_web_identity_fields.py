"""The web form for identity numbers and the newer field types: widgets that fit each type,
server-side refusals shown next to the field in the person's language without the number,
and personal numbers masked on the ticket page."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from web_helpers import Browser

from flowdesk.services import apps, org, views
from flowdesk.services.context import ServiceContext
from identity_app import CARD, MOBILE, RESIDENT_ID, account_opening_app, good_values

EXTRA = [
    {
        "key": "sectors",
        "type": "multi_choice",
        "label": {"en": "Sectors", "zh": "行业"},
        "options": [
            {"value": "retail", "label": {"en": "Retail", "zh": "零售"}},
            {"value": "sme", "label": {"en": "SME", "zh": "小微"}},
        ],
    },
    {"key": "share", "type": "percent", "label": {"en": "Share", "zh": "持股比例"}},
    {"key": "visit_at", "type": "datetime", "label": {"en": "Visit", "zh": "上门时间"}},
    {"key": "score", "type": "rating", "label": {"en": "Score", "zh": "评分"}},
    {"key": "site", "type": "url", "label": {"en": "Website", "zh": "网站"}},
    {"key": "region", "type": "region", "label": {"en": "Region", "zh": "注册地"}},
]


@pytest.fixture
def clerk(demo_ctx: ServiceContext, browser: Callable[..., Browser]) -> Browser:
    apps.publish_yaml(demo_ctx, account_opening_app(EXTRA))
    return browser("zhang.wei")


def _post(me: Browser, values: dict[str, object]) -> tuple[int, str, str]:
    data: list[tuple[str, str]] = [("csrf_token", me.csrf())]
    for key, value in values.items():
        if isinstance(value, list):
            data.extend((f"{key}[]", item) for item in value)
        else:
            data.append((key, str(value)))
    response = me.post(
        "/apps/account_opening/new",
        content=urlencode(data),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    return response.status_code, response.text, response.headers.get("location", "")


def test_each_type_gets_its_widget(clerk: Browser) -> None:
    html = clerk.get("/apps/account_opening/new").text
    assert re.search(r'id="f-legal_rep_mobile"[^>]*inputmode="tel"[^>]*autocomplete="off"', html)
    assert re.search(r'id="f-settlement_card"[^>]*inputmode="numeric"', html)
    assert re.search(r'id="f-legal_rep_id"[^>]*autocomplete="off"[^>]*maxlength="22"', html)
    assert "18 位，最后一位可为 X" in html  # the help a clerk reads
    assert html.count('type="checkbox" name="sectors[]"') == 2
    assert 'type="datetime-local"' in html
    assert html.count('type="radio" name="score"') == 5
    assert re.search(r'id="f-site"[^>]*type="url"', html)
    assert re.search(r'id="f-region"[^>]*list="f-region-list"', html)
    assert 'hx-get="/regions?field=region"' in html


def test_bad_numbers_are_refused_next_to_their_fields_without_echo(clerk: Browser) -> None:
    bad_id = RESIDENT_ID[:-1] + "1"
    status, html, _ = _post(
        clerk, good_values(legal_rep_id=bad_id, settlement_card=CARD[:-1] + "7")
    )
    assert status == 422
    assert "身份证号校验位错误" in html
    assert "银行卡号校验位错误" in html
    assert bad_id not in html.replace(f'value="{bad_id}"', "")  # only in its own input


def test_a_filed_ticket_shows_personal_numbers_masked(clerk: Browser) -> None:
    values = good_values(
        sectors=["sme", "retail"],
        share="12.5%",
        visit_at="2026-12-03T13:30",
        score="4",
        site="https://example.com",
        region="440305",
    )
    status, html, location = _post(clerk, values)
    assert status == 303, html
    page = clerk.get(location).text
    assert "110***********002X" in page and RESIDENT_ID not in page
    assert "138****5678" in page and MOBILE not in page
    assert "622202*********0128" in page and CARD not in page
    assert "零售、小微" in page
    assert "12.50%" in page
    assert "2026-12-03 13:30" in page
    assert "★★★★☆ 4/5" in page
    assert "广东省 深圳市 南山区" in page


def test_a_holder_of_the_role_sees_full_numbers_with_a_reason(
    demo_ctx: ServiceContext, clerk: Browser, browser: Callable[..., Browser]
) -> None:
    status, _, location = _post(clerk, good_values())
    assert status == 303
    ticket_path = location
    reviewer = browser("li.na")
    assert 'data-testid="unmask-form"' not in reviewer.get(ticket_path).text
    org.ensure_role(demo_ctx, key=views.UNMASK_ROLE, name_en="Personal data", name_zh="个人信息")
    roles = org.get_user(demo_ctx, None, "li.na").roles
    org.save_user(demo_ctx, None, "li.na", {"roles": [*roles, views.UNMASK_ROLE]})
    reviewer = browser("li.na")  # the role counts from the next sign-in's request on
    page = reviewer.get(ticket_path).text
    assert 'data-testid="unmask-form"' in page and RESIDENT_ID not in page
    refused = reviewer.post(
        f"{ticket_path}/unmask", data={"reason": " ", "csrf_token": reviewer.csrf()}
    )
    assert refused.status_code == 422 and RESIDENT_ID not in refused.text
    shown = reviewer.post(
        f"{ticket_path}/unmask", data={"reason": "核实开户意愿", "csrf_token": reviewer.csrf()}
    )
    assert shown.status_code == 200
    assert RESIDENT_ID in shown.text and "138 1234 5678" in shown.text
    assert "6222 0212 3456 7890 128" in shown.text
    assert "本次查看已记入审计日志" in shown.text
    # the next look at the page is masked again
    assert RESIDENT_ID not in reviewer.get(ticket_path).text


def test_a_region_field_suggests_divisions_by_name_or_code(clerk: Browser) -> None:
    found = clerk.get("/regions", params={"field": "region", "region": "深圳市南山"})
    assert found.status_code == 200
    assert '<option value="440305">广东省 深圳市 南山区</option>' in found.text
    by_code = clerk.get("/regions", params={"field": "region", "region": "110101"}).text
    assert "北京市 东城区" in by_code
    assert "<option" not in clerk.get("/regions", params={"field": "region"}).text
