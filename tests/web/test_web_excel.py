"""The ticket lists' Export buttons (XLSX, CSV) and the import page under an app (ADR 0032)."""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import load_workbook
from web_helpers import Browser


def test_my_tickets_export_keeps_the_filters(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    me.file_loan(amount="120000.00", purpose="采购生产设备一批")
    me.file_loan(amount="5000.00", purpose="办公用品")
    page = me.get("/tickets?q=设备").text
    assert 'data-testid="export-xlsx"' in page and "导出 Excel" in page
    assert "/tickets/export?q=%E8%AE%BE%E5%A4%87&amp;format=xlsx" in page
    answer = me.get("/tickets/export?q=设备&app=loan&format=xlsx")
    assert answer.status_code == 200
    assert "filename*=UTF-8''LN-" in answer.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(answer.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[0][10] == "贷款金额 (CNY)"
    assert rows[1][10] == 120000 and rows[1][-1] == "采购生产设备一批"
    csv_answer = me.get("/tickets/export?format=csv")
    assert csv_answer.content.startswith(b"\xef\xbb\xbf")
    assert csv_answer.content.decode("utf-8-sig").count("\r\n") == 3


def test_a_bad_filter_or_scope_is_refused_not_a_500(browser: Callable[..., Browser]) -> None:
    me = browser("zhang.wei")
    assert me.get("/tickets/export?status=lost").status_code in (400, 422)
    assert me.get("/tickets/export?scope=all").status_code == 403
