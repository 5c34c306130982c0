"""Reading and writing spreadsheets safely: what the org-chart import and the ticket
import and export share (ADR 0013, ADR 0032).

Reading: an XLSX is a zip, so its unpacked size is checked before it is opened (a zip
bomb is refused, not inflated), macros and formulas are refused, and the rows are read
in openpyxl's read-only (streaming) mode; a CSV is UTF-8, UTF-8 with BOM or GB18030.
Writing: every text cell that a spreadsheet would run as a formula (= + - @, tab, CR)
is written with a leading apostrophe, as OWASP advises for CSV injection.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any, Literal

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed

Encoding = Literal["auto", "utf-8", "gb18030"]
ENCODINGS: tuple[Encoding, ...] = ("auto", "utf-8", "gb18030")
MAX_UNZIPPED_BYTES = 200_000_000  # an XLSX is a zip: a tiny file may inflate hugely
UTF8_BOM = b"\xef\xbb\xbf"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What Excel, LibreOffice and Sheets start a formula with (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[int, tuple[str, ...]]  # (row number as the spreadsheet shows it, cells as text)


class FileRefused(ValidationFailed):
    """The file as a whole cannot be read (format, size, formulas, macros, encoding)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, [ErrorDetail("file", code, message)], code)


def is_xlsx(content: bytes) -> bool:
    return content.startswith(b"PK\x03\x04")


def refuse_old_excel(content: bytes) -> None:
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "Old Excel (.xls) files are not read: save the workbook as .xlsx", "xls_refused"
        )


def open_workbook(content: bytes) -> Any:
    """The workbook in read-only (streaming) mode, after the zip's own checks: its unpacked
    size (zip bombs) and macros (vbaProject.bin) are refused before openpyxl reads it."""
    check_archive(content)
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise FileRefused("The file is not a readable XLSX workbook", "invalid_xlsx") from None


def check_archive(content: bytes) -> None:
    """An XLSX's zip checks, before any reader inflates it: unpacked size, macros."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused("The file is not a readable XLSX workbook", "invalid_xlsx") from None
    if sum(entry.file_size for entry in entries) > MAX_UNZIPPED_BYTES:
        raise FileRefused("The workbook unpacks to more than 200 MB", "file_too_large")
    names = {entry.filename.lower() for entry in entries}
    if any(n.endswith("vbaproject.bin") for n in names):
        raise FileRefused(
            "Workbooks with macros are refused: save as a plain .xlsx", "macros_refused"
        )


# A formula element in a worksheet part (<f>, <f t="shared" …/>, a prefixed <x:f>)
_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z0-9_]+:)?f[\s>/]")
_SCAN_CHUNK = 1 << 20
# calamine holds the whole sheet in memory (~5× its XML): sheets above this are streamed
# by openpyxl instead, so an import's memory stays bounded however wide the file
CALAMINE_MAX_SHEET_BYTES = 40_000_000


def _sheet_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        entry
        for entry in archive.infolist()
        if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml")
    ]


def has_formulas(content: bytes) -> bool:
    """Whether any worksheet of the (already checked) XLSX holds a formula, read as a
    stream of its XML parts (the zip was checked by open_workbook or fast_xlsx_rows)."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    for entry in _sheet_parts(archive):
        name = entry.filename
        tail = b""
        with archive.open(name) as part:
            while chunk := part.read(_SCAN_CHUNK):
                if _FORMULA_ELEMENT.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    return False


def fast_xlsx_rows(content: bytes, *, max_columns: int, max_cell: int) -> Iterator[Row] | None:
    """The first sheet's rows read by python-calamine (Rust; ~19× openpyxl's read-only
    mode, ADR 0038), after the zip checks of `open_workbook`; None when a worksheet holds
    a formula (the caller reads it with openpyxl, which names the cell it refuses) or the
    sheets are too large to hold in memory (openpyxl streams them)."""
    check_archive(content)
    sheets = _sheet_parts(zipfile.ZipFile(io.BytesIO(content)))
    if sum(e.file_size for e in sheets) > CALAMINE_MAX_SHEET_BYTES or has_formulas(content):
        return None
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = book.get_sheet_by_index(0)
        lead = ("",) * sheet.start[1] if sheet.start else ()
        values = sheet.iter_rows()
    except Exception:  # calamine raises its own errors for a damaged file
        raise FileRefused("The file is not a readable XLSX workbook", "invalid_xlsx") from None
    return _calamine_rows(values, lead, max_columns, max_cell)


def _calamine_rows(
    values: Iterator[list[Any]], lead: tuple[str, ...], max_columns: int, max_cell: int
) -> Iterator[Row]:
    for number, row in enumerate(values, 1):
        cells = lead + tuple(cell_text(v, max_cell) for v in row[: max_columns - len(lead)])
        yield number, cells[:max_columns]


def xlsx_rows(worksheet: Any, title: str, *, max_columns: int, max_cell: int) -> Iterator[Row]:
    """Each row's cells as text; a formula anywhere refuses the file (paste values), and
    so does a sheet openpyxl cannot parse (a damaged or hand-made file)."""
    cells_of = worksheet.iter_rows(max_col=max_columns)
    number = 0
    while True:
        try:
            row = next(cells_of)
        except StopIteration:
            return
        except Exception:  # openpyxl and its XML parser raise many kinds for a damaged sheet
            raise FileRefused("The file is not a readable XLSX workbook", "invalid_xlsx") from None
        number += 1
        cells = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                raise FileRefused(
                    f"{title}!{cell.coordinate} holds a formula: paste values instead",
                    "formulas_refused",
                )
            cells.append(cell_text(cell.value, max_cell))
        yield number, tuple(cells)


def cell_text(value: object, max_cell: int) -> str:
    """A cell's value as the text a person would have typed (1200, 2026-12-03, 0.5)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        # Excel dates are naive; a date alone is shown as one, midnight included
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)[: max_cell + 1]


def decode_text(content: bytes, encoding: Encoding) -> str:
    """UTF-8 (with or without BOM) or GB18030 (Chinese Excel saves CSV as GBK); `auto`
    takes UTF-8 when the bytes are valid UTF-8, GB18030 otherwise."""
    if content.startswith(UTF8_BOM) and encoding != "gb18030":
        content = content[3:]
        encoding = "utf-8"
    choices = ("utf-8", "gb18030") if encoding == "auto" else (encoding,)
    for choice in choices:
        try:
            return content.decode(choice)
        except UnicodeDecodeError:
            continue
    raise FileRefused(
        f"The file is not valid {' or '.join(c.upper() for c in choices)} text", "invalid_encoding"
    )


def csv_rows(name: str, text: str, *, max_columns: int, max_cell: int) -> Iterator[Row]:
    """The rows of a decoded CSV (comma, or tab when the first line has tabs only)."""
    if "\x00" in text:
        raise FileRefused("The file contains NUL characters", "invalid_characters")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, 1):
            yield number, tuple(cell[: max_cell + 1] for cell in row[:max_columns])
    except csv.Error:
        raise FileRefused(
            f"{name[:60]} line {reader.line_num}: not valid CSV", "invalid_csv"
        ) from None


def formula_safe(text: str) -> str:
    """Text a spreadsheet shows as text, never runs: a leading apostrophe before = + - @."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
