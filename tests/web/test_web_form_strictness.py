"""The web form class: look-alike digits, bad grouping, duplicated fields, invisible-only
values, line breaks in a single-line text and invalid UTF-8 are all refused, and nothing is
filed. The same values through the JSON API are refused too where they apply."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from web_helpers import LOAN, Browser

from flowdesk.services import demo
from flowdesk.services.context import ServiceContext
from flowdesk.store.tables import Ticket

FIELD_ERROR = re.compile(r'data-testid="error-(\w+)">([^<]*)<')


def _tickets(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(Ticket)).scalar_one())


def _errors(html: str) -> dict[str, str]:
    return dict(FIELD_ERROR.findall(html))


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("amount", "①②", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("amount", "¹²⁰⁰⁰", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("amount", "𝟏𝟐𝟎𝟎𝟎", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        (
            "amount",
            "0,012",
            "Separate thousands with commas in groups of three, such as 1,234,567.89",
        ),
        (
            "amount",
            "1,23",
            "Separate thousands with commas in groups of three, such as 1,234,567.89",
        ),
        (
            "amount",
            "12,,3",
            "Separate thousands with commas in groups of three, such as 1,234,567.89",
        ),
        ("term_months", "③⑥", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("applicant_name", "\u200b", "Contains only invisible characters; type the value"),
        ("applicant_name", "\ufeff", "Contains only invisible characters; type the value"),
        ("applicant_name", "李\n雷", "Must be a single line (no line breaks)"),
        ("applicant_name", "李雷\r\n", "Must be a single line (no line breaks)"),
        ("purpose", "\u200b\u200c", "Contains only invisible characters; type the value"),
    ],
)
def test_the_new_ticket_form_refuses_the_whole_class(
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    field: str,
    typed: str,
    message: str,
) -> None:
    me = browser("zhang.wei", locale="en")
    before = _tickets(demo_ctx)
    response = me.submit_loan(**{field: typed})
    assert response.status_code == 422
    assert _errors(response.text)[field] == message
    assert _tickets(demo_ctx) == before


def test_full_width_digits_and_good_grouping_are_filed(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei")
    ticket_id = me.file_loan(amount="１２０，０００．５０", term_months="３６")
    page = me.get(f"/tickets/{ticket_id}").text
    assert "120,000.50" in page


def test_a_duplicated_field_refuses_the_whole_submission(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei", locale="zh")
    token = me.csrf()
    before = _tickets(demo_ctx)
    fields = [*LOAN.items(), ("amount", "99999999.00"), ("csrf_token", token)]
    response = me.post(
        "/apps/loan/new",
        content="&".join(f"{k}={quote(v)}" for k, v in fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "表单中有重复的字段" in response.text
    assert _tickets(demo_ctx) == before
    # A repeated CSRF token is a duplicate as well: which copy counts is never a guess.
    doubled = [*LOAN.items(), ("csrf_token", "wrong"), ("csrf_token", token)]
    response = me.post(
        "/apps/loan/new",
        content="&".join(f"{k}={quote(v)}" for k, v in doubled),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert _tickets(demo_ctx) == before


def _urlencoded(pairs: list[tuple[str, str]], raw_name: bytes) -> bytes:
    body = "&".join(f"{k}={quote(v)}" for k, v in pairs).encode()
    return body + b"&applicant_name=" + raw_name


@pytest.mark.parametrize("raw_name", [b"%FF%FE", b"%E6%9D", b"\xff\xfe", b"%C0%AF"])
def test_invalid_utf8_in_an_urlencoded_form_is_refused(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, raw_name: bytes
) -> None:
    me = browser("zhang.wei", locale="zh")
    pairs = [(k, v) for k, v in LOAN.items() if k != "applicant_name"]
    pairs.append(("csrf_token", me.csrf()))
    before = _tickets(demo_ctx)
    response = me.post(
        "/apps/loan/new",
        content=_urlencoded(pairs, raw_name),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "表单内容不是有效的 UTF-8 文本" in response.text
    assert "\ufffd" not in response.text
    assert _tickets(demo_ctx) == before


def _multipart(fields: list[tuple[str, bytes]], boundary: str = "flowdeskXYZ") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
        for k, v in fields
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def test_invalid_utf8_in_a_multipart_form_is_refused(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    me = browser("zhang.wei", locale="en")
    token = me.csrf()
    good = [(k, v.encode()) for k, v in LOAN.items()] + [("csrf_token", token.encode())]
    headers = {"Content-Type": "multipart/form-data; boundary=flowdeskXYZ"}
    before = _tickets(demo_ctx)
    bad = [(k, b"\xe6\x9d" if k == "applicant_name" else v) for k, v in good]
    response = me.post(
        "/apps/loan/new", content=_multipart(bad), headers=headers, follow_redirects=False
    )
    assert response.status_code == 400
    assert "The form was not sent as valid UTF-8 text" in response.text
    assert _tickets(demo_ctx) == before
    # The same form in valid UTF-8 (Chinese included) is filed.
    response = me.post(
        "/apps/loan/new", content=_multipart(good), headers=headers, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert _tickets(demo_ctx) == before + 1


def test_the_api_refuses_a_newline_and_an_invisible_name(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    client = browser().client
    token = client.post(
        "/api/v1/auth/token",
        json={"username": "zhang.wei", "password": demo.DEMO_PASSWORD, "name": "tests"},
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['token']}"}
    values = {
        "applicant_name": "李\n雷",
        "amount": "1000.00",
        "term_months": 12,
        "credit_rating": "A",
        "region": "north",
        "purpose": "\u200b",
    }
    response = client.post("/api/v1/apps/loan/tickets", json={"values": values}, headers=auth)
    assert response.status_code == 422
    codes = {(e["path"], e["code"]) for e in response.json()["errors"]}
    assert codes == {
        ("applicant_name", "newline_not_allowed"),
        ("purpose", "invisible_only"),
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.binary(max_size=12),
    amount=st.text(
        alphabet=st.characters(categories=("Nd", "No", "Cf", "Zs", "Po")), min_size=1, max_size=8
    ),
    repeat=st.booleans(),
)
def test_fuzz_the_new_ticket_form_never_fails_and_never_repairs(
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    name: bytes,
    amount: str,
    repeat: bool,
) -> None:
    """Random bytes for the name, digit-like or invisible text for the amount, maybe a field
    twice: the answer is a 303 with exactly what was typed, or a 400/422 that filed nothing."""
    me = _fuzz_browser(browser)
    pairs = [(k, v) for k, v in LOAN.items() if k not in ("applicant_name", "amount")]
    pairs += [("amount", amount), ("csrf_token", me.csrf())]
    if repeat:
        pairs.append(("region", "south"))
    before = _tickets(demo_ctx)
    body = _urlencoded(pairs, quote(name).encode())
    response = me.post(
        "/apps/loan/new",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code in (303, 400, 422), response.text[:200]
    if response.status_code != 303:
        assert _tickets(demo_ctx) == before
        return
    assert not repeat
    ticket = me.get(response.headers["location"]).text
    typed_name = name.decode("utf-8")  # only valid UTF-8 may have been filed
    assert typed_name.strip()
    assert "\ufffd" not in ticket or "\ufffd" in typed_name
    digits = amount.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    assert any(c in "0123456789" for c in digits)


_BROWSERS: weakref.WeakKeyDictionary[Callable[..., Browser], Browser] = weakref.WeakKeyDictionary()


def _fuzz_browser(browser: Callable[..., Browser]) -> Browser:
    """One logged-in browser per test run (hypothesis calls the test body many times with
    the same fixtures); keyed weakly by the fixture, so the next test logs in afresh."""
    if browser not in _BROWSERS:
        _BROWSERS[browser] = browser("zhang.wei", locale="en")
    return _BROWSERS[browser]
