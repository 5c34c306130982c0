"""The import page under an app: preview with the column mapping and row errors, then
all or nothing, or only the valid rows (ADR 0032)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from openpyxl import Workbook
from web_helpers import Browser

HEADER = ["申请人姓名", "贷款金额", "贷款期限（月）", "信用评级", "区域", "贷款用途", "备注"]
GOOD = ["张三", "120000", "12", "A", "华东", "采购设备", "x"]
BAD = ["李四", "abc", "12", "A", "华东", "采购设备", "x"]


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def test_preview_then_import_valid_rows(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    assert 'href="/apps/loan/import"' in me.get("/apps/loan/new").text
    form = me.get("/apps/loan/import")
    assert form.status_code == 200 and "导入" in form.text
    csrf = _hidden(form.text, "csrf_token")
    files = {"file": ("loans.xlsx", _xlsx([HEADER, GOOD, BAD]), "application/octet-stream")}
    preview = me.client.post(
        "/apps/loan/import", data={"csrf_token": csrf, "encoding": "auto"}, files=files
    )
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert 'data-testid="column-mapping"' in page
    assert 'name="map:贷款金额"' in page
    assert "rows[3].amount" in page and "abc" not in page.split("import-counts")[1][:2000]
    payload = _hidden(page, "payload")
    refused = me.client.post(
        "/apps/loan/import",
        data={
            "csrf_token": csrf,
            "apply": "1",
            "name": "loans.xlsx",
            "payload": payload,
            "mode": "all",
            "map:备注": "",
        },
    )
    assert refused.status_code == 422
    assert 'data-testid="import-valid-rows"' in refused.text
    assert 'data-testid="column-mapping"' in refused.text  # to change the columns
    before = me.get("/tickets?app=loan").text.count('data-testid="row-serial"')
    done = me.client.post(
        "/apps/loan/import",
        data={
            "csrf_token": csrf,
            "apply": "1",
            "name": "loans.xlsx",
            "payload": payload,
            "mode": "valid_rows",
        },
    )
    assert done.status_code == 200, done.text
    assert "已导入 1 张工单" in done.text
    after = me.get("/tickets?app=loan").text.count('data-testid="row-serial"')
    assert after == before + 1


def test_a_bad_file_is_named_in_the_page(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    csrf = _hidden(me.get("/apps/loan/import").text, "csrf_token")
    files = {"file": ("old.xls", b"\xd0\xcf\x11\xe0 old", "application/octet-stream")}
    refused = me.client.post("/apps/loan/import", data={"csrf_token": csrf}, files=files)
    assert refused.status_code == 422
    assert 'data-code="xls_refused"' in refused.text


def test_an_unmatched_column_is_mapped_by_hand(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    csrf = _hidden(me.get("/apps/loan/import").text, "csrf_token")
    header = [*HEADER[:1], "金额（元）", *HEADER[2:]]
    files = {"file": ("loans.xlsx", _xlsx([header, GOOD]), "application/octet-stream")}
    preview = me.client.post("/apps/loan/import", data={"csrf_token": csrf}, files=files)
    assert preview.status_code == 200, preview.text
    assert 'data-code="required_field_unmapped"' in preview.text
    done = me.client.post(
        "/apps/loan/import",
        data={
            "csrf_token": csrf,
            "apply": "1",
            "name": "loans.xlsx",
            "payload": _hidden(preview.text, "payload"),
            "mode": "all",
            "map:金额（元）": "amount",
        },
    )
    assert done.status_code == 200, done.text
    assert "已导入 1 张工单" in done.text
