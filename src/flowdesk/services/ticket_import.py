"""Filing tickets from the rows of a spreadsheet (XLSX or CSV) (ADR 0032).

The first sheet's first row names the columns. Each column is matched to a form field
by the field's key or its Chinese or English label ("贷款金额", "Loan amount",
"贷款金额 (CNY)" as an export writes it, "amount"); the caller may change the mapping
(`mapping`: header → field key, or "" to leave a column out). Every row is validated by
the form engine exactly as a person's submission from the web form is (text read the
way it was typed: "1,234.50", "2026-12-03"; a choice by its value or either label; 是/否
for yes/no); every error is reported with its row and field (`rows[3].amount`, the row
number as the spreadsheet shows it) and never echoes the value.

All or nothing by default: the tickets are filed in one transaction, and one bad row
anywhere rolls every row back. `mode="valid_rows"` files the good rows and reports the
others. Each ticket is a normal submission (serial, timeline, audit, notifications), the
applicant is always the importing person (a column cannot file in someone else's
name), and one more audit entry records the import (file hash, counts). The file is
read as a stream in one pass (openpyxl read-only; see bench/import_read.py), so memory
stays bounded whatever the row count; nothing of a refused file is kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from openpyxl.utils import get_column_letter
from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.forms import FieldSpec, FieldType, FormSpec, validate_submission
from flowdesk.kernel.errors import ErrorDetail, Forbidden, NotFound, ValidationFailed
from flowdesk.services import auth, records, spreadsheets
from flowdesk.services.context import ServiceContext
from flowdesk.services.form_values import submitted_values
from flowdesk.services.registry import PublishedApp
from flowdesk.services.spreadsheets import Encoding, FileRefused, Row
from flowdesk.services.tickets import file_ticket, refuse_start_locked
from flowdesk.store import audit as audit_store
from flowdesk.store import org as org_store
from flowdesk.store.record_steps import write_new_records
from flowdesk.store.steps import StepWrite

Mode = Literal["all", "valid_rows"]
MODES: tuple[Mode, ...] = ("all", "valid_rows")
MAX_FILE_BYTES = 50_000_000
MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_CELL = 4000  # the longest text a field holds (long_text)
MAX_ERRORS = 1000  # reported; the count of bad rows is always exact
MAX_TICKET_IDS = 1000
RECORD_BATCH = 1000  # a record app's rows written per executemany (ADR 0038)
_HEADER_SPLIT = re.compile(r"[\s()（）/|]+")
_LIST_SPLIT = re.compile(r"[,，、;；]+")
_TRUE_CELLS = frozenset({"是", "y", "√", "✓"})
_FALSE_CELLS = frozenset({"否", "n", "×", "✗"})


class _Stop(Exception):
    """Rolls the import's transaction back (all-or-nothing with a bad row)."""


@dataclass(frozen=True)
class Column:
    index: int
    letter: str  # A, B, … as the spreadsheet names it
    header: str
    field: str | None  # the field it fills; None: left out


@dataclass(frozen=True)
class ImportReport:
    app: str
    mode: Mode
    dry_run: bool
    sha256: str
    columns: tuple[Column, ...]
    rows: int  # rows with any value (blank rows are skipped)
    valid: int
    invalid: int
    errors: tuple[ErrorDetail, ...]  # at most MAX_ERRORS
    created: int
    ticket_ids: tuple[str, ...]  # the first MAX_TICKET_IDS filed
    records: bool = False  # the rows became records of a record app (ADR 0038)

    @property
    def errors_truncated(self) -> bool:
        return self.invalid > 0 and len(self.errors) >= MAX_ERRORS


def import_rows(
    ctx: ServiceContext,
    actor: Actor,
    app_key: str,
    *,
    filename: str,
    content: bytes,
    mapping: Mapping[str, str] | None = None,
    mode: Mode = "all",
    dry_run: bool = False,
    encoding: Encoding = "auto",
    locale: str = "en",
) -> ImportReport:
    """Checks every row and (unless `dry_run`, the preview) files them. With `mode="all"`
    a bad row is a 422 `import_rows_invalid` listing every error, and nothing is filed."""
    if mode not in MODES:
        raise ValidationFailed(
            "Unknown import mode",
            [ErrorDetail("mode", "invalid_mode", "One of: all, valid_rows")],
            code="invalid_mode",
        )
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(f"The file is larger than {MAX_FILE_BYTES} bytes", "file_too_large")
    with ctx.db.read() as conn:
        app, _ = ctx.apps.current_and_org_generation(conn, app_key)
    if app.spec.is_records:  # rows become records (ADR 0038): the app's editors only
        records.check_writer(actor, app, locale)
    elif not decide(actor, "ticket.create"):
        raise Forbidden("You may not file tickets in this app")
    digest = hashlib.sha256(content).hexdigest()
    run = _Run(ctx, actor, app, digest, mode, dry_run, locale)
    with _sheet(filename, content, encoding) as rows:
        header = _header(rows)
        columns = map_columns(app.spec.form, header, mapping, preview=dry_run)
        run.check_columns(columns)
        if dry_run:
            run.walk(None, columns, rows)
        else:
            try:
                with ctx.db.write() as conn:
                    run.walk(conn, columns, rows)
                    if run.invalid and mode == "all":
                        raise _Stop
                    _audit(ctx, conn, actor, app, digest, run, filename)
            except _Stop:
                run.ticket_ids.clear()
                run.created = 0
    report = ImportReport(
        app_key,
        mode,
        dry_run,
        digest,
        columns,
        run.rows,
        run.rows - run.invalid,
        run.invalid,
        tuple(run.errors),
        run.created,
        tuple(run.ticket_ids),
        app.spec.is_records,
    )
    if not dry_run and mode == "all" and run.invalid:
        zh = locale.lower().startswith("zh")
        raise ValidationFailed(
            f"{run.invalid} 行有错误，未导入任何行"
            if zh
            else f"{run.invalid} rows have errors: no row was imported",
            list(run.errors),
            code="import_rows_invalid",
        )
    return report


def importing_user(ctx: ServiceContext, username: str) -> Actor:
    """The active person `flowdesk app import-rows --as` files in the name of (the CLI is
    run by an operator with the database's keys, as every CLI command is)."""
    with ctx.db.read() as conn:
        row = org_store.user_by_username(conn, username)
        if row is None or not row.is_active:
            raise NotFound(f"No active user {username[:64]!r}", "user_not_found")
        return auth.actor_from_row(conn, row)


def map_columns(
    form: FormSpec,
    header: tuple[str, ...],
    mapping: Mapping[str, str] | None = None,
    *,
    preview: bool = False,
) -> tuple[Column, ...]:
    """Each column and the field it fills: `mapping` (header → key, "" to leave out) where
    given, else matched by key or label (a second column matching a field already taken
    is left out). A bad mapping is a 422 naming each problem; no column matching any
    field is a 422 `no_matching_columns` except in a `preview`, whose page then offers
    the columns to map by hand."""
    errors: list[ErrorDetail] = []
    given = dict(mapping or {})
    keys = set(form.keys())
    tables = {f.key for f in form.fields if f.type is FieldType.TABLE}
    names = {cell.strip() for cell in header}
    for name, wanted in given.items():
        path = f"mapping.{_shown(name)}"
        if name not in names:
            errors.append(ErrorDetail(path, "unknown_column", "No such column"))
        elif wanted and wanted not in keys:
            errors.append(ErrorDetail(path, "unknown_field", "No such field"))
    columns: list[Column] = []
    taken: dict[str, str] = {}
    for index, text in enumerate(header):
        name = text.strip()
        if not name:
            continue
        key: str | None = (given[name] or None) if name in given else _field_for(form, name)
        letter = get_column_letter(index + 1)
        if key is not None and key in taken and name not in given:
            key = None  # matched by its header twice: the first column fills the field
        if key is not None and key in taken:
            errors.append(
                ErrorDetail(
                    f"columns.{letter}",
                    "duplicate_field",
                    f"Column {taken[key]} already fills the field {key}",
                )
            )
            key = None
        if key in tables:
            errors.append(_table_refused(f"columns.{letter}", key))
            key = None
        if key is not None:
            taken[key] = letter
        columns.append(Column(index, letter, name[:100], key))
    if errors:
        raise ValidationFailed("The column mapping is invalid", errors, code="invalid_mapping")
    if not taken and not preview:
        raise FileRefused(
            "No column matches a field of the app: the first row must name the fields"
            " (their label or key)",
            "no_matching_columns",
        )
    return tuple(columns)


def _table_refused(path: str, key: str) -> ErrorDetail:
    return ErrorDetail(
        path,
        "table_not_importable",
        f"'{key}' is a sub-table: one row of a sheet cannot hold its rows, so it is not "
        "imported; file such tickets in the form or through the API / "
        f"“{key}”是明细子表，表格的一行放不下它的多行，不能导入；请在表单中或通过 API 提交",
    )


def _shown(name: str) -> str:
    return name[:40] if name.isprintable() else "(column)"


def _field_for(form: FormSpec, header: str) -> str | None:
    text = header.strip().lower()
    tokens = {t for t in _HEADER_SPLIT.split(text) if t}
    # "贷款金额 (CNY)", as an export writes a money column, is the label
    bare = re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", text)
    for field in form.fields:
        labels = {field.label.zh.strip().lower(), field.label.en.strip().lower()} - {""}
        if field.key.lower() in tokens or text in labels or bare in labels:
            return field.key
    return None


class _Run:
    """One pass over the rows: validate each, file it when writing, count and report."""

    def __init__(
        self,
        ctx: ServiceContext,
        actor: Actor,
        app: PublishedApp,
        digest: str,
        mode: Mode,
        dry_run: bool,
        locale: str,
    ) -> None:
        self.ctx = ctx
        self.actor = actor
        self.app = app
        self.digest = digest
        self.mode = mode
        self.dry_run = dry_run
        self.locale = locale
        self.rows = 0
        self.invalid = 0
        self.created = 0
        self.errors: list[ErrorDetail] = []
        self.ticket_ids: list[str] = []
        self.fields = {f.key: f for f in app.spec.form.fields}
        self.unmapped: set[str] = set()  # required fields no column fills (a preview)
        self.batch: list[StepWrite] = []  # a record app's rows not written yet
        self.at = ctx.clock.now()  # one instant for the import's records: one transaction

    def check_columns(self, columns: tuple[Column, ...]) -> None:
        """A required field no column fills would fail every row: said once, up front (a
        422; in a preview the first errors, each row's "required" for it left out)."""
        filled = {c.field for c in columns if c.field}
        tables = [
            _table_refused(f"columns.{f.key}", f.key)
            for f in self.app.spec.form.fields
            if f.type is FieldType.TABLE and f.required
        ]
        if tables:  # a required sub-table would fail every row (ADR 0036)
            raise ValidationFailed(
                "The form has a required sub-table", tables, code="table_not_importable"
            )
        missing = [
            ErrorDetail(f"columns.{f.key}", "required_field_unmapped", "No column fills it")
            for f in self.app.spec.form.fields
            if f.required and f.key not in filled and not _derived(self.app.spec.form, f)
        ]
        if not missing:
            return
        if not self.dry_run:
            raise ValidationFailed(
                "Required fields have no column", missing, code="required_field_unmapped"
            )
        self.errors.extend(missing)
        self.unmapped = {e.path.removeprefix("columns.") for e in missing}

    def walk(
        self, conn: Connection | None, columns: tuple[Column, ...], rows: Iterator[Row]
    ) -> None:
        org_generation = 0
        if conn is not None:
            _, org_generation = self.ctx.apps.current_and_org_generation(conn, self.app.spec.key)
        for number, cells in rows:
            if number > MAX_ROWS + 1:
                raise FileRefused(f"The file has more than {MAX_ROWS} rows", "too_many_rows")
            raw = self._raw(columns, cells)
            if not raw:
                continue
            self.rows += 1
            try:
                clean = self._clean(conn, raw)
            except ValidationFailed as exc:
                self.invalid += 1
                for error in exc.errors:
                    if error.path in self.unmapped and error.code == "required":
                        continue  # said once for the column
                    if len(self.errors) < MAX_ERRORS:
                        self.errors.append(
                            ErrorDetail(f"rows[{number}].{error.path}", error.code, error.message)
                        )
                continue
            if conn is None or (self.invalid and self.mode == "all"):
                continue  # a preview, or a bad row already dooms the import: only check
            details = {"import": self.digest[:16], "row": number}
            if self.app.spec.is_records:
                # written in batches (store/record_steps.py), numbered in row order
                write = records.record_write(
                    self.ctx, self.actor, self.app, clean, audit_details=details, at=self.at
                )
                self.batch.append(write)
                if len(self.batch) >= RECORD_BATCH:
                    self.flush(conn)
                ticket_id = write.ticket_id
            else:
                ticket_id = file_ticket(
                    self.ctx,
                    conn,
                    self.actor,
                    self.app,
                    org_generation,
                    clean,
                    audit_details=details,
                ).ticket_id
            self.created += 1
            if len(self.ticket_ids) < MAX_TICKET_IDS:
                self.ticket_ids.append(ticket_id)
        if conn is not None:
            self.flush(conn)

    def flush(self, conn: Connection) -> None:
        write_new_records(conn, self.batch)
        self.batch.clear()

    def _clean(self, conn: Connection | None, raw: dict[str, object]) -> dict[str, object]:
        """A row's values as a submit would file them: with the database at hand, completed
        by the form's expressions (formulas, defaults, visibility); a preview without one
        checks the fields alone. A column the start form locks (ADR 0037) is refused."""
        refuse_start_locked(
            self.app, {k: v for k, v in raw.items() if v not in ("", None)}, self.locale
        )
        if conn is None:
            return validate_submission(self.app.spec.form, raw, source="html", locale=self.locale)
        return submitted_values(
            self.ctx,
            conn,
            self.app,
            raw,
            source="html",
            requester_id=self.actor.user_id,
            locale=self.locale,
        )

    def _raw(self, columns: tuple[Column, ...], cells: tuple[str, ...]) -> dict[str, object]:
        raw: dict[str, object] = {}
        for column in columns:
            if column.field is None or column.index >= len(cells):
                continue
            text = cells[column.index].strip()
            if text:
                raw[column.field] = _cell_input(self.fields[column.field], text)
        return raw


def _derived(form: FormSpec, field: FieldSpec) -> bool:
    """A field a resident ID fills (birth date, sex) needs no column of its own."""
    return any(field.key in (f.birth_date_field, f.sex_field) for f in form.fields)


def _cell_input(field: FieldSpec, text: str) -> object:
    """A cell as the web form would have sent it: a choice's label becomes its value,
    是/否 a yes/no, "12.5%" a percent's number, "A、B" the chosen options."""
    kind = field.type
    if kind is FieldType.CHOICE:
        return _option_value(field, text)
    if kind is FieldType.MULTI_CHOICE:
        return [_option_value(field, part.strip()) for part in _LIST_SPLIT.split(text)]
    if kind is FieldType.BOOLEAN:
        word = text.lower()
        if word in _TRUE_CELLS:
            return "1"
        if word in _FALSE_CELLS:
            return "0"
    if kind is FieldType.PERCENT and text.endswith(("%", "％")):
        return text[:-1].strip()
    return text


def _option_value(field: FieldSpec, text: str) -> str:
    if field.option(text) is not None:
        return text
    lowered = text.lower()
    for option in field.options:
        if lowered in (option.label.zh.lower(), option.label.en.lower(), option.value.lower()):
            return option.value
    return text  # refused by validation as an unknown choice


def _audit(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    app: PublishedApp,
    digest: str,
    run: _Run,
    filename: str,
) -> None:
    audit_store.append(
        conn,
        at=ctx.clock.now(),
        actor=actor.username,
        action="ticket.import",
        target_type="app",
        target_id=app.spec.key,
        details={
            "sha256": digest,
            "file": filename[-100:],
            "mode": run.mode,
            "rows": run.rows,
            "created": run.created,
            "invalid": run.invalid,
        },
    )


@contextmanager
def _sheet(filename: str, content: bytes, encoding: Encoding) -> Iterator[Iterator[Row]]:
    """The rows of the file's first sheet (XLSX) or of the CSV, as a stream."""
    if not spreadsheets.is_xlsx(content):
        spreadsheets.refuse_old_excel(content)
        text = spreadsheets.decode_text(content, encoding)
        yield spreadsheets.csv_rows(filename, text, max_columns=MAX_COLUMNS + 1, max_cell=MAX_CELL)
        return
    fast = spreadsheets.fast_xlsx_rows(content, max_columns=MAX_COLUMNS + 1, max_cell=MAX_CELL)
    if fast is not None:
        yield fast
        return
    book = spreadsheets.open_workbook(content)
    try:
        if not book.worksheets:
            raise FileRefused("The workbook has no sheet", "empty_file")
        sheet = book.worksheets[0]
        yield spreadsheets.xlsx_rows(
            sheet, sheet.title[:40], max_columns=MAX_COLUMNS + 1, max_cell=MAX_CELL
        )
    finally:
        book.close()


def _header(rows: Iterator[Row]) -> tuple[str, ...]:
    for _, cells in rows:
        if len([c for c in cells if c.strip()]) > MAX_COLUMNS:
            raise FileRefused(f"The file has more than {MAX_COLUMNS} columns", "too_many_columns")
        if any(c.strip() for c in cells):
            return cells
    raise FileRefused("The file has no rows", "empty_file")
