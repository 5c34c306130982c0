"""Form specs turned into what templates draw: input widgets and read-only value rows.

The form engine owns validation, labels and value display; this module only decides
which HTML widget suits each field type and carries the raw text a person typed
back into the form when it has to be shown again. `strict_form` reads a POSTed form
without Starlette's silent repairs: invalid UTF-8 is refused (400 `invalid_utf8`, not
replaced by U+FFFD or read as Latin-1) and a field sent twice refuses the whole form
(422 `duplicate_fields`: which copy counts must never be a guess).
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from flowdesk.engines.apps.formulas import FormState
from flowdesk.engines.forms import FieldSpec, FieldType, FormSpec, amount_in_capitals
from flowdesk.engines.forms import display_value as engine_display_value
from flowdesk.engines.forms.parse import KEY_PATTERN
from flowdesk.engines.forms.spec import DEFAULT_TIMEZONE, IDENTITY_TYPES
from flowdesk.kernel.errors import ErrorDetail, FlowdeskError, ValidationFailed
from flowdesk.web.i18n import Locale
from flowdesk.web.table_names import CELL_NAME, grouped_rows, table_row_numbers

# As many fields as Starlette's own form parser allows.
MAX_FORM_FIELDS = 1000
# Checkbox groups that post one name per ticked box, by the path prefix of their pages
# (the admin user form's roles); every other repeated name refuses the form.
REPEATABLE_FIELDS: dict[str, frozenset[str]] = {
    "/admin/": frozenset({"roles"}),
    # The ticket page's forms may carry several files (web/uploads.py, ADR 0028).
    "/tasks/": frozenset({"files"}),
    "/tickets/": frozenset({"files"}),
}
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# A multi choice posts one `key[]` per ticked box: the only names that may repeat in a form.
LIST_SUFFIX = "[]"
# Choices with at most this many options are radio buttons; longer lists are a select.
RADIO_MAX_OPTIONS = 4


@dataclass(frozen=True)
class OptionView:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FieldView:
    key: str
    type: str
    # text, textarea, money, number, date, select, radio, checkbox, email, identity
    widget: str
    label: str
    help: str
    placeholder: str
    required: bool
    value: str
    checked: bool
    error: str
    options: tuple[OptionView, ...]
    max_length: int | None
    inputmode: str
    capitals: str
    currency: str
    autocomplete: str = "off"
    min_length: int | None = None
    with_capitals: bool = False  # a CNY amount whose 大写 shows under it
    hidden: bool = False  # its visible_when does not hold now (ADR 0031)
    computed: str = ""  # a formula's value as the server computed it, for people
    # before the key in the posted name: the decision form's edits post `edit.<key>`
    # (ADR 0037), apart from its own comment and target
    prefix: str = ""
    # an attachment field (ADR 0037): the extensions the picker offers, how many files
    accept: str = ""
    max_files: int = 1
    # a sub-table (ADR 0036): its rows as cards of cells, each cell a field of its own
    # named `lines[2].amount`; `max_rows` for the add button
    rows: tuple[TableRowView, ...] = ()
    max_rows: int | None = None
    multiple: bool = False  # a link field holding several records (ADR 0038)

    @property
    def name(self) -> str:
        return self.prefix + self.key

    @property
    def list_name(self) -> str:
        """The name each ticked box of a multi choice posts (`key[]`)."""
        return self.name + LIST_SUFFIX

    @property
    def dom_id(self) -> str:
        return f"f-{self.prefix.replace('.', '-')}{self.key}"

    @property
    def described_by(self) -> str:
        """The ids of the help text and the error message, for aria-describedby."""
        ids = [f"{self.dom_id}-help"] if self.help else []
        if self.error:
            ids.append(f"{self.dom_id}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class TableRowView:
    """One row of a sub-table on a form: its number (from 1, as errors name it) and cells."""

    number: int
    cells: tuple[FieldView, ...]


@dataclass(frozen=True)
class TableValues:
    """A stored sub-table as the ticket page shows it: column labels and each row's texts."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    summary: str


@dataclass(frozen=True)
class ValueRow:
    key: str
    label: str
    text: str
    capitals: str
    multiline: bool
    # an attachment field's files (ADR 0037): (id, filename, size), each a download link
    files: tuple[tuple[str, str, int], ...] = ()
    table: TableValues | None = None


def _files_hint(field: FieldSpec, locale: Locale) -> str:
    """An attachment field's limits in words, after the builder's own help."""
    zh = locale == "zh"
    parts = [field.help.get(locale)] if field.help is not None else []
    count = field.max_files or 1
    parts.append(f"最多 {count} 个文件" if zh else f"Up to {count} file" + "s" * (count != 1))
    if field.accept:
        kinds = ", ".join(e.upper() for e in field.accept)
        parts.append(f"类型：{kinds}" if zh else f"types: {kinds}")
    if field.max_size_mb:
        size = field.max_size_mb
        parts.append(f"每个不超过 {size} MB" if zh else f"at most {size} MB each")
    return ("；" if zh else "; ").join(parts)


def widget_for(field: FieldSpec) -> str:
    kind = field.type
    if kind is FieldType.TABLE:
        return "table"
    if kind is FieldType.FORMULA:
        return "formula"
    if kind is FieldType.AUTO_NUMBER:
        return "auto_number"
    if kind is FieldType.LINK:
        return "link"
    if kind is FieldType.ROLLUP:
        return "formula"  # read live from the linked records once saved (ADR 0038)
    if kind is FieldType.LONG_TEXT:
        return "textarea"
    if kind is FieldType.MONEY:
        return "money"
    if kind in (FieldType.INTEGER, FieldType.DECIMAL):
        return "number"
    if kind is FieldType.DATE:
        return "date"
    if kind is FieldType.BOOLEAN:
        return "checkbox"
    if kind is FieldType.EMAIL:
        return "email"
    if kind in IDENTITY_TYPES:
        return "identity"
    if kind is FieldType.REGION:
        return "region"
    if kind is FieldType.PERCENT:
        return "percent"
    if kind is FieldType.DATETIME:
        return "datetime"
    if kind is FieldType.MULTI_CHOICE:
        return "checkboxes"
    if kind is FieldType.RATING:
        return "rating"
    if kind is FieldType.URL:
        return "url"
    if kind is FieldType.ATTACHMENT:
        return "file"
    if kind is FieldType.CHOICE:
        return "radio" if len(field.options) <= RADIO_MAX_OPTIONS else "select"
    return "text"


def _inputmode(field: FieldSpec) -> str:
    if field.type is FieldType.INTEGER:
        return "numeric"
    if field.type in (FieldType.DECIMAL, FieldType.MONEY, FieldType.PERCENT):
        return "decimal"
    if field.type is FieldType.URL:
        return "url"
    if field.type is FieldType.EMAIL:
        return "email"
    if field.type in (FieldType.MOBILE, FieldType.LANDLINE):
        return "tel"
    if field.type is FieldType.BANK_CARD:
        return "numeric"
    # a resident ID may end in X and a credit code has letters: the full keyboard
    return ""


# The longest a person types for each identity number, separators included.
_IDENTITY_MAX_LENGTH = {
    FieldType.RESIDENT_ID: 22,
    FieldType.MOBILE: 20,
    FieldType.LANDLINE: 24,
    FieldType.BANK_CARD: 24,
    FieldType.CREDIT_CODE: 22,
}


def capitals_for(field: FieldSpec, clean_value: object) -> str:
    """大写 for a CNY money value already cleaned by the form engine; "" otherwise."""
    if field.type is not FieldType.MONEY or not field.capitals:
        return ""
    if clean_value is None or isinstance(clean_value, bool):
        return ""
    try:
        return amount_in_capitals(Decimal(str(clean_value)))
    except (InvalidOperation, ValueError):
        return ""


# What to type in a field naming people or a unit of the org chart, when the builder gave
# no help of their own (en, zh)
_ORG_HINTS = {
    FieldType.USER: ("A username, such as li.na", "填写用户名，如 li.na"),
    FieldType.USERS: (
        "Usernames separated by commas, such as li.na, wang.fang",
        "填写用户名，以逗号分隔，如 li.na, wang.fang",
    ),
    FieldType.DEPARTMENT: ("A department code, such as finance", "填写部门编码，如 finance"),
    FieldType.RESIDENT_ID: ("18 characters; the last may be X", "18 位，最后一位可为 X"),
    FieldType.MOBILE: ("A mainland mobile number, 11 digits", "中国大陆手机号，11 位"),
    FieldType.LANDLINE: ("With the area code, such as 010-12345678", "含区号，如 010-12345678"),
    FieldType.BANK_CARD: ("13 to 19 digits; spaces are fine", "13 至 19 位数字，可含空格"),
    FieldType.CREDIT_CODE: ("18 characters, as on the business licence", "18 位，见营业执照"),
    FieldType.REGION: (
        "Type a place name or its six-digit code and pick it, such as 南山 → 440305",
        "输入地名或 6 位行政区划代码后选择，例如 南山 → 440305",
    ),
    FieldType.URL: ("Starting with https:// or http://", "以 https:// 或 http:// 开头"),
}


def _help(field: FieldSpec, locale: Locale) -> str:
    if field.type is FieldType.ATTACHMENT:
        return _files_hint(field, locale)
    if field.help is not None:
        return field.help.get(locale)
    hint = _ORG_HINTS.get(field.type)
    return "" if hint is None else hint[1 if locale == "zh" else 0]


def field_views(
    form: FormSpec,
    locale: Locale,
    raw: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    clean: Mapping[str, object] | None = None,
    state: FormState | None = None,
    locks: Mapping[str, str] | None = None,
    prefix: str = "",
) -> list[FieldView]:
    """One widget per field; `raw` is what was typed, `clean` what of it was valid;
    `state` what the form's expressions make of it (hidden and required fields, defaults,
    formulas), computed by the server. `locks`: the start form's permissions (ADR 0037):
    a `hidden` field has no widget at all, a `read_only` one shows its value as text.
    A sub-table's cells are typed as `lines[2].amount` in `raw` and found under the same
    names in `errors`."""
    raw = raw or {}
    errors = errors or {}
    clean = clean or {}
    locks = locks or {}
    views = []
    for field in form.fields:
        if locks.get(field.key) == "hidden":
            continue
        value = raw.get(field.key, "")
        computed = ""
        if field.computed and field.key in clean:  # a filed ticket's
            computed = engine_display_value(field, clean[field.key], locale)
        required = field.required
        hidden = False
        if state is not None:
            stored = state.values.get(field.key)
            if field.type is FieldType.FORMULA:
                computed = engine_display_value(field, stored, locale)
            elif field.key not in raw and isinstance(stored, str | int) and field.default:
                value = str(stored)  # the default, filled in for the person to keep or change
            required = field.key in state.required
            hidden = field.key in state.hidden
        read_only = locks.get(field.key) == "read_only" and field.type is not FieldType.FORMULA
        if read_only:
            shown = state.values.get(field.key) if state is not None else clean.get(field.key)
            computed = display_text(field, shown, locale) if shown is not None else ""
        rows: tuple[TableRowView, ...] = ()
        if field.type is FieldType.TABLE:
            computed_rows = state.values.get(field.key) if state is not None else None
            rows = _table_rows(field, locale, raw, errors, computed_rows)
        views.append(
            _view(
                field,
                field.key,
                value,
                locale,
                error=errors.get(field.key, ""),
                required=required,
                hidden=hidden,
                computed=computed,
                capitals=capitals_for(field, clean.get(field.key)),
                rows=rows,
                read_only=read_only,
                prefix=prefix,
            )
        )
    return views


def _view(
    field: FieldSpec,
    name: str,
    value: str,
    locale: Locale,
    *,
    error: str,
    required: bool,
    hidden: bool = False,
    computed: str = "",
    capitals: str = "",
    rows: tuple[TableRowView, ...] = (),
    in_table: bool = False,
    read_only: bool = False,
    prefix: str = "",
) -> FieldView:
    return FieldView(
        key=name,
        type=field.type.value,
        widget="read_only" if read_only else widget_for(field),
        label=field.label.get(locale),
        help=_help(field, locale),
        placeholder=field.placeholder.get(locale) if field.placeholder else "",
        required=required,
        value=value,
        checked=value.strip().lower() in ("on", "true", "1", "yes"),
        error=error,
        options=_option_views(field, locale, _chosen(field, value)),
        max_length=_IDENTITY_MAX_LENGTH.get(field.type, field.max_length),
        min_length=field.min_length,
        inputmode=_inputmode(field),
        capitals=capitals,
        currency=field.currency or "",
        with_capitals=field.capitals and not in_table,
        hidden=hidden,
        computed=computed,
        rows=rows,
        max_rows=field.max_rows,
        prefix=prefix,
        accept=",".join("." + e for e in field.accept),
        max_files=field.max_files or 1,
        multiple=field.multiple,
    )


def _table_rows(
    field: FieldSpec,
    locale: Locale,
    raw: Mapping[str, str],
    errors: Mapping[str, str],
    computed_rows: object,
) -> tuple[TableRowView, ...]:
    """The cards of a sub-table: the rows typed so far (renumbered from 1 in their order),
    or as many empty ones as it needs (one at least) on a fresh form."""
    numbers = table_row_numbers(field.key, raw) or list(range(1, max(field.min_rows, 1) + 1))
    listed = computed_rows if isinstance(computed_rows, list) else []
    views: list[TableRowView] = []
    for position, number in enumerate(numbers, start=1):
        row_values = listed[position - 1] if position <= len(listed) else {}
        cells = []
        for column in field.columns:
            name = f"{field.key}[{position}].{column.key}"
            typed = raw.get(f"{field.key}[{number}].{column.key}", "")
            computed = ""
            if column.type is FieldType.FORMULA and isinstance(row_values, dict):
                computed = engine_display_value(column, row_values.get(column.key), locale)
            cells.append(
                _view(
                    column,
                    name,
                    typed,
                    locale,
                    error=errors.get(name, ""),
                    required=column.required,
                    computed=computed,
                    in_table=True,
                )
            )
        views.append(TableRowView(position, tuple(cells)))
    return tuple(views)


def stored_as_raw(form: FormSpec, values: Mapping[str, object]) -> dict[str, str]:
    """Stored values as a form's inputs show them (a ticked box as "on", a multi choice
    "a,b", a moment in the person's zone); a sub-table's cells as `lines[2].amount`."""
    raw: dict[str, str] = {}
    for field in form.fields:
        value = values.get(field.key)
        if field.type is FieldType.TABLE and isinstance(value, list):
            for number, row in enumerate(value, start=1):
                if not isinstance(row, Mapping):
                    continue
                for column in field.columns:
                    if column.type is not FieldType.FORMULA:
                        cell = _input_text(column, row.get(column.key))
                        raw[f"{field.key}[{number}].{column.key}"] = cell or ""
        elif value is not None:
            text = _input_text(field, value)
            if text is not None:
                raw[field.key] = text
    return raw


def _input_text(field: FieldSpec, value: object) -> str | None:
    if value is None:
        return None
    if field.type is FieldType.BOOLEAN:
        return "on" if value is True else ""
    if field.type in (FieldType.MULTI_CHOICE, FieldType.LINK) and isinstance(value, list):
        return ",".join(str(item) for item in value)
    if field.type is FieldType.DATETIME and isinstance(value, str):
        return datetime_input_value(value)
    return str(value)


def posted_as_raw(values: Mapping[str, object]) -> dict[str, str]:
    """Posted values (as `posted_values` gives them) back as the text the inputs held."""
    raw: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, str):
            raw[key] = value
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            raw[key] = ",".join(str(item) for item in value)
        elif isinstance(value, list):
            for number, row in enumerate(value, start=1):
                if isinstance(row, Mapping):
                    for column, cell in row.items():
                        if isinstance(cell, str):
                            raw[f"{key}[{number}].{column}"] = cell
    return raw


def _chosen(field: FieldSpec, value: str) -> frozenset[str]:
    """The option values `value` picks: one for a choice or rating, a list "a,b" (as
    `posted_raw` keeps it) for a multi choice."""
    if field.type is FieldType.MULTI_CHOICE:
        return frozenset(v.strip() for v in value.split(",") if v.strip())
    return frozenset({value.strip()})


def _option_views(
    field: FieldSpec, locale: Locale, chosen: frozenset[str]
) -> tuple[OptionView, ...]:
    if field.type is FieldType.RATING:
        return tuple(
            OptionView(str(n), f"{n} 星" if locale == "zh" else f"{n} ★", str(n) in chosen)
            for n in range(1, int(field.max or 5) + 1)
        )
    return tuple(OptionView(o.value, o.label.get(locale), o.value in chosen) for o in field.options)


def datetime_input_value(stored: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A stored UTC moment as a datetime-local input shows it, in the person's zone."""
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return stored
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def posted_values(data: FormData, skip: frozenset[str]) -> dict[str, object]:
    """A POSTed form as the engine reads HTML input: the first value of each name (the
    names are unique, `strict_form` saw to it) and, for a multi choice's `key[]` boxes, the
    list of ticked values under `key`."""
    values: dict[str, object] = {}
    for name, value in data.multi_items():
        if name in skip:
            continue
        if name.endswith(LIST_SUFFIX) and len(name) > len(LIST_SUFFIX):
            listed = values.setdefault(name.removesuffix(LIST_SUFFIX), [])
            if isinstance(listed, list):
                listed.append(value)
        elif name not in values:
            values[name] = value
    return grouped_rows(values)


def posted_raw(form: FormSpec, data: FormData) -> dict[str, str]:
    """What the person typed, as text, for showing the form again (files are ignored); a
    multi choice's ticked values joined by ","."""
    raw: dict[str, str] = {}
    tables = {f.key for f in form.fields if f.type is FieldType.TABLE}
    if tables:
        for name, cell in data.multi_items():
            match = CELL_NAME.fullmatch(name)
            if match and match[1] in tables and isinstance(cell, str):
                raw[name] = cell
    for field in form.fields:
        listed = field.type is FieldType.LINK and field.multiple  # a link's ticked records
        if field.type is FieldType.MULTI_CHOICE or listed:
            ticked = [v for v in data.getlist(field.key + LIST_SUFFIX) if isinstance(v, str)]
            if ticked:
                raw[field.key] = ",".join(ticked)
            continue
        value = data.get(field.key)
        if isinstance(value, str):
            raw[field.key] = value
    return raw


def display_text(
    field: FieldSpec, stored: object, locale: Locale, *, unmasked: bool = False
) -> str:
    """A stored value as people read it (money with its currency and grouping, a choice by
    its label, a personal number masked unless `unmasked`); a value of the wrong shape is
    shown as it is rather than failing the page."""
    try:
        return engine_display_value(field, stored, locale, unmasked=unmasked)
    except (InvalidOperation, ValueError):
        return str(stored)


def value_rows(
    form: FormSpec,
    values: Mapping[str, object],
    locale: Locale,
    unmasked: Mapping[str, object] | None = None,
    files: Mapping[str, tuple[str, int]] | None = None,
) -> list[ValueRow]:
    """The stored values as people read them, in form order; absent values show as "".
    Personal numbers show masked unless `unmasked` (a permitted look) holds them.
    `files` names and sizes the ticket's attachments by id, for attachment fields."""
    rows = []
    unmasked = unmasked or {}
    files = files or {}
    for field in form.fields:
        stored = unmasked.get(field.key, values.get(field.key))
        listed: tuple[tuple[str, str, int], ...] = ()
        if field.type is FieldType.ATTACHMENT and isinstance(stored, list):
            listed = tuple((i, *files[i]) for i in stored if i in files)
        shown = field.key in unmasked
        rows.append(
            ValueRow(
                key=field.key,
                label=field.label.get(locale),
                text=display_text(field, stored, locale, unmasked=shown),
                capitals=capitals_for(field, stored),
                multiline=field.type is FieldType.LONG_TEXT,
                files=listed,
                table=_table_values(field, stored, locale, shown)
                if field.type is FieldType.TABLE
                else None,
            )
        )
    return rows


def _table_values(field: FieldSpec, stored: object, locale: Locale, unmasked: bool) -> TableValues:
    """A stored sub-table's cells as people read them (personal columns masked unless
    `unmasked`), with its one-line summary (row count, money totals)."""
    listed = stored if isinstance(stored, list) else []
    return TableValues(
        columns=tuple(c.label.get(locale) for c in field.columns),
        rows=tuple(
            tuple(
                display_text(
                    c, row.get(c.key) if isinstance(row, dict) else None, locale, unmasked=unmasked
                )
                for c in field.columns
            )
            for row in listed
        ),
        summary=display_text(field, listed, locale) if listed else "",
    )


class InvalidUtf8(FlowdeskError):
    """A form field (name or value) that is not valid UTF-8: refused, never repaired."""

    def __init__(self) -> None:
        super().__init__("The form is not valid UTF-8 text", "invalid_utf8", [], 400)


async def strict_form(request: Request) -> FormData:
    """The POSTed form, refusing invalid UTF-8 (400) and any field sent more than once (422)."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == URLENCODED:
        form = FormData(_urlencoded_fields(await request.body()))
    else:
        if content_type == MULTIPART:
            _check_multipart_text(request.headers["content-type"], await request.body())
        form = await request.form()
    repeatable = frozenset().union(
        *(
            names
            for prefix, names in REPEATABLE_FIELDS.items()
            if request.url.path.startswith(prefix)
        )
    )
    _refuse_duplicates(form, repeatable)
    return form


def _urlencoded_fields(body: bytes) -> list[tuple[str, str | UploadFile]]:
    try:
        return [
            *parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                encoding="utf-8",
                errors="strict",
                max_num_fields=MAX_FORM_FIELDS,
            )
        ]
    except UnicodeDecodeError:
        raise InvalidUtf8() from None
    except ValueError:  # more fields than MAX_FORM_FIELDS
        raise ValidationFailed("The form has too many fields", code="too_many_fields") from None


def _check_multipart_text(content_type: str, body: bytes) -> None:
    """Every non-file part must be UTF-8 (Starlette would fall back to Latin-1 silently)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return  # Starlette refuses a body it cannot parse
    for part in message.iter_parts():
        if part.get_filename() is not None:
            continue
        payload = part.get_payload(decode=True)
        name = part.get_param("name", header="content-disposition")
        try:
            if isinstance(payload, bytes):
                payload.decode("utf-8")
            if isinstance(name, str):
                name.encode("utf-8")  # surrogate escapes stand for undecodable bytes
        except UnicodeError:
            raise InvalidUtf8() from None


def _refuse_duplicates(form: FormData, repeatable: frozenset[str]) -> None:
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _value in form.multi_items():
        if key.endswith(LIST_SUFFIX):
            continue  # one per ticked box of a multi choice
        if key in seen and key not in repeated and key not in repeatable:
            repeated.append(key)
        seen.add(key)
    if repeated:
        raise ValidationFailed(
            "A form field was sent more than once",
            [
                ErrorDetail(
                    key if KEY_PATTERN.fullmatch(key) else "(unknown)",
                    "duplicate_field",
                    "Sent more than once",
                )
                for key in repeated
            ],
            "duplicate_fields",
        )


def with_links(
    rows: list[ValueRow],
    links: Mapping[str, Sequence[Any]],
    rollups: Mapping[str, Any],
    locale: Locale,
) -> list[ValueRow]:
    """The value rows with each link field's records (serial, title, look-ups) and each
    roll-up's value as read live (ADR 0038), in place of the stored ids."""
    out = []
    for row in rows:
        if row.key in links:
            texts = []
            for record in links[row.key]:
                looked = "，".join(
                    f"{v.label.get(locale) or v.label.get('en', '')} {v.text}"
                    for v in record.lookup
                    if v.text
                )
                texts.append(
                    f"{record.serial} {record.title}" + (f"（{looked}）" if looked else "")
                )
            row = replace(row, text="\n".join(texts), multiline=len(texts) > 1)
        elif row.key in rollups:
            value = rollups[row.key]
            row = replace(row, text="" if value is None else _grouped(str(value)))
        out.append(row)
    return out


def _grouped(number: str) -> str:
    """1234567.50 as 1,234,567.50 (a roll-up's sum)."""
    whole, dot, fraction = number.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = f"{int(digits):,}" if digits.isdigit() else digits
    return f"{sign}{groups}{dot}{fraction}"
