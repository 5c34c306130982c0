"""A ticket list as a spreadsheet (XLSX or CSV): what the list shows, typed (ADR 0032).

The columns are the list's (serial, title, status, current step and who holds it,
applicant, filed, changed, finished) and, when the list is filtered to one app
(`app=`), that app's form fields in form order. Values keep their types: numbers
as numbers with their decimals, money as a number with the currency's decimals and
the currency in the header, a percent as a percent, dates as dates, moments in the
bank's time zone. Personal numbers are masked exactly as the list masks them
(RELIABILITY promise 8): an export is not a way around unmasking. The rows are the
list's own (same filters, sort and permission), read in batches: an XLSX is written
in openpyxl's write-only mode to a temporary file and a CSV is streamed, so a large
export holds one batch in memory, never the list.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO, Literal
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import FieldSpec, FieldType, FormSpec, display_value, masked_value
from flowdesk.kernel.errors import ErrorDetail, NotFound, ValidationFailed
from flowdesk.kernel.serials import BANK_ZONE
from flowdesk.services import views
from flowdesk.services.context import ServiceContext
from flowdesk.services.list_query import ListQuery
from flowdesk.services.spreadsheets import UTF8_BOM, XLSX_MEDIA_TYPE, formula_safe

Format = Literal["xlsx", "csv"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv")
MAX_EXPORT_ROWS = 100_000
BATCH = 500
DATE_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"
CHUNK = 64 * 1024

_STATUS = {
    "running": ("In progress", "审批中"),
    "approved": ("Approved", "已通过"),
    "rejected": ("Rejected", "已驳回"),
    "cancelled": ("Cancelled", "已撤销"),
    "revoked": ("Revoked after approval", "通过后已撤销"),
}
_HEADERS = {
    "serial": ("Serial", "编号"),
    "title": ("Title", "标题"),
    "status": ("Status", "状态"),
    "step": ("Current step", "当前步骤"),
    "holders": ("Held by", "处理人"),
    "applicant": ("Applicant", "申请人"),
    "created": ("Filed", "提交时间"),
    "updated": ("Last changed", "最后更新"),
    "finished": ("Finished", "完成时间"),
}
_NUMBER_FIELDS = frozenset({FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY})


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    chunks: Iterator[bytes]

    @property
    def content_disposition(self) -> str:
        """The file's name for every browser: an ASCII fallback and the exact UTF-8 one."""
        ascii_name = self.filename.encode("ascii", "replace").decode().replace("?", "_")
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename)}"


@dataclass(frozen=True)
class _Cell:
    """One value as the spreadsheet should hold it, and the number format to show it in."""

    value: Any
    number_format: str | None = None
    csv_text: str | None = None  # when CSV writes it otherwise (a percent: "12.50%")


def export_tickets(
    ctx: ServiceContext,
    actor: Actor,
    query: ListQuery,
    *,
    scope: views.TicketScope = "visible",
    format: Format = "xlsx",
    locale: str = "en",
) -> Export:
    """The list as a file; more than MAX_EXPORT_ROWS rows is a 422 `export_too_large`
    (narrow the filters), checked before anything is written."""
    if format not in FORMATS:
        raise ValidationFailed(
            "Unknown export format",
            [ErrorDetail("format", "invalid_format", "One of: xlsx, csv")],
            code="invalid_query",
        )
    count = views.count_tickets(ctx, actor, query, scope=scope, up_to=MAX_EXPORT_ROWS + 1)
    if count > MAX_EXPORT_ROWS:
        zh = locale.lower().startswith("zh")
        raise ValidationFailed(
            f"导出最多 {MAX_EXPORT_ROWS} 行：请缩小筛选范围"
            if zh
            else f"An export holds at most {MAX_EXPORT_ROWS} rows: narrow the filters",
            [ErrorDetail("", "export_too_large", f"At most {MAX_EXPORT_ROWS} rows")],
            code="export_too_large",
        )
    form, prefix = _app_form(ctx, query)
    zh = locale.lower().startswith("zh")
    headers = [pair[1 if zh else 0] for pair in _HEADERS.values()]
    fields = form.fields if form is not None else ()
    headers += [_field_header(f, locale) for f in fields]
    today = ctx.clock.now().astimezone(BANK_ZONE).strftime("%Y%m%d")
    filename = f"{prefix}-{'工单' if zh else 'tickets'}-{today}.{format}"
    batches = views.ticket_batches(ctx, actor, query, scope=scope, locale=locale, batch=BATCH)
    rows = (_row(t, fields, locale) for batch in batches for t in batch)
    if format == "csv":
        return Export(filename, "text/csv; charset=utf-8", _csv_chunks(headers, rows))
    return Export(filename, XLSX_MEDIA_TYPE, _xlsx_chunks(headers, rows))


def _app_form(ctx: ServiceContext, query: ListQuery) -> tuple[FormSpec | None, str]:
    """The form whose fields are columns (the app's current version) and the file name's
    prefix (its serial prefix); without `app=` neither."""
    if query.app is None:
        return None, "flowdesk"
    with ctx.db.read() as conn:
        try:
            app = ctx.apps.current(conn, query.app)
        except NotFound:  # an app filed under, since removed: the list's own columns
            return None, "flowdesk"
    return app.spec.form, app.spec.serial_prefix


def _field_header(field: FieldSpec, locale: str) -> str:
    label = field.label.get(locale) or field.key
    if field.type is FieldType.MONEY and field.currency:
        return f"{label} ({field.currency})"
    if field.type is FieldType.DATETIME:
        return f"{label} ({BANK_ZONE})"
    return label


def _row(ticket: views.TicketSummary, fields: tuple[FieldSpec, ...], locale: str) -> list[_Cell]:
    zh = locale.lower().startswith("zh")
    status = _STATUS.get(ticket.status)
    steps = "; ".join(c.name.get("zh" if zh else "en") or c.node_id for c in ticket.current)
    holders = "; ".join(p.name for c in ticket.current for p in c.holders)
    cells = [
        _Cell(ticket.serial),
        _Cell(ticket.title),
        _Cell(status[1 if zh else 0] if status else ticket.status),
        _Cell(steps),
        _Cell(holders),
        _Cell(ticket.requester.name if ticket.requester else ticket.requester_id),
        _moment(ticket.created_at),
        _moment(ticket.updated_at),
        _moment(ticket.finished_at),
    ]
    values = ticket.stored_values
    for field in fields:
        cells.append(_field_cell(field, values.get(field.key), locale))
    return cells


def _moment(moment: datetime | None) -> _Cell:
    if moment is None:
        return _Cell(None)
    # Excel has no time zones: the bank's wall-clock time, as the lists show it
    local = moment.astimezone(BANK_ZONE).replace(tzinfo=None, microsecond=0)
    return _Cell(local, MOMENT_FORMAT)


def _field_cell(field: FieldSpec, stored: object, locale: str) -> _Cell:
    if stored is None:
        return _Cell(None)
    if field.type is FieldType.TABLE:
        # a sub-table in one cell: its row count and totals (ADR 0036); the rows are on
        # the ticket page and in the API
        return _Cell(display_value(field, stored, locale))
    if field.personal:
        return _Cell(masked_value(field, stored))
    kind = field.type
    try:
        if kind in _NUMBER_FIELDS:
            number = Decimal(str(stored))
            places = field.decimals or 0
            if kind is FieldType.INTEGER or places == 0:
                return _Cell(int(number), "0" if kind is FieldType.INTEGER else "#,##0")
            return _Cell(number, "#,##0." + "0" * places)
        if kind is FieldType.PERCENT:
            places = field.decimals or 0
            shown = "0" + ("." + "0" * places if places else "") + "%"
            return _Cell(Decimal(str(stored)) / 100, shown, f"{stored}%")
        if kind is FieldType.RATING:
            return _Cell(int(str(stored)), "0")
        if kind is FieldType.DATE:
            return _Cell(date.fromisoformat(str(stored)), DATE_FORMAT)
        if kind is FieldType.DATETIME:
            return _moment(datetime.fromisoformat(str(stored)))
        if kind is FieldType.BOOLEAN:
            return _Cell(bool(stored))
        return _Cell(display_value(field, stored, locale))
    except (InvalidOperation, ValueError):
        return _Cell(str(stored))  # a stored value of an older shape: shown as it is


def _text(value: Any) -> Any:
    return formula_safe(value) if isinstance(value, str) else value


def _xlsx_chunks(headers: list[str], rows: Iterator[list[_Cell]]) -> Iterator[bytes]:
    """The workbook written row by row (write-only mode keeps no rows in memory) to a
    temporary file, then sent in chunks; the file is gone when the answer is."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("tickets")
    sheet.freeze_panes = "A2"
    sheet.append([_text(h) for h in headers])
    for row in rows:
        out = []
        for cell in row:
            written = WriteOnlyCell(sheet, value=_text(cell.value))
            if cell.number_format is not None:
                written.number_format = cell.number_format
            out.append(written)
        sheet.append(out)
    spool: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the generator)
    try:
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def _csv_value(cell: _Cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if cell.csv_text is not None:
        return cell.csv_text
    if isinstance(value, Decimal | int):
        return str(value)
    return formula_safe(str(value))


def _csv_chunks(headers: list[str], rows: Iterator[list[_Cell]]) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Chinese right), one batch of rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([formula_safe(h) for h in headers])
    yield UTF8_BOM + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for number, row in enumerate(rows, 1):
        writer.writerow([_csv_value(c) for c in row])
        if number % BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
