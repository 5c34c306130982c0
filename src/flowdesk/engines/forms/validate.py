"""Server-side validation of a submission against its form: the only door into stored values.

A ticket's values are money decisions, so nothing is coerced silently. JSON
clients must send the exact type (integers as integers, money as a string such as
"120000.50", never a float); HTML forms send strings, which are read the way a
person typed them (empty = absent, "120,000.50", a checked box is "on").
Every bad field is reported at once, with a localized message that never repeats
the submitted value.

HTML checkboxes: an unchecked box is not submitted, so an absent boolean counts as
false on a full submission. For `partial=True` edits send a hidden "0" before the
checkbox, otherwise an absent boolean leaves the stored value unchanged.

JSON `null` counts as absent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import email_validator

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed

from . import identity, patterns, regions
from .links import MAX_LINKS
from .messages import message
from .parse import KEY_PATTERN, NUMBER_LIMIT, decimal_places
from .spec import (
    DEFAULT_MAX_FILES,
    DEFAULT_TIMEZONE,
    IDENTITY_TYPES,
    ORG_TYPES,
    TEXT_TYPES,
    FieldSpec,
    FieldType,
    FormSpec,
    LocalText,
)

Source = Literal["json", "html"]

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# Thousands in groups of three after a first group without a leading zero: 1,234,567.89.
_GROUPED_NUMBER = re.compile(r"-?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?")
# What a Chinese input method types in full width; every other digit-like character
# (circled ①, superscript ², math-bold 𝟏, Arabic-Indic ٣ ...) is refused, not read as a digit.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９，．－／", "0123456789,.-/")
_NUMBER_CHARACTERS = frozenset("0123456789,.-")
# Line breaks a single-line text must not hold (after "\r\n" and "\r" became "\n").
_LINE_BREAKS = frozenset("\n\v\f\x85\u2028\u2029")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HTML_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "0", "no"})
# Bidirectional overrides let a value display differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class _Absent:
    """Marks a value that cleans to nothing (blank text, empty HTML input)."""


_ABSENT = _Absent()


class _Invalid(Exception):
    def __init__(
        self,
        code: str,
        key: str | None = None,
        limit: object = None,
        custom: LocalText | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.key = key or code
        self.limit = limit
        self.custom = custom  # the builder's own message (a pattern's), from the definition

    def message(self, locale: str) -> str:
        if self.custom is not None:
            return self.custom.get(locale)
        return message(self.key, locale, self.limit)


def validate_submission(
    form: FormSpec,
    raw: Mapping[str, object],
    *,
    source: Literal["json", "html"],
    locale: str = "en",
    partial: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
) -> dict[str, object]:
    """Return the clean stored (JSON-ready) values or raise ValidationFailed for every bad field.

    `partial=True` (an approver editing some values) skips "required" for absent keys
    and returns only the keys that were given. `timezone` is where a person typing a
    date and time in an HTML form is (a JSON client always sends the UTC offset). Each
    error's path is the field key; an unknown key that could not be a field key (it may
    be personal data) is reported at path "(unknown)".
    """
    if source not in ("json", "html"):
        raise ValueError(f"unknown source {source!r}")
    clean: dict[str, object] = {}
    errors: list[ErrorDetail] = []
    for field in form.fields:
        if field.computed:
            # computed by the server (ADR 0031, auto-numbers ADR 0038): a JSON client is
            # told, a web form's stray input is ignored
            if source == "json" and raw.get(field.key) is not None:
                errors.append(
                    ErrorDetail(field.key, "computed_field", message("computed_field", locale))
                )
            continue
        if field.type is FieldType.TABLE:
            rows = clean_table(field, raw.get(field.key), source, locale, errors, timezone)
            if rows is None and field.required and not partial and not field.conditional:
                if not any(field_of_path(e.path) == field.key for e in errors):
                    errors.append(ErrorDetail(field.key, "required", message("required", locale)))
            elif rows is not None:
                clean[field.key] = rows
            continue
        try:
            value = _clean_present(field, raw.get(field.key), source, timezone)
            if isinstance(value, _Absent):
                value = _absent_value(field, source, partial, present=field.key in raw)
        except _Invalid as exc:
            errors.append(ErrorDetail(field.key, exc.code, exc.message(locale)))
            continue
        if not isinstance(value, _Absent):
            clean[field.key] = value
    _derive_from_ids(form, raw, clean, errors, locale, partial)
    known = set(form.keys())
    for key in raw:
        if key not in known:
            path = key if isinstance(key, str) and KEY_PATTERN.fullmatch(key) else "(unknown)"
            errors.append(ErrorDetail(path, "unknown_field", message("unknown_field", locale)))
    if errors:
        raise ValidationFailed(message("submission_invalid", locale), errors)
    return clean


def field_of_path(path: str) -> str:
    """The form field an error path is about: `lines` for `lines[3].amount`."""
    return path.partition("[")[0]


def row_path(table: str, index: int, column: str | None = None) -> str:
    """Where an error in a sub-table is: `lines[3].amount` for the third row's amount (rows
    count from 1, as a clerk counts them and as the form's row cards are numbered)."""
    at = f"{table}[{index + 1}]"
    return at if column is None else f"{at}.{column}"


def clean_table(
    field: FieldSpec,
    value: object,
    source: Source,
    locale: str,
    errors: list[ErrorDetail],
    timezone: str = DEFAULT_TIMEZONE,
) -> list[dict[str, object]] | None:
    """A sub-table's rows as stored (each row an object of its columns' clean values, an
    empty column left out; formula columns are the computer's), or None when it has no
    rows. Every problem goes to `errors` with its row and column (`row_path`): a JSON
    client sends a list of objects; an HTML form's rows come grouped by web/forms.py, and
    a row left wholly blank there is dropped (a card added and not filled in)."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        errors.append(ErrorDetail(field.key, "invalid_type", message("invalid_type_rows", locale)))
        return None
    rows: list[dict[str, object]] = []
    index = 0
    blank = 0
    keys = frozenset(c.key for c in field.columns)
    for raw_row in value:
        if source == "html" and isinstance(raw_row, Mapping) and _blank_row(raw_row):
            index += 1  # still counted: the next row keeps the number its card shows
            blank += 1
            continue
        if not isinstance(raw_row, Mapping):
            errors.append(
                ErrorDetail(
                    row_path(field.key, index), "invalid_type", message("invalid_type_row", locale)
                )
            )
            index += 1
            continue
        rows.append(_clean_row(field, raw_row, index, source, locale, errors, timezone, keys))
        index += 1
    count = index - blank
    if not count:
        return None
    if count > (field.max_rows or count):
        errors.append(
            ErrorDetail(
                field.key, "too_many_rows", message("too_many_rows", locale, field.max_rows)
            )
        )
    elif count < field.min_rows:
        errors.append(
            ErrorDetail(field.key, "too_few_rows", message("too_few_rows", locale, field.min_rows))
        )
    return rows


def _blank_row(row: Mapping[object, object]) -> bool:
    return all(v is None or (isinstance(v, str) and _is_invisible(v)) for v in row.values())


def _clean_row(
    field: FieldSpec,
    raw_row: Mapping[object, object],
    index: int,
    source: Source,
    locale: str,
    errors: list[ErrorDetail],
    timezone: str,
    keys: frozenset[str],
) -> dict[str, object]:
    row: dict[str, object] = {}
    for column in field.columns:
        given = raw_row.get(column.key)
        if column.type is FieldType.FORMULA:
            if source == "json" and given is not None:
                errors.append(
                    ErrorDetail(
                        row_path(field.key, index, column.key),
                        "computed_field",
                        message("computed_field", locale),
                    )
                )
            continue
        try:
            cell = _clean_present(column, given, source, timezone)
            if isinstance(cell, _Absent):
                cell = _absent_value(column, source, False, present=column.key in raw_row)
        except _Invalid as exc:
            path = row_path(field.key, index, column.key)
            errors.append(ErrorDetail(path, exc.code, exc.message(locale)))
            continue
        if not isinstance(cell, _Absent):
            row[column.key] = cell
    for key in raw_row:
        if key not in keys:
            shown = key if isinstance(key, str) and KEY_PATTERN.fullmatch(key) else "(unknown)"
            errors.append(
                ErrorDetail(
                    row_path(field.key, index, shown),
                    "unknown_field",
                    message("unknown_field", locale),
                )
            )
    return row


def _absent_value(field: FieldSpec, source: Source, partial: bool, *, present: bool) -> object:
    if field.type is FieldType.BOOLEAN and source == "html" and not (partial and not present):
        return False
    if field.required and not partial and not field.conditional:
        # a field shown on a condition or filled by a default is required only when shown,
        # after the default: engines/apps/formulas.py tells (ADR 0031)
        raise _Invalid("required")
    return _ABSENT


LINK_ID = re.compile(r"[0-9a-f]{32}")  # a ticket or record id


def _clean_present(field: FieldSpec, value: object, source: Source, timezone: str) -> object:
    if value is None:
        return _ABSENT
    if isinstance(value, str) and _is_invisible(value):
        if value.strip():
            # Only zero-width or format characters (\u200b, \ufeff ...): looks empty,
            # is not, and must never satisfy "required".
            raise _Invalid("invisible_only")
        if source == "html":
            return _ABSENT
    kind = field.type
    if kind is FieldType.MULTI_CHOICE:
        return _clean_multi_choice(field, value, source)
    if kind is FieldType.ATTACHMENT:
        return _clean_attachments(field, value)
    if kind is FieldType.LINK:
        return _clean_link(field, value)
    if source == "html" and not isinstance(value, str):
        raise _Invalid("invalid_type", _type_message(field))
    if kind in TEXT_TYPES:
        return _clean_text(field, value)
    if kind is FieldType.EMAIL:
        return _clean_email(field, value)
    if kind in ORG_TYPES:
        return _clean_org(field, value)
    if kind in IDENTITY_TYPES:
        return _clean_identity(field, value)
    if kind is FieldType.INTEGER:
        return _clean_integer(field, value, source)
    if kind is FieldType.RATING:
        return _clean_rating(field, value, source)
    if kind is FieldType.PERCENT:
        if source == "html" and isinstance(value, str):
            value = _strip_invisible(value).removesuffix("%").removesuffix("％")
        return _clean_decimal(field, value, source)
    if kind in (FieldType.DECIMAL, FieldType.MONEY):
        return _clean_decimal(field, value, source)
    if kind is FieldType.DATETIME:
        return _clean_datetime(value, source, timezone)
    if kind is FieldType.URL:
        return _clean_url(field, value)
    if kind is FieldType.REGION:
        return _clean_region(value)
    if kind is FieldType.DATE:
        return _clean_date(value, source)
    if kind is FieldType.CHOICE:
        return _clean_choice(field, value, source)
    return _clean_boolean(value, source)


def _clean_link(field: FieldSpec, value: object) -> object:
    """A link's ids (ADR 0038): one id, a list of them, or (a web form) ids joined by
    commas; stored as a list in the order given. Whether they are records of the linked
    app is the service's question (services/links.py)."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid("invalid_link")
    ids = list(dict.fromkeys(value))
    if not ids:
        return _ABSENT
    if not all(LINK_ID.fullmatch(v) for v in ids):
        raise _Invalid("invalid_link")
    limit = MAX_LINKS if field.multiple else 1
    if len(ids) > limit:
        raise _Invalid("too_many_links", limit=limit)
    return ids


def _type_message(field: FieldSpec) -> str:
    if field.type in (FieldType.INTEGER, FieldType.RATING):
        return "invalid_type_integer"
    if field.type is FieldType.PERCENT:
        return "invalid_type_number"
    if field.type is FieldType.DATETIME:
        return "invalid_type_datetime"
    if field.type in (FieldType.DECIMAL, FieldType.MONEY):
        return "invalid_type_number"
    if field.type is FieldType.BOOLEAN:
        return "invalid_type_boolean"
    if field.type is FieldType.DATE:
        return "invalid_type_date"
    return "invalid_type_text"


def clean_comment(text: str, *, max_length: int, locale: str = "en", required: bool = False) -> str:
    """An approver's comment as stored: line ends as "\n", surrounding blanks stripped.

    The same rules as a multi-line text field: no control characters but newline and tab
    (nor bidirectional overrides), at most `max_length` characters. Otherwise raises
    ValidationFailed with one error at path "comment" (code "invalid_characters" or
    "too_long"), its message in `locale`. `required` (a comment without a decision, which
    is nothing but its text) also refuses one empty or invisible only (code "required").
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _has_bad_characters(text):
        detail = ErrorDetail(
            "comment", "invalid_characters", message("comment_invalid_characters", locale)
        )
    elif len(text) > max_length:
        detail = ErrorDetail("comment", "too_long", message("comment_too_long", locale, max_length))
    elif required and _is_invisible(text):
        detail = ErrorDetail("comment", "required", message("comment_required", locale))
    else:
        return text
    raise ValidationFailed(message("comment_invalid", locale), [detail])


def _has_bad_characters(text: str) -> bool:
    if text.isprintable():  # no Cc, Cs or Cf (the bidi controls are Cf) at all
        return False
    for char in text:
        if char in "\n\t":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            return True
    return False


def _is_invisible(text: str) -> bool:
    """Nothing a person can see: whitespace, format (Cf) and separator characters only."""
    if text.isprintable():  # no Cf, Zl, Zp, nor a space other than " " (the common case)
        return not text.strip(" ")
    return all(
        char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in text
    )


def _strip_invisible(text: str) -> str:
    """Surrounding blanks and zero-width characters (a pasted BOM) removed."""
    start, end = 0, len(text)
    while start < end and _is_invisible(text[start]):
        start += 1
    while end > start and _is_invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def _clean_text(field: FieldSpec, value: object) -> object:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_text")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _has_bad_characters(text):
        raise _Invalid("invalid_characters")
    if field.type is FieldType.TEXT and not _LINE_BREAKS.isdisjoint(text):
        raise _Invalid("newline_not_allowed")
    text = _strip_invisible(text)
    if not text:
        return _ABSENT
    if field.max_length is not None and len(text) > field.max_length:
        raise _Invalid("too_long", limit=field.max_length)
    if field.min_length is not None and len(text) < field.min_length:
        raise _Invalid("too_short", limit=field.min_length)
    if field.pattern is not None:
        try:
            matched = patterns.matches(field.pattern, text)
        except TimeoutError:
            raise _Invalid("pattern_timeout") from None
        if not matched:
            raise _Invalid("pattern_mismatch", custom=field.pattern_message)
    return text


def _typed_text(value: object) -> str:
    """A text value with its invisible characters stripped ("" when nothing is left);
    anything but text, or text with control characters, is refused."""
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_text")
    if _has_bad_characters(value):
        raise _Invalid("invalid_characters")
    return _strip_invisible(value)


def _clean_email(field: FieldSpec, value: object) -> object:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_text")
    if _has_bad_characters(value):
        raise _Invalid("invalid_characters")
    if not _LINE_BREAKS.isdisjoint(value) or "\r" in value:
        raise _Invalid("newline_not_allowed")
    text = _strip_invisible(value)
    if not text:
        return _ABSENT
    if field.max_length is not None and len(text) > field.max_length:
        raise _Invalid("too_long", limit=field.max_length)
    # ASCII addresses whose local part fits RFC 5321's 64 octets (email-validator lets
    # longer ones through)
    if not _EMAIL.fullmatch(text) or len(text.partition("@")[0]) > 64:
        raise _Invalid("invalid_email")
    try:
        # email-validator knows the RFC 5321/5322 limits (local part, labels, the domain's
        # syntax); whether the domain receives mail is the mail server's word, not checked
        checked = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise _Invalid("invalid_email") from None
    return str(checked.normalized)


_IDENTITY_CLEANERS = {
    FieldType.RESIDENT_ID: identity.clean_resident_id,
    FieldType.MOBILE: identity.clean_mobile,
    FieldType.LANDLINE: identity.clean_landline,
    FieldType.CREDIT_CODE: identity.clean_credit_code,
}
# What an over-long input is reported as, per type (no standard number is that long).
_TOO_LONG_CODES = {
    FieldType.RESIDENT_ID: "resident_id_length",
    FieldType.MOBILE: "mobile_length",
    FieldType.LANDLINE: "landline_number",
    FieldType.CREDIT_CODE: "credit_code_length",
    FieldType.BANK_CARD: "bank_card_length",
}


def _clean_identity(field: FieldSpec, value: object) -> object:
    """A resident ID, phone, bank card or credit code in its stored form; the error code
    says which rule of the standard failed (the value itself is never repeated)."""
    text = _typed_text(value)
    if not text:
        return _ABSENT
    if identity.MASK in text and field.personal:
        raise _Invalid("masked_value")
    try:
        if field.type is FieldType.BANK_CARD:
            return identity.clean_bank_card(text, check_digit=field.luhn)
        return _IDENTITY_CLEANERS[field.type](text)
    except identity.NumberInvalid as exc:
        code = _TOO_LONG_CODES[field.type] if exc.code == "too_long_number" else exc.code
        raise _Invalid(code) from None


def _derive_from_ids(
    form: FormSpec,
    raw: Mapping[str, object],
    clean: dict[str, object],
    errors: list[ErrorDetail],
    locale: str,
    partial: bool,
) -> None:
    """Fill a resident ID's birth date and sex fields from its digits when they were left
    empty; a value given that contradicts the ID is an error on that field. An edit
    (`partial`) that does not send the target leaves it as it is."""
    failed = {detail.path for detail in errors if detail.code != "required"}
    for field in form.fields:
        stored = clean.get(field.key)
        if field.type is not FieldType.RESIDENT_ID or not isinstance(stored, str):
            continue
        derived: list[tuple[str | None, object, str]] = [
            (
                field.birth_date_field,
                identity.resident_birth_date(stored).isoformat(),
                "resident_id_birth_date_mismatch",
            ),
            (field.sex_field, identity.resident_sex(stored), "resident_id_sex_mismatch"),
        ]
        for target, value, code in derived:
            if target is None or target in failed:
                continue
            if target in clean:
                if clean[target] != value:
                    errors.append(ErrorDetail(target, code, message(code, locale)))
            elif not partial or target in raw:
                clean[target] = value
                errors[:] = [d for d in errors if not (d.path == target and d.code == "required")]


# the org chart's own patterns (services/org_fields.py keeps the same two)
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
_DEPARTMENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PEOPLE_SEPARATORS = re.compile(r"[,，、;；\s]+")
MAX_FIELD_USERS = 100


def _clean_org(field: FieldSpec, value: object) -> object:
    """A user field's username, a users field's usernames as "a,b" (in the order given,
    each once; the JSON API may send a list), a department field's code. Whether the
    person or unit exists is the org chart's word when a step reads it."""
    if field.type is FieldType.USERS and isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise _Invalid("invalid_type", "invalid_type_text")
        value = ",".join(value)
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_text")
    if _has_bad_characters(value):
        raise _Invalid("invalid_characters")
    text = _strip_invisible(value).strip()
    if not text:
        return _ABSENT
    if field.type is FieldType.DEPARTMENT:
        if not _DEPARTMENT_CODE.fullmatch(text):
            raise _Invalid("invalid_department")
        return text
    names = [name.lower() for name in _PEOPLE_SEPARATORS.split(text) if name]
    if field.type is FieldType.USER and len(names) != 1:
        raise _Invalid("invalid_username")
    if not all(_USERNAME.fullmatch(name) for name in names):
        raise _Invalid("invalid_username")
    people = list(dict.fromkeys(names))
    if len(people) > MAX_FIELD_USERS:
        raise _Invalid("too_many_users")
    return ",".join(people)


def _number_text(value: str, source: Source) -> str:
    """The number as digits, '-' and '.'. HTML input may use full-width digits, comma and
    point, and commas between well-formed groups of three; anything else is refused with
    a message saying which rule it broke (never the value)."""
    if source == "json":
        return value
    text = _strip_invisible(value.translate(_FULL_WIDTH))
    if not _NUMBER_CHARACTERS.issuperset(text):
        raise _Invalid("invalid_number", "invalid_digits")
    if "," in text:
        if not _GROUPED_NUMBER.fullmatch(text):
            raise _Invalid("invalid_number", "invalid_grouping")
        text = text.replace(",", "")
    return text


def _clean_integer(field: FieldSpec, value: object, source: Source) -> int:
    if isinstance(value, float):
        raise _Invalid("float_not_allowed", "float_not_allowed_integer")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Invalid("invalid_type", "invalid_type_integer")
    if isinstance(value, str):
        if source == "json":
            raise _Invalid("invalid_type", "invalid_type_integer")
        text = _number_text(value, source)
        if not _PLAIN_NUMBER.fullmatch(text):
            raise _Invalid("invalid_number")
        if "." in text:
            raise _Invalid("not_integer")
        amount = Decimal(text)
    else:
        amount = Decimal(value)
    _check_bounds(field, amount)
    return int(amount)


def _clean_decimal(field: FieldSpec, value: object, source: Source) -> str:
    if isinstance(value, float):
        raise _Invalid("float_not_allowed", "float_not_allowed_number")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Invalid("invalid_type", "invalid_type_number")
    if isinstance(value, int):
        amount = Decimal(value)
    else:
        text = _number_text(value, source)
        if not _PLAIN_NUMBER.fullmatch(text):
            raise _Invalid("invalid_number")
        amount = Decimal(text)
    decimals = field.decimals or 0
    if decimal_places(amount) > decimals:
        key = "too_many_decimals" if decimals else "too_many_decimals_0"
        raise _Invalid("too_many_decimals", key, limit=decimals)
    _check_bounds(field, amount)
    stored = amount.quantize(Decimal(1).scaleb(-decimals))
    if stored == 0:
        stored = abs(stored)
    return f"{stored:f}"


def _check_bounds(field: FieldSpec, amount: Decimal) -> None:
    low = field.min if field.min is not None else -NUMBER_LIMIT
    high = field.max if field.max is not None else NUMBER_LIMIT
    suffix = "_money" if field.type is FieldType.MONEY else ""
    if amount < low:
        raise _Invalid("too_small", "too_small" + suffix, limit=_format_limit(field, low))
    if amount > high:
        raise _Invalid("too_large", "too_large" + suffix, limit=_format_limit(field, high))


def _format_limit(field: FieldSpec, limit: Decimal) -> str:
    decimals = field.decimals or 0
    return f"{limit:,.{decimals}f}"


def _clean_date(value: object, source: Source) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_date")
    if source == "json":
        if not _ISO_DATE.fullmatch(value):
            raise _Invalid("invalid_date")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise _Invalid("invalid_date") from None
    match = _HTML_DATE.fullmatch(_strip_invisible(value.translate(_FULL_WIDTH)))
    if not match:
        raise _Invalid("invalid_date")
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        raise _Invalid("invalid_date") from None


def _clean_choice(field: FieldSpec, value: object, source: Source) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_choice")
    text = value.strip() if source == "html" else value
    if field.option(text) is None:
        raise _Invalid("invalid_choice")
    return text


def _clean_boolean(value: object, source: Source) -> bool:
    if isinstance(value, bool):
        return value
    if source == "json" or not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_boolean")
    word = value.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise _Invalid("invalid_boolean")


_RATING_DIGITS = re.compile(r"[0-9]{1,2}")


def _clean_rating(field: FieldSpec, value: object, source: Source) -> int:
    """Stars from 1 to the field's max: JSON sends the integer, HTML the radio's digit."""
    if isinstance(value, (bool, float)):
        raise _Invalid("invalid_type", "invalid_type_integer")
    if isinstance(value, str) and source == "html":
        text = _strip_invisible(value.translate(_FULL_WIDTH))
        if not _RATING_DIGITS.fullmatch(text):
            raise _Invalid("invalid_type", "invalid_type_integer")
        value = int(text)
    if not isinstance(value, int):
        raise _Invalid("invalid_type", "invalid_type_integer")
    top = int(field.max) if field.max is not None else 5
    if not 1 <= value <= top:
        raise _Invalid("rating_out_of_range", limit=top)
    return value


_ATTACHMENT_ID = re.compile(r"[0-9a-f]{32}")


def _clean_attachments(field: FieldSpec, value: object) -> object:
    """The ids of uploaded files (POST /attachments), one string or a list; none is
    absent. Whose they are and what they hold is the service's check (ADR 0037)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _Invalid("invalid_type", "invalid_type_attachment")
    ids = [i.strip() for i in items if isinstance(i, str) and i.strip()]
    if not ids:
        return _ABSENT
    if not all(_ATTACHMENT_ID.fullmatch(i) for i in ids):
        raise _Invalid("invalid_attachment")
    if len(set(ids)) != len(ids):
        raise _Invalid("duplicate_attachment")
    top = field.max_files or DEFAULT_MAX_FILES
    if len(ids) > top:
        raise _Invalid("too_many_files", limit=top)
    return ids


def _clean_multi_choice(field: FieldSpec, value: object, source: Source) -> object:
    """Option values, each once, stored in the options' order (so equal choices compare
    equal); JSON sends a list, HTML one value per ticked box (or one string)."""
    if isinstance(value, str) and source == "html":
        value = [value] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid("invalid_type", "invalid_type_list")
    chosen = [item.strip() if source == "html" else item for item in value]
    chosen = [item for item in chosen if item] if source == "html" else chosen
    if not chosen:
        return _ABSENT
    if len(set(chosen)) != len(chosen):
        raise _Invalid("duplicate_choice")
    if any(field.option(item) is None for item in chosen):
        raise _Invalid("invalid_choice")
    return [o.value for o in field.options if o.value in chosen]


_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_HTML_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?")


def _clean_datetime(value: object, source: Source, timezone: str) -> str:
    """A moment as UTC "YYYY-MM-DDTHH:MM:SSZ". JSON must carry its offset (a naive time is
    refused: which zone it meant would be a guess); an HTML datetime-local input is read
    in the person's `timezone`."""
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_datetime")
    text = _strip_invisible(value.translate(_FULL_WIDTH)) if source == "html" else value
    if source == "json":
        match = _ISO_DATETIME.fullmatch(text)
        if match is None:
            raise _Invalid("invalid_datetime")
        if match.group(1) is None:
            raise _Invalid("naive_datetime")
    elif not _HTML_DATETIME.fullmatch(text) and not _ISO_DATETIME.fullmatch(text):
        raise _Invalid("invalid_datetime")
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise _Invalid("invalid_datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_URL_SCHEMES = frozenset({"http", "https"})


def _clean_url(field: FieldSpec, value: object) -> str | _Absent:
    """An http(s) address with a host, as typed (surrounding blanks removed)."""
    text = _typed_text(value)
    if not text:
        return _ABSENT
    if field.max_length is not None and len(text) > field.max_length:
        raise _Invalid("too_long", limit=field.max_length)
    if any(char.isspace() for char in text):
        raise _Invalid("invalid_url")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise _Invalid("invalid_url") from None
    if parts.scheme.lower() not in _URL_SCHEMES:
        raise _Invalid("invalid_url_scheme")
    if not host:
        raise _Invalid("invalid_url")
    return text


def _clean_region(value: object) -> str | _Absent:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "invalid_type_text")
    text = _strip_invisible(value.translate(_FULL_WIDTH))
    if not text:
        return _ABSENT
    if not regions.is_current(text):
        raise _Invalid("invalid_region")
    return text
