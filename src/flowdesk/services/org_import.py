"""Bulk import of the org chart from an XLSX workbook or CSV files (ADR 0013).

A workbook holds sheets 部门/departments, 用户/users and 角色/roles; CSV files hold one
of them each, recognised by their key column. Headers may be the Chinese label, the
English key, or both ("用户名 username", as in the template). A column present in the
file is authoritative (an empty cell clears an optional value); a column absent leaves
that field as it is, and people absent from the file are left alone. Everything is
checked before anything is written: one bad cell anywhere and nothing changes.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from flowdesk.kernel.errors import ErrorDetail
from flowdesk.services import org_fields, spreadsheets
from flowdesk.services.org_sync import (
    UNSET,
    Change,
    DepartmentRecord,
    RoleRecord,
    UserRecord,
    Where,
)
from flowdesk.services.spreadsheets import Encoding as Encoding
from flowdesk.services.spreadsheets import FileRefused as FileRefused

ENCODINGS = spreadsheets.ENCODINGS

Sheet = Literal["departments", "users", "roles"]

MAX_FILE_BYTES = 20_000_000
MAX_ROWS = 50_000
MAX_COLUMNS = 40
MAX_CELL = 1000

SHEET_NAMES: Mapping[Sheet, tuple[str, ...]] = {
    "departments": ("部门", "departments"),
    "users": ("用户", "users"),
    "roles": ("角色", "roles"),
}
NOTES_SHEETS = ("说明", "notes", "readme")
# (key, Chinese label): the key column first.
COLUMNS: Mapping[Sheet, tuple[tuple[str, str], ...]] = {
    "departments": (
        ("code", "部门编码"),
        ("name_zh", "中文名称"),
        ("name_en", "英文名称"),
        ("parent", "上级部门"),
        ("head", "负责人"),
    ),
    "users": (
        ("username", "用户名"),
        ("name_zh", "中文姓名"),
        ("name_en", "英文姓名"),
        ("department", "部门"),
        ("manager", "直属上级"),
        ("job_level", "职级"),
        ("email", "邮箱"),
        ("mobile", "手机"),
        ("active", "在职"),
        ("roles", "角色"),
    ),
    "roles": (("key", "角色标识"), ("name_zh", "中文名称"), ("name_en", "英文名称")),
}
_HEADER_SPLIT = re.compile(r"[\s()（）/|]+")
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class Table:
    sheet: Sheet
    label: str  # the sheet's or file's own name, for error paths
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (row number, cells)


@dataclass(frozen=True)
class Records:
    departments: tuple[DepartmentRecord, ...]
    users: tuple[UserRecord, ...]
    roles: tuple[RoleRecord, ...]
    issues: tuple[ErrorDetail, ...]
    sha256: str


@dataclass(frozen=True)
class ImportReport:
    dry_run: bool
    sha256: str
    counts: Mapping[str, Mapping[str, int]]
    changes: tuple[Change, ...]

    @property
    def changed(self) -> int:
        return len(self.changes)


def read_files(files: Sequence[tuple[str, bytes]], encoding: Encoding = "auto") -> Records:
    """Parses the uploaded files into records and the problems found in their cells."""
    if not files:
        raise FileRefused("No file was given", "no_file")
    digest = hashlib.sha256()
    tables: list[Table] = []
    for name, content in files:
        digest.update(content)
        tables.extend(read_file(name, content, encoding))
    seen: set[Sheet] = set()
    for table in tables:
        if table.sheet in seen:
            raise FileRefused(f"Two tables of {table.sheet} were given", "duplicate_sheet")
        seen.add(table.sheet)
    if not tables:
        raise FileRefused(
            "Found no 部门/departments, 用户/users or 角色/roles table", "no_org_tables"
        )
    issues: list[ErrorDetail] = []
    by_sheet = {t.sheet: t for t in tables}
    return Records(
        departments=tuple(_departments(by_sheet.get("departments"), issues)),
        users=tuple(_users(by_sheet.get("users"), issues)),
        roles=tuple(_roles(by_sheet.get("roles"), issues)),
        issues=tuple(issues),
        sha256=digest.hexdigest(),
    )


def read_file(name: str, content: bytes, encoding: Encoding = "auto") -> list[Table]:
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(f"The file is larger than {MAX_FILE_BYTES} bytes", "file_too_large")
    if spreadsheets.is_xlsx(content):
        return _read_xlsx(content)
    spreadsheets.refuse_old_excel(content)
    return [_read_csv(name, content, encoding)]


def _read_xlsx(content: bytes) -> list[Table]:
    book = spreadsheets.open_workbook(content)
    tables = []
    try:
        for worksheet in book.worksheets:
            title = worksheet.title.strip()
            sheet = _sheet_named(title)
            if sheet is None:
                if set(_HEADER_SPLIT.split(title.lower())) & set(NOTES_SHEETS):
                    continue
                raise FileRefused(
                    f"Unknown sheet {title[:40]!r}: use 部门/departments, 用户/users, 角色/roles",
                    "unknown_sheet",
                )
            rows = _xlsx_rows(worksheet, title)
            tables.append(_table(sheet, title, rows))
    finally:
        book.close()
    return tables


def _xlsx_rows(worksheet: Any, title: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    return spreadsheets.xlsx_rows(worksheet, title, max_columns=MAX_COLUMNS, max_cell=MAX_CELL)


def _read_csv(name: str, content: bytes, encoding: Encoding) -> Table:
    text = spreadsheets.decode_text(content, encoding)
    rows = spreadsheets.csv_rows(name, text, max_columns=MAX_COLUMNS, max_cell=MAX_CELL)
    found = list(_limited(rows, name))
    header = found[0][1] if found else ()
    sheet = _sheet_of_header(header)
    if sheet is None:
        raise FileRefused(
            f"{name[:60]}: the first row must name the columns (see the template);"
            " a key column 部门编码/code, 用户名/username or 角色标识/key is needed",
            "unknown_table",
        )
    label = name.rsplit("/", 1)[-1][:60] or sheet
    return _table(sheet, label, iter(found))


def _limited(
    rows: Iterator[tuple[int, tuple[str, ...]]], label: str
) -> Iterator[tuple[int, tuple[str, ...]]]:
    for number, row in rows:
        if number > MAX_ROWS + 1:
            raise FileRefused(f"{label[:60]} has more than {MAX_ROWS} rows", "too_many_rows")
        yield number, row


def _table(sheet: Sheet, label: str, rows: Iterator[tuple[int, tuple[str, ...]]]) -> Table:
    header: tuple[str, ...] = ()
    body = []
    for number, cells in _limited(rows, label):
        if not header:
            header = cells
            continue
        if any(c.strip() for c in cells):
            body.append((number, cells))
    return Table(sheet, label, header, tuple(body))


def _sheet_named(title: str) -> Sheet | None:
    tokens = set(_HEADER_SPLIT.split(title.lower()))
    for sheet, names in SHEET_NAMES.items():
        if tokens & set(names):
            return sheet
    return None


def _column_key(sheet: Sheet, header: str) -> str | None:
    tokens = {t for t in _HEADER_SPLIT.split(header.strip().lower()) if t}
    for key, label in COLUMNS[sheet]:
        if key in tokens or label in tokens:
            return key
    return None


def _sheet_of_header(header: Sequence[str]) -> Sheet | None:
    for sheet, columns in COLUMNS.items():
        key_column = columns[0][0]
        if any(_column_key(sheet, cell) == key_column for cell in header):
            return sheet
    return None


@dataclass(frozen=True)
class _Row:
    where: Where
    values: Mapping[str, str]  # only the columns present in the table


def _rows(table: Table | None, issues: list[ErrorDetail]) -> Iterator[_Row]:
    if table is None:
        return
    columns: dict[str, int] = {}
    letters: dict[str, str] = {}
    for index, cell in enumerate(table.header):
        if not cell.strip():
            continue
        key = _column_key(table.sheet, cell)
        where = Where(table.label, 1, {"column": get_column_letter(index + 1)})
        if key is None:
            issues.append(where.issue("column", "unknown_column", f"Unknown column {cell[:40]!r}"))
        elif key in columns:
            issues.append(where.issue("column", "duplicate_column", f"Column {key} appears twice"))
        else:
            columns[key] = index
            letters[key] = get_column_letter(index + 1)
    key_column = COLUMNS[table.sheet][0][0]
    if key_column not in columns:
        issues.append(
            Where(table.label, 1, {}).issue(
                key_column, "missing_column", "The key column is missing"
            )
        )
        return
    for number, cells in table.rows:
        where = Where(table.label, number, letters)
        values = {key: cells[i].strip() if i < len(cells) else "" for key, i in columns.items()}
        too_long = [k for k, v in values.items() if len(v) > MAX_CELL]
        if too_long:
            for key in too_long:
                issues.append(where.issue(key, "too_long", f"Longer than {MAX_CELL} characters"))
            continue
        yield _Row(where, values)


class _Cells:
    """Cleans one row's cells, collecting every problem with its cell."""

    def __init__(self, row: _Row, issues: list[ErrorDetail]) -> None:
        self.row = row
        self.issues = issues
        self.ok = True

    def get(self, key: str, clean: Any, *, empty: Any = None) -> Any:
        if key not in self.row.values:
            return UNSET
        text = self.row.values[key]
        if not text:
            return empty
        try:
            return clean(text)
        except org_fields.FieldError as error:
            self.issues.append(self.row.where.issue(key, error.code, error.message))
            self.ok = False
            return UNSET

    def key(self, key: str, clean: Any) -> str | None:
        text = self.row.values.get(key, "")
        if not text:
            self.issues.append(self.row.where.issue(key, "required", "Required"))
            self.ok = False
            return None
        value = self.get(key, clean)
        return None if value is UNSET else str(value)


def _departments(table: Table | None, issues: list[ErrorDetail]) -> Iterator[DepartmentRecord]:
    for row in _rows(table, issues):
        cells = _Cells(row, issues)
        code = cells.key("code", org_fields.department_code)
        record = DepartmentRecord(
            code=code or "",
            name_zh=cells.get("name_zh", org_fields.name, empty=UNSET),
            name_en=cells.get("name_en", org_fields.name, empty=UNSET),
            parent=cells.get("parent", org_fields.department_code),
            head=cells.get("head", org_fields.username),
            where=row.where,
        )
        if cells.ok and code:
            yield record


def _users(table: Table | None, issues: list[ErrorDetail]) -> Iterator[UserRecord]:
    for row in _rows(table, issues):
        cells = _Cells(row, issues)
        username = cells.key("username", org_fields.username)
        record = UserRecord(
            username=username or "",
            name_zh=cells.get("name_zh", org_fields.name),
            name_en=cells.get("name_en", org_fields.name),
            department=cells.get("department", org_fields.department_code),
            manager=cells.get("manager", org_fields.username),
            job_level=cells.get("job_level", org_fields.job_level),
            email=cells.get("email", org_fields.email),
            mobile=cells.get("mobile", org_fields.mobile),
            is_active=cells.get("active", org_fields.flag, empty=UNSET),
            roles=cells.get("roles", _role_list, empty=frozenset()),
            where=row.where,
        )
        if cells.ok and username:
            yield record


def _role_list(text: str) -> frozenset[str]:
    return frozenset(org_fields.role_key(part) for part in _LIST_SPLIT.split(text) if part)


def _roles(table: Table | None, issues: list[ErrorDetail]) -> Iterator[RoleRecord]:
    for row in _rows(table, issues):
        cells = _Cells(row, issues)
        key = cells.key("key", org_fields.role_key)
        record = RoleRecord(
            key=key or "",
            name_zh=cells.get("name_zh", org_fields.name, empty=UNSET),
            name_en=cells.get("name_en", org_fields.name, empty=UNSET),
            where=row.where,
        )
        if cells.ok and key:
            yield record


TEMPLATE_NOTES = (
    ("说明 / Notes", ""),
    (
        "每行一个部门、用户或角色；按用户名、部门编码、角色标识更新。",
        "One row per department, user or role; re-import updates by username, code and key.",
    ),
    (
        "文件中出现的列为准：空单元格清除该值；未出现的列保持不变。",
        "A column present is authoritative (an empty cell clears it); absent columns stay.",
    ),
    (
        "不在文件中的用户不会被停用：停用请在“在职”列填“否”。",
        "People missing from the file are not deactivated: write 否/no in 在职/active.",
    ),
    (
        "直属上级、负责人可引用本文件中后面的用户。",
        "Managers and heads may name users further down the file.",
    ),
    (
        "手机：中国大陆手机号；角色：多个用逗号或顿号分隔。",
        "Mobile: a mainland China mobile number; roles: separated by commas or 、.",
    ),
    (
        "不接受公式和宏；任何一处错误都会使整个导入不生效。",
        "Formulas and macros are refused; any error anywhere and nothing is imported.",
    ),
)


def template_xlsx() -> bytes:
    """The downloadable template: a notes sheet and the three tables' headers."""
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "说明 notes"
    for zh, en in TEMPLATE_NOTES:
        notes.append([zh, en])
    notes.column_dimensions["A"].width = 60
    notes.column_dimensions["B"].width = 90
    for sheet in ("departments", "users", "roles"):
        worksheet = book.create_sheet(f"{SHEET_NAMES[sheet][0]} {sheet}")
        worksheet.append([f"{label} {key}" for key, label in COLUMNS[sheet]])
        for index in range(len(COLUMNS[sheet])):
            worksheet.column_dimensions[get_column_letter(index + 1)].width = 18
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
