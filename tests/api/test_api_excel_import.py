"""POST /apps/{key}/imports: tickets from the rows of an XLSX or CSV file, every row
validated, all or nothing by default, errors by row and field, bad files refused with a
precise 4xx and nothing filed (ADR 0032)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import httpx2 as httpx
from api_client import Api, assert_problem
from openpyxl import Workbook
from sqlalchemy import text

from flowdesk.services.context import ServiceContext

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["申请人姓名", "贷款金额 (CNY)", "Term (months)", "credit_rating", "区域", "贷款用途"]
GOOD = ["张三", "120,000.00", "12", "A 级（优）", "华东", "采购设备"]


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _post(api: Api, content: bytes, media: str = XLSX, **params: str) -> httpx.Response:
    return api.post(
        "zhang.wei",
        "/apps/loan/imports",
        content=content,
        params=params,
        headers={"Content-Type": media, "Accept-Language": "zh-CN"},
    )


def _loans(api: Api) -> int:
    listed = api.get("zhang.wei", "/tickets", params={"scope": "mine", "app": "loan"})
    return len(listed.json()["items"])


def test_rows_become_tickets_mapped_by_label_and_key(api: Api, demo_ctx: ServiceContext) -> None:
    rows = [HEADER, GOOD, ["李四", 5000, 6, "B", "north", "周转"]]
    answer = _post(api, _xlsx(rows))
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert [c["field"] for c in report["columns"]] == [
        "applicant_name",
        "amount",
        "term_months",
        "credit_rating",
        "region",
        "purpose",
    ]
    assert report["created"] == 2 and report["invalid"] == 0
    ticket = api.get("zhang.wei", f"/tickets/{report['ticket_ids'][0]}").json()
    assert ticket["serial"].startswith("LN-")
    assert ticket["values"]["amount"] == "120000.00"
    assert ticket["values"]["credit_rating"] == "A" and ticket["values"]["region"] == "east"
    assert ticket["requester"]["name"] == "张伟" or ticket["requester"]["id"]
    assert ticket["timeline"][0]["kind"] == "ticket_submitted"
    with demo_ctx.db.read() as conn:
        actions = [
            r.action
            for r in conn.execute(
                text("SELECT action FROM audit_log WHERE action LIKE 'ticket.%' ORDER BY seq")
            )
        ]
    assert sorted(actions[-3:]) == ["ticket.import", "ticket.submit", "ticket.submit"]


def test_one_bad_row_files_nothing_and_lists_every_error(api: Api) -> None:
    before = _loans(api)
    rows = [
        HEADER,
        GOOD,
        ["王五", "12.345", "0", "Z", "华东", "x"],
        ["", "100.00", "12", "A", "华东", ""],
    ]
    refused = _post(api, _xlsx(rows))
    body = assert_problem(refused, 422, "import_rows_invalid")
    paths = [(e["path"], e["code"]) for e in body["errors"]]
    assert ("rows[3].amount", "too_many_decimals") in paths or any(
        p == "rows[3].amount" for p, _ in paths
    )
    assert any(p == "rows[3].term_months" for p, _ in paths)
    assert any(p == "rows[3].credit_rating" for p, _ in paths)
    assert any(p == "rows[4].applicant_name" for p, _ in paths)
    assert any(p == "rows[4].purpose" for p, _ in paths)
    assert "12.345" not in refused.text
    assert _loans(api) == before


def test_valid_rows_mode_files_the_good_rows(api: Api) -> None:
    before = _loans(api)
    rows = [HEADER, GOOD, ["王五", "-1", "12", "A", "华东", "x"], GOOD]
    answer = _post(api, _xlsx(rows), mode="valid_rows")
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert (report["created"], report["invalid"], report["rows"]) == (2, 1, 3)
    assert [e["path"] for e in report["errors"]] == ["rows[3].amount"]
    assert _loans(api) == before + 2


def test_the_preview_files_nothing_and_the_mapping_can_be_changed(api: Api) -> None:
    before = _loans(api)
    rows = [[*HEADER, "备注"], [*GOOD, "ignored"]]
    preview = _post(api, _xlsx(rows), dry_run="true")
    assert preview.status_code == 200, preview.text
    assert preview.json()["columns"][-1] == {"column": "G", "header": "备注", "field": None}
    assert preview.json()["valid"] == 1 and preview.json()["created"] == 0
    remapped = _post(
        api,
        _xlsx(rows),
        dry_run="true",
        mapping=json.dumps({"备注": "purpose", "贷款用途": ""}),
    )
    assert remapped.status_code == 200, remapped.text
    fields = {c["header"]: c["field"] for c in remapped.json()["columns"]}
    assert fields["备注"] == "purpose" and fields["贷款用途"] is None
    bad = _post(api, _xlsx(rows), dry_run="true", mapping=json.dumps({"备注": "nope"}))
    assert_problem(bad, 422, "invalid_mapping")
    unmapping = json.dumps({"贷款金额 (CNY)": ""})
    unmapped = _post(api, _xlsx(rows), dry_run="true", mapping=unmapping)
    assert unmapped.status_code == 200, unmapped.text  # the preview: map it by hand
    assert [(e["path"], e["code"]) for e in unmapped.json()["errors"]] == [
        ("columns.amount", "required_field_unmapped")
    ]
    body = assert_problem(
        _post(api, _xlsx(rows), mapping=unmapping), 422, "required_field_unmapped"
    )
    assert body["errors"][0]["path"] == "columns.amount"
    assert _loans(api) == before


def test_csv_in_utf8_bom_and_gb18030(api: Api) -> None:
    for encoded in (b"\xef\xbb\xbf" + _csv([HEADER, GOOD]), _csv([HEADER, GOOD], "gb18030")):
        answer = _post(api, encoded, "text/csv")
        assert answer.status_code == 201, answer.text
        assert answer.json()["created"] == 1
    refused = _post(api, _csv([HEADER, GOOD], "gb18030"), "text/csv", encoding="utf-8")
    assert_problem(refused, 422, "invalid_encoding")


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _damaged_sheet(workbook: bytes) -> bytes:
    """The workbook with its sheet's XML cut off in the middle of a row."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    entries = {i.filename: source.read(i.filename) for i in source.infolist()}
    sheet = entries["xl/worksheets/sheet1.xml"]
    entries["xl/worksheets/sheet1.xml"] = sheet[: sheet.index(b"<row") + 30]
    return _zip(entries)


def test_bad_files_are_refused_precisely_and_nothing_is_filed(api: Api) -> None:
    before = _loans(api)
    macro = _zip({"[Content_Types].xml": b"<x/>", "xl/vbaProject.bin": b"\x00" * 10})
    bomb = _zip({"xl/worksheets/sheet1.xml": b"0" * 210_000_000})
    formula = _xlsx([HEADER, ["=1+1", *GOOD[1:]]])
    damaged = _damaged_sheet(_xlsx([HEADER, GOOD]))
    wide = _csv([[f"c{i}" for i in range(101)], ["x"] * 101])
    cases = [
        (b"PK\x03\x04 not really a zip", XLSX, "invalid_xlsx"),
        (b"\xd0\xcf\x11\xe0 old excel", XLSX, "xls_refused"),
        (macro, XLSX, "macros_refused"),
        (bomb, XLSX, "file_too_large"),
        (formula, XLSX, "formulas_refused"),
        (damaged, XLSX, "invalid_xlsx"),
        (wide, "text/csv", "too_many_columns"),
        (b"a,b\x00,c\n", "text/csv", "invalid_characters"),
        (b"%PDF-1.4\nnot a table\n", "text/csv", "no_matching_columns"),
        (b"", "text/csv", "empty_file"),
    ]
    for content, media, code in cases:
        assert_problem(_post(api, content, media), 422, code)
    assert_problem(_post(api, b"x", "application/pdf"), 415, "unsupported_media_type")
    assert _loans(api) == before


def test_too_many_rows_files_nothing(api: Api, monkeypatch: Any) -> None:
    from flowdesk.services import ticket_import

    monkeypatch.setattr(ticket_import, "MAX_ROWS", 2)
    before = _loans(api)
    assert_problem(_post(api, _xlsx([HEADER, GOOD, GOOD, GOOD])), 422, "too_many_rows")
    assert _loans(api) == before
