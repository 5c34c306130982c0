"""GET /tickets/export: a list as XLSX or CSV, typed, masked, permission-checked like the
list, formula injection defused (ADR 0032)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from api_client import Api, assert_problem
from openpyxl import load_workbook

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext
from identity_app import CARD, MOBILE, RESIDENT_ID, account_opening_app, good_values

EXTRA = [
    {
        "key": "capital",
        "type": "money",
        "currency": "CNY",
        "label": {"en": "Capital", "zh": "注册资本"},
    },
    {"key": "staff", "type": "integer", "label": {"en": "Staff", "zh": "员工数"}},
    {"key": "share", "type": "percent", "label": {"en": "Share", "zh": "占比"}},
    {"key": "founded", "type": "date", "label": {"en": "Founded", "zh": "成立日期"}},
    {"key": "visit", "type": "datetime", "label": {"en": "Visit", "zh": "走访时间"}},
    {"key": "listed", "type": "boolean", "label": {"en": "Listed", "zh": "上市"}},
    {"key": "note", "type": "text", "label": {"en": "Note", "zh": "备注"}},
]
INJECTION = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def opening(api: Api, demo_ctx: ServiceContext) -> Api:
    apps.publish_yaml(demo_ctx, account_opening_app(EXTRA))
    values = good_values(
        capital="1234567.89",
        staff=42,
        share="12.50",
        founded="2020-02-29",
        visit="2026-12-03T05:30:00Z",
        listed=True,
        note=INJECTION,
    )
    filed = api.post("zhang.wei", "/apps/account_opening/tickets", json={"values": values})
    assert filed.status_code == 201, filed.text
    return api


def _workbook(content: bytes) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    return [tuple(c.value for c in row) for row in sheet.iter_rows()]


def test_xlsx_keeps_types_masks_personal_numbers_and_defuses_formulas(opening: Api) -> None:
    answer = opening.get(
        "zhang.wei",
        "/tickets/export",
        params={"scope": "mine", "app": "account_opening", "format": "xlsx"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = answer.headers["content-disposition"]
    assert "filename*=UTF-8''KH-%E5%B7%A5%E5%8D%95-" in disposition and disposition.endswith(
        ".xlsx"
    )
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["编号", "标题", "状态"]
    assert "注册资本 (CNY)" in header
    row = dict(zip(header, sheet[2], strict=True))
    assert str(row["编号"].value).startswith("KH-")
    assert row["状态"].value == "审批中"
    assert row["申请人"].value
    assert isinstance(row["提交时间"].value, datetime)
    capital = row["注册资本 (CNY)"]
    assert capital.data_type == "n" and Decimal(str(capital.value)) == Decimal("1234567.89")
    assert capital.number_format == "#,##0.00"
    assert row["员工数"].value == 42 and row["员工数"].data_type == "n"
    assert row["占比"].value == pytest.approx(0.125) and row["占比"].number_format == "0.00%"
    assert row["成立日期"].value == datetime(2020, 2, 29)  # Excel dates read back as datetimes
    assert row["成立日期"].is_date
    assert row["走访时间 (Asia/Shanghai)"].value == datetime(2026, 12, 3, 13, 30)
    assert row["上市"].value is True
    assert row["备注"].data_type == "s" and row["备注"].value == "'" + INJECTION
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
    shown = [str(c.value) for r in sheet.iter_rows() for c in r]
    for number in (RESIDENT_ID, MOBILE, CARD):
        assert not any(number in value for value in shown)
    assert "110***********002X" in shown and "138****5678" in shown


def test_csv_has_a_bom_masks_and_defuses(opening: Api) -> None:
    answer = opening.get(
        "zhang.wei",
        "/tickets/export",
        params={"scope": "mine", "app": "account_opening", "format": "csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[0] == "Serial"
    assert first["Capital (CNY)"] == "1234567.89"
    assert first["Staff"] == "42"
    assert first["Share"] == "12.50%"
    assert first["Founded"] == date(2020, 2, 29).isoformat()
    assert first["Visit (Asia/Shanghai)"] == "2026-12-03 13:30"
    assert first["Note"] == "'" + INJECTION
    assert RESIDENT_ID not in answer.text and CARD not in answer.text
    assert "110***********002X" in answer.text


def test_export_shows_only_what_the_list_shows(opening: Api) -> None:
    stranger = opening.get(
        "song.jie", "/tickets/export", params={"app": "account_opening", "format": "csv"}
    )
    assert stranger.status_code == 200
    assert len(list(csv.reader(io.StringIO(stranger.content.decode("utf-8-sig"))))) == 1
    listed = opening.get("song.jie", "/tickets", params={"app": "account_opening"}).json()
    assert listed["items"] == []
    assert_problem(
        opening.get("song.jie", "/tickets/export", params={"scope": "all"}), 403, "forbidden"
    )
    everything = opening.get(
        "admin", "/tickets/export", params={"scope": "all", "app": "account_opening"}
    )
    assert len(_workbook(everything.content)) == 2


def test_a_bad_filter_is_the_lists_own_422(opening: Api) -> None:
    refused = opening.get("zhang.wei", "/tickets/export", params={"status": "lost"})
    assert_problem(refused, 422, "invalid_query")
    refused = opening.get("zhang.wei", "/tickets/export", params={"format": "pdf"})
    assert refused.status_code == 422


def test_more_rows_than_the_cap_is_a_422(opening: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowdesk.services import ticket_export

    monkeypatch.setattr(ticket_export, "MAX_EXPORT_ROWS", 0)
    refused = opening.get("zhang.wei", "/tickets/export", params={"scope": "mine"})
    assert_problem(refused, 422, "export_too_large")


@pytest.mark.parametrize("sort", ["created", "updated"])
def test_every_row_once_across_batches_in_the_lists_order(
    opening: Api, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    from flowdesk.services import ticket_export

    for n in range(4):
        values = good_values(company=f"公司{n}")
        assert (
            opening.post(
                "zhang.wei", "/apps/account_opening/tickets", json={"values": values}
            ).status_code
            == 201
        )
    monkeypatch.setattr(ticket_export, "BATCH", 2)
    params = {"scope": "mine", "sort": sort, "order": "asc", "format": "csv"}
    answer = opening.get("zhang.wei", "/tickets/export", params=params)
    serials = [r[0] for r in csv.reader(io.StringIO(answer.content.decode("utf-8-sig")))][1:]
    listed = opening.get(
        "zhang.wei", "/tickets", params={"scope": "mine", "sort": sort, "order": "asc"}
    ).json()
    assert serials == [t["serial"] for t in listed["items"]]
    assert len(serials) == len(set(serials)) >= 5
