"""The two XLSX readers of an import (ADR 0038) give the same rows: python-calamine for
plain sheets, openpyxl's streaming mode for sheets with formulas (it names the cell)."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from flowdesk.services import spreadsheets
from flowdesk.services.spreadsheets import FileRefused


def _book(formula: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["B2"] = "客户名称"
    sheet["C2"] = "金额"
    sheet["D2"] = "日期"
    sheet["B3"] = "北京华信"
    sheet["C3"] = 1200.5
    sheet["D3"] = date(2026, 12, 3)
    sheet["E3"] = datetime(2026, 12, 3, 9, 30)
    sheet["B5"] = True
    sheet["C5"] = 7
    if formula:
        sheet["D5"] = "=C3*2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _openpyxl_rows(content: bytes) -> list[tuple[int, tuple[str, ...]]]:
    book = spreadsheets.open_workbook(content)
    sheet = book.worksheets[0]
    rows = list(spreadsheets.xlsx_rows(sheet, "s", max_columns=10, max_cell=100))
    book.close()
    return rows


def _trimmed(rows: list[tuple[int, tuple[str, ...]]]) -> list[tuple[int, tuple[str, ...]]]:
    """Rows with their trailing blank cells and blank rows left out (readers differ there)."""
    out = []
    for number, cells in rows:
        kept = list(cells)
        while kept and not kept[-1]:
            kept.pop()
        if kept:
            out.append((number, tuple(kept)))
    return out


def test_calamine_reads_what_openpyxl_reads() -> None:
    content = _book()
    fast = spreadsheets.fast_xlsx_rows(content, max_columns=10, max_cell=100)
    assert fast is not None
    assert _trimmed(list(fast)) == _trimmed(_openpyxl_rows(content))
    assert _trimmed(_openpyxl_rows(content))[1] == (
        3,
        ("", "北京华信", "1200.5", "2026-12-03", "2026-12-03T09:30:00"),
    )


def test_a_sheet_with_a_formula_goes_to_openpyxl_which_names_the_cell() -> None:
    content = _book(formula=True)
    assert spreadsheets.fast_xlsx_rows(content, max_columns=10, max_cell=100) is None
    with pytest.raises(FileRefused) as refused:
        _openpyxl_rows(content)
    assert refused.value.code == "formulas_refused" and "D5" in refused.value.message


def test_a_damaged_workbook_is_refused_by_either() -> None:
    with pytest.raises(FileRefused) as refused:
        spreadsheets.fast_xlsx_rows(b"PK\x03\x04 not a zip", max_columns=10, max_cell=100)
    assert refused.value.code == "invalid_xlsx"
