"""Turn a builder's form definition into a FormSpec, reporting every problem at once.

Builders edit YAML by hand; one round trip per typo is unbearable, so the parser
never stops at the first error: each `ErrorDetail` names the exact path
(`form.fields[2].options[0].value`) and, for misspelt keys, the likely intent.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail
from flowdesk.kernel.money import CURRENCY_EXPONENTS, DEFAULT_CURRENCY
from flowdesk.kernel.serials import number_format_problem

from .links import LinkRules, check_rollup_links, parse_link_rules
from .patterns import PatternError, check_pattern
from .spec import (
    CAPITALS_CURRENCY,
    CHOICE_TYPES,
    DEFAULT_DECIMALS,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_ROWS,
    DEFAULT_RATING_MAX,
    EMAIL_MAX_LENGTH,
    FORMULA_RESULTS,
    MAX_COLUMNS,
    MAX_FILES_LIMIT,
    MAX_RATING,
    MAX_ROWS,
    NOT_COLUMN_TYPES,
    NUMERIC_TYPES,
    SEX_VALUES,
    URL_MAX_LENGTH,
    ChoiceOption,
    FieldSpec,
    FieldType,
    FormSpec,
    LocalText,
)

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Words the expression language reads as operators or literals, not field names.
RESERVED_KEYS = frozenset({"and", "or", "not", "in", "true", "false", "null", "none", "if"})
MAX_FIELDS = 500
MAX_OPTIONS = 500
MAX_OPTION_VALUE_LENGTH = 100
MAX_TEXT_LENGTH = 100_000
MAX_DECIMALS = 10
# Bounds and values beyond this magnitude are refused (15 digits stay exact in JSON clients).
NUMBER_LIMIT = Decimal("999999999999999")

FORM_KEYS = ("fields",)
COMMON_KEYS = (
    "key",
    "type",
    "label",
    "help",
    "required",
    "placeholder",
    "visible_when",
    "required_when",
    "default",
)
# the expression attributes: text here, typed and compiled by engines/apps (ADR 0031)
EXPRESSION_KEYS = ("visible_when", "required_when", "default", "formula")
MAX_EXPRESSION_LENGTH = 4000
TYPE_KEYS: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: ("max_length", "min_length", "pattern", "pattern_message"),
    FieldType.LONG_TEXT: ("max_length", "min_length"),
    FieldType.INTEGER: ("min", "max"),
    FieldType.DECIMAL: ("min", "max", "decimals"),
    FieldType.MONEY: ("min", "max", "currency", "capitals"),
    FieldType.DATE: (),
    FieldType.CHOICE: ("options",),
    FieldType.BOOLEAN: (),
    FieldType.EMAIL: (),
    FieldType.USER: (),
    FieldType.USERS: (),
    FieldType.DEPARTMENT: (),
    FieldType.RESIDENT_ID: ("birth_date_field", "sex_field"),
    FieldType.MOBILE: (),
    FieldType.LANDLINE: (),
    FieldType.BANK_CARD: ("luhn",),
    FieldType.CREDIT_CODE: (),
    FieldType.PERCENT: ("min", "max", "decimals"),
    FieldType.DATETIME: (),
    FieldType.MULTI_CHOICE: ("options",),
    FieldType.RATING: ("max",),
    FieldType.URL: (),
    FieldType.REGION: (),
    FieldType.FORMULA: ("formula", "result"),
    FieldType.ATTACHMENT: ("max_files", "max_size_mb", "accept"),
    FieldType.TABLE: ("columns", "min_rows", "max_rows"),
    FieldType.AUTO_NUMBER: ("format",),
    FieldType.LINK: ("app", "multiple", "lookup"),
    FieldType.ROLLUP: ("link", "field", "aggregate"),
}
ALL_FIELD_KEYS = tuple(dict.fromkeys(itertools.chain(COMMON_KEYS, *TYPE_KEYS.values())))
OPTION_KEYS = ("value", "label")
LOCAL_TEXT_KEYS = ("en", "zh")


class Problems:
    """Collects problems while parsing continues, so all of them are reported at once."""

    def __init__(self) -> None:
        self.items: list[ErrorDetail] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.items.append(ErrorDetail(path=path, code=code, message=message))


def parse_form(data: Mapping[str, object], path: str = "form") -> FormSpec:
    """Parse a form definition; raise DefinitionInvalid listing every problem."""
    errors = Problems()
    fields = _parse_form(data, path, errors)
    if errors.items:
        raise DefinitionInvalid(errors.items)
    return FormSpec(fields=fields)


def _parse_form(data: object, path: str, errors: Problems) -> tuple[FieldSpec, ...]:
    if not isinstance(data, Mapping):
        errors.add(path, "invalid_type", "The form must be a mapping with a 'fields' list")
        return ()
    check_keys(data, FORM_KEYS, path, errors)
    raw_fields = data.get("fields")
    fields_path = f"{path}.fields"
    if raw_fields is None:
        errors.add(fields_path, "required", "A form needs a 'fields' list")
        return ()
    if not isinstance(raw_fields, list):
        errors.add(fields_path, "invalid_type", "'fields' must be a list")
        return ()
    if not raw_fields:
        errors.add(fields_path, "empty", "A form needs at least one field")
    if len(raw_fields) > MAX_FIELDS:
        errors.add(fields_path, "too_many", f"A form may have at most {MAX_FIELDS} fields")
        return ()
    parsed: list[FieldSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_fields):
        field_path = f"{fields_path}[{i}]"
        key = raw.get("key") if isinstance(raw, Mapping) else None
        if isinstance(key, str) and key in seen:
            errors.add(
                f"{field_path}.key",
                "duplicate_key",
                f"Another field already uses the key '{key}'",
            )
        elif isinstance(key, str):
            seen.add(key)
        spec = _parse_field(raw, field_path, errors)
        if spec is not None:
            parsed.append(spec)
    _check_derived_fields(raw_fields, parsed, fields_path, errors)
    check_rollup_links(raw_fields, parsed, fields_path, errors)
    return tuple(parsed)


def _check_derived_fields(
    raw_fields: list[object], parsed: list[FieldSpec], path: str, errors: Problems
) -> None:
    """A resident ID's birth date goes to a date field, its sex to a choice field offering
    "male" and "female"; each target is another field of the same form, filled by one ID."""
    by_key = {f.key: f for f in parsed}
    index = {raw.get("key"): i for i, raw in enumerate(raw_fields) if isinstance(raw, Mapping)}
    claimed: set[str] = set()
    for field in parsed:
        at = f"{path}[{index.get(field.key, 0)}]"
        for attribute, target in (
            ("birth_date_field", field.birth_date_field),
            ("sex_field", field.sex_field),
        ):
            if target is None:
                continue
            where = f"{at}.{attribute}"
            found = by_key.get(target)
            if found is None:
                errors.add(where, "unknown_field", f"No field of this form has the key '{target}'")
            elif target in claimed:
                errors.add(where, "duplicate_target", f"Another ID field already fills '{target}'")
            elif attribute == "birth_date_field" and found.type is not FieldType.DATE:
                errors.add(where, "invalid_target", f"'{target}' must be a date field")
            elif attribute == "sex_field" and (
                found.type is not FieldType.CHOICE
                or any(found.option(value) is None for value in SEX_VALUES)
            ):
                errors.add(
                    where,
                    "invalid_target",
                    f"'{target}' must be a choice field with the options "
                    f"{' and '.join(SEX_VALUES)}",
                )
            claimed.add(target)


def check_keys(
    data: Mapping[object, object],
    allowed: tuple[str, ...],
    path: str,
    errors: Problems,
    elsewhere: tuple[str, ...] = (),
    kind: str = "",
) -> None:
    """Report keys not in `allowed`; suggest the nearest allowed key when one is close."""
    for key in data:
        if isinstance(key, str) and key in allowed:
            continue
        name = str(key)
        if name in elsewhere:
            errors.add(f"{path}.{name}", "unknown_key", f"'{name}' does not apply to {kind} fields")
            continue
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
        errors.add(f"{path}.{name}", "unknown_key", f"Unknown key '{name}'{hint}")


@dataclass(slots=True)
class _Extras:
    """Type-specific attributes of a field."""

    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = None
    decimals: int | None = None
    currency: str | None = None
    options: tuple[ChoiceOption, ...] = ()
    birth_date_field: str | None = None
    sex_field: str | None = None
    luhn: bool = True
    min_length: int | None = None
    pattern: str | None = None
    pattern_message: LocalText | None = None
    capitals: bool = False
    max_files: int | None = None
    max_size_mb: int | None = None
    accept: tuple[str, ...] = ()
    columns: tuple[FieldSpec, ...] = ()
    min_rows: int = 0
    max_rows: int | None = None
    number_format: str | None = None
    link: LinkRules | None = None


def _parse_field(raw: object, path: str, errors: Problems) -> FieldSpec | None:
    if not isinstance(raw, Mapping):
        errors.add(path, "invalid_type", "Each field must be a mapping with key, type and label")
        return None
    before = len(errors.items)
    key = _parse_key(raw.get("key"), f"{path}.key", errors)
    field_type = _parse_type(raw.get("type"), f"{path}.type", errors)
    if field_type is None:
        check_keys(raw, ALL_FIELD_KEYS, path, errors)
    else:
        allowed = COMMON_KEYS + TYPE_KEYS[field_type]
        check_keys(raw, allowed, path, errors, ALL_FIELD_KEYS, field_type.value)
    label = parse_local_text(raw.get("label"), f"{path}.label", errors, required=True)
    help_text = parse_local_text(raw.get("help"), f"{path}.help", errors)
    placeholder = parse_local_text(raw.get("placeholder"), f"{path}.placeholder", errors)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        errors.add(f"{path}.required", "invalid_type", "'required' must be true or false")
    extras = _parse_extras(raw, field_type, path, errors)
    expressions = {
        name: _parse_expression_text(raw.get(name), f"{path}.{name}", errors)
        for name in EXPRESSION_KEYS
    }
    result = _parse_formula_rules(raw, field_type, expressions, path, errors)
    if len(errors.items) > before or key is None or field_type is None or label is None:
        return None
    return FieldSpec(
        key=key,
        type=field_type,
        label=label,
        help=help_text,
        required=required is True,
        placeholder=placeholder,
        min=extras.min,
        max=extras.max,
        max_length=extras.max_length,
        decimals=extras.decimals,
        currency=extras.currency,
        options=extras.options,
        birth_date_field=extras.birth_date_field,
        sex_field=extras.sex_field,
        luhn=extras.luhn,
        min_length=extras.min_length,
        pattern=extras.pattern,
        pattern_message=extras.pattern_message,
        capitals=extras.capitals,
        number_format=extras.number_format,
        **(extras.link.as_field() if extras.link is not None else {}),
        formula=expressions["formula"],
        result=result,
        visible_when=expressions["visible_when"],
        required_when=expressions["required_when"],
        default=expressions["default"],
        max_files=extras.max_files,
        max_size_mb=extras.max_size_mb,
        accept=extras.accept,
        columns=extras.columns,
        min_rows=extras.min_rows,
        max_rows=extras.max_rows,
    )


def _parse_expression_text(raw: object, path: str, errors: Problems) -> str | None:
    """An expression as text; its syntax and types are checked with the whole app."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        errors.add(path, "invalid_type", "An expression must be non-empty text")
        return None
    if len(raw) > MAX_EXPRESSION_LENGTH:
        errors.add(
            path, "too_long", f"An expression may have at most {MAX_EXPRESSION_LENGTH} characters"
        )
        return None
    return raw


def _parse_formula_rules(
    raw: Mapping[object, object],
    field_type: FieldType | None,
    expressions: Mapping[str, str | None],
    path: str,
    errors: Problems,
) -> str | None:
    """A formula field's `result:` (None: inferred with the app); the rules no other
    attribute of a formula field may break."""
    if field_type is not FieldType.FORMULA:
        return None
    if expressions["formula"] is None and "formula" not in raw:
        errors.add(f"{path}.formula", "required", "A formula field needs a 'formula' expression")
    if raw.get("required") is True or "required_when" in raw:
        errors.add(
            f"{path}.required",
            "invalid_rule",
            "A formula field is computed, so nobody can be asked to fill it in",
        )
    if "default" in raw:
        errors.add(f"{path}.default", "invalid_rule", "A formula field has no default value")
    result = raw.get("result")
    if result is None:
        return None
    if result not in FORMULA_RESULTS:
        errors.add(
            f"{path}.result", "invalid_choice", f"result is one of {', '.join(FORMULA_RESULTS)}"
        )
        return None
    return str(result)


def _parse_key(raw: object, path: str, errors: Problems) -> str | None:
    if raw is None:
        errors.add(path, "required", "Every field needs a key")
        return None
    if not isinstance(raw, str) or not KEY_PATTERN.fullmatch(raw):
        errors.add(
            path,
            "invalid_key",
            "A key starts with a lowercase letter and has only lowercase letters, digits "
            "and '_' (at most 63 characters)",
        )
        return None
    if raw in RESERVED_KEYS:
        errors.add(path, "reserved_key", f"'{raw}' is a word of the expression language")
        return None
    return raw


def _parse_type(raw: object, path: str, errors: Problems) -> FieldType | None:
    names = [t.value for t in FieldType]
    if raw is None:
        errors.add(path, "required", f"Every field needs a type: {', '.join(names)}")
        return None
    if isinstance(raw, str) and raw in names:
        return FieldType(raw)
    close = difflib.get_close_matches(str(raw), names, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known types: {', '.join(names)}"
    errors.add(path, "unknown_field_type", f"Unknown field type '{raw}'; {hint}")
    return None


def parse_local_text(
    raw: object, path: str, errors: Problems, *, required: bool = False
) -> LocalText | None:
    """Parse `{en: ..., zh: ...}`; both languages are required when the text is given."""
    if raw is None:
        if required:
            errors.add(path, "required", "Give this text in both languages: {en: ..., zh: ...}")
        return None
    if not isinstance(raw, Mapping):
        errors.add(path, "invalid_type", "Must be a mapping {en: ..., zh: ...}")
        return None
    check_keys(raw, LOCAL_TEXT_KEYS, path, errors)
    texts: dict[str, str] = {}
    for lang in LOCAL_TEXT_KEYS:
        value = raw.get(lang)
        if not isinstance(value, str) or not value.strip():
            errors.add(f"{path}.{lang}", "required", f"Give a non-empty '{lang}' text")
            continue
        texts[lang] = value
    if len(texts) != len(LOCAL_TEXT_KEYS):
        return None
    return LocalText(en=texts["en"], zh=texts["zh"])


def _parse_extras(
    raw: Mapping[str, object], field_type: FieldType | None, path: str, errors: Problems
) -> _Extras:
    extras = _Extras()
    if field_type in (FieldType.TEXT, FieldType.LONG_TEXT):
        extras.max_length = _parse_max_length(raw, field_type, path, errors)
        _parse_text_rules(raw, field_type, path, errors, extras)
    elif field_type is FieldType.EMAIL:
        extras.max_length = EMAIL_MAX_LENGTH
    elif field_type is FieldType.URL:
        extras.max_length = URL_MAX_LENGTH
    elif field_type is FieldType.RATING:
        top = _whole_number(
            raw.get("max", DEFAULT_RATING_MAX),
            (2, MAX_RATING),
            f"{path}.max",
            f"'max' must be a whole number of stars from 2 to {MAX_RATING}",
            errors,
        )
        top = DEFAULT_RATING_MAX if top is None else top
        extras.min = Decimal(1)
        extras.max = Decimal(top)
    elif field_type in CHOICE_TYPES:
        extras.options = _parse_options(raw.get("options"), f"{path}.options", errors)
    elif field_type in NUMERIC_TYPES:
        _parse_numeric(raw, field_type, path, errors, extras)
    elif field_type is FieldType.RESIDENT_ID:
        extras.birth_date_field = _parse_field_ref(raw, "birth_date_field", path, errors)
        extras.sex_field = _parse_field_ref(raw, "sex_field", path, errors)
    elif field_type is FieldType.ATTACHMENT:
        _parse_attachment(raw, path, errors, extras)
    elif field_type is FieldType.TABLE:
        _parse_table(raw, path, errors, extras)
    elif field_type is FieldType.AUTO_NUMBER:
        extras.number_format = _parse_number_format(raw, path, errors)
    elif field_type in (FieldType.LINK, FieldType.ROLLUP):
        extras.link = parse_link_rules(raw, field_type, path, errors)
    elif field_type is FieldType.BANK_CARD:
        luhn = raw.get("luhn", True)
        if not isinstance(luhn, bool):
            errors.add(f"{path}.luhn", "invalid_type", "'luhn' must be true or false")
        extras.luhn = luhn is not False
    return extras


_EXTENSION = re.compile(r"[a-z0-9]{1,10}")
MAX_SIZE_MB_LIMIT = 1024


def _whole_number(
    value: object, bounds: tuple[int, int], path: str, text: str, errors: Problems
) -> int | None:
    """`value` if it is a whole number within `bounds`, else None with `invalid_number`."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(path, "invalid_number", text)
        return None
    return value


def _parse_attachment(
    raw: Mapping[str, object], path: str, errors: Problems, extras: _Extras
) -> None:
    """`max_files` (1..20, 5 unless set), `max_size_mb` (per file, 1..1024; the
    installation's limit still applies) and `accept: [pdf, jpg]` (extensions, lower case,
    without the dot; the installation's list still applies)."""
    count = _whole_number(
        raw.get("max_files", DEFAULT_MAX_FILES),
        (1, MAX_FILES_LIMIT),
        f"{path}.max_files",
        f"'max_files' must be a whole number from 1 to {MAX_FILES_LIMIT}",
        errors,
    )
    extras.max_files = DEFAULT_MAX_FILES if count is None else count
    if raw.get("max_size_mb") is not None:
        extras.max_size_mb = _whole_number(
            raw["max_size_mb"],
            (1, MAX_SIZE_MB_LIMIT),
            f"{path}.max_size_mb",
            f"'max_size_mb' must be a whole number of MB from 1 to {MAX_SIZE_MB_LIMIT}",
            errors,
        )
    accept = raw.get("accept")
    if accept is not None:
        if (
            not isinstance(accept, list)
            or not accept
            or not all(isinstance(e, str) and _EXTENSION.fullmatch(e) for e in accept)
        ):
            errors.add(
                f"{path}.accept",
                "invalid_type",
                "'accept' is a list of file extensions in lower case, such as [pdf, jpg]",
            )
        else:
            extras.accept = tuple(dict.fromkeys(accept))


# what a column cannot carry: its row is filled as a whole, the table is shown or not
NOT_COLUMN_KEYS = ("visible_when", "required_when", "default", "birth_date_field", "sex_field")


def _parse_table(raw: Mapping[str, object], path: str, errors: Problems, out: _Extras) -> None:
    """A sub-table's columns (fields of any scalar type, a formula reading its own row's
    columns) and its bounds on rows: 0 <= min_rows <= max_rows <= MAX_ROWS."""
    if "default" in raw:
        errors.add(f"{path}.default", "invalid_rule", "A table has no default value")
    columns_path = f"{path}.columns"
    listed = raw.get("columns")
    if not isinstance(listed, list) or not listed:
        errors.add(columns_path, "required", "A table needs a non-empty 'columns' list")
        listed = []
    if len(listed) > MAX_COLUMNS:
        errors.add(columns_path, "too_many", f"A table may have at most {MAX_COLUMNS} columns")
        listed = []
    columns: list[FieldSpec] = []
    seen: set[str] = set()
    for j, item in enumerate(listed):
        at = f"{columns_path}[{j}]"
        if isinstance(item, Mapping):
            kind, key = item.get("type"), item.get("key")
            if kind in {t.value for t in NOT_COLUMN_TYPES}:
                errors.add(
                    f"{at}.type", "invalid_column_type", f"A table column cannot be a {kind} field"
                )
                continue
            for name in NOT_COLUMN_KEYS:
                if name in item:
                    errors.add(
                        f"{at}.{name}", "unknown_key", f"'{name}' does not apply to a table column"
                    )
            if isinstance(key, str) and key in seen:
                errors.add(
                    f"{at}.key", "duplicate_key", f"Another column already uses the key '{key}'"
                )
            elif isinstance(key, str):
                seen.add(key)
        column = _parse_field(item, at, errors)
        if column is not None:
            columns.append(column)
    out.columns = tuple(columns)
    out.min_rows = _parse_rows(raw, "min_rows", 0, path, errors)
    out.max_rows = _parse_rows(raw, "max_rows", DEFAULT_MAX_ROWS, path, errors)
    if out.min_rows > out.max_rows:
        errors.add(
            f"{path}.min_rows", "min_greater_than_max", "'min_rows' is greater than 'max_rows'"
        )


def _parse_rows(
    raw: Mapping[str, object], name: str, default: int, path: str, errors: Problems
) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ROWS:
        errors.add(
            f"{path}.{name}",
            "invalid_number",
            f"'{name}' must be a whole number from 0 to {MAX_ROWS}",
        )
        return default
    return value


def _parse_number_format(raw: Mapping[str, object], path: str, errors: Problems) -> str | None:
    """An auto_number field's `format` (ADR 0038), numbered by the server: never required,
    defaulted or shown on a condition, since nobody fills it in."""
    text = raw.get("format")
    if not isinstance(text, str):
        errors.add(f"{path}.format", "required", "Give the format, such as LN-{YYYY}-{seq:6}")
        return None
    problem = number_format_problem(text)
    if problem is not None:
        errors.add(f"{path}.format", "invalid_number_format", problem)
        return None
    for rule in ("required", "default", "visible_when", "required_when"):
        if raw.get(rule) not in (None, False):
            errors.add(
                f"{path}.{rule}",
                "invalid_rule",
                "An auto-number is given by the server when the form is filed",
            )
    return text


def _parse_field_ref(
    raw: Mapping[str, object], name: str, path: str, errors: Problems
) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value):
        errors.add(f"{path}.{name}", "invalid_key", f"'{name}' must be the key of another field")
        return None
    if value == raw.get("key"):
        errors.add(f"{path}.{name}", "invalid_target", "A field cannot fill itself")
        return None
    return value


def _parse_text_rules(
    raw: Mapping[str, object], field_type: FieldType, path: str, errors: Problems, out: _Extras
) -> None:
    """min_length (1 to max_length) and, for single-line text, a pattern the whole value
    must match, with the message a clerk reads when it does not (patterns.py)."""
    low = raw.get("min_length")
    top = out.max_length or DEFAULT_MAX_LENGTH[field_type.value]
    if low is not None:
        if isinstance(low, bool) or not isinstance(low, int) or not 1 <= low <= top:
            errors.add(
                f"{path}.min_length",
                "invalid_number",
                f"'min_length' must be a whole number from 1 to max_length ({top})",
            )
        else:
            out.min_length = low
    pattern = raw.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            errors.add(f"{path}.pattern", "invalid_type", "'pattern' must be non-empty text")
        else:
            try:
                check_pattern(pattern, top)
                out.pattern = pattern
            except PatternError as exc:
                errors.add(f"{path}.pattern", exc.code, exc.message)
    out.pattern_message = parse_local_text(
        raw.get("pattern_message"), f"{path}.pattern_message", errors
    )
    if out.pattern_message is not None and pattern is None:
        errors.add(f"{path}.pattern_message", "unknown_key", "'pattern_message' needs a 'pattern'")


def _parse_max_length(
    raw: Mapping[str, object], field_type: FieldType, path: str, errors: Problems
) -> int:
    default = DEFAULT_MAX_LENGTH[field_type.value]
    value = raw.get("max_length", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TEXT_LENGTH:
        errors.add(
            f"{path}.max_length",
            "invalid_number",
            f"'max_length' must be a whole number from 1 to {MAX_TEXT_LENGTH}",
        )
        return default
    return value


def _parse_numeric(
    raw: Mapping[str, object], field_type: FieldType, path: str, errors: Problems, out: _Extras
) -> None:
    decimals = 0
    if field_type in (FieldType.DECIMAL, FieldType.PERCENT):
        value = raw.get("decimals", DEFAULT_DECIMALS)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DECIMALS:
            errors.add(
                f"{path}.decimals",
                "invalid_number",
                f"'decimals' must be a whole number from 0 to {MAX_DECIMALS}",
            )
        else:
            decimals = value
        out.decimals = decimals
    elif field_type is FieldType.MONEY:
        currency = raw.get("currency", DEFAULT_CURRENCY)
        if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
            known = ", ".join(CURRENCY_EXPONENTS)
            errors.add(
                f"{path}.currency",
                "unknown_currency",
                f"Unknown currency '{currency}'; known: {known}",
            )
            currency = DEFAULT_CURRENCY
        decimals = CURRENCY_EXPONENTS[currency]
        out.currency = currency
        out.decimals = decimals
        capitals = raw.get("capitals", currency == CAPITALS_CURRENCY)
        if not isinstance(capitals, bool):
            errors.add(f"{path}.capitals", "invalid_type", "'capitals' must be true or false")
        elif capitals and currency != CAPITALS_CURRENCY:
            errors.add(
                f"{path}.capitals",
                "capitals_not_available",
                f"Chinese capitals (大写) are written for {CAPITALS_CURRENCY} amounts only",
            )
        else:
            out.capitals = capitals
    low = _parse_bound(raw.get("min"), decimals, f"{path}.min", errors)
    high = _parse_bound(raw.get("max"), decimals, f"{path}.max", errors)
    if low is not None and high is not None and low > high:
        errors.add(f"{path}.min", "min_greater_than_max", "'min' is greater than 'max'")
    out.min = low
    out.max = high


def _parse_bound(raw: object, decimals: int, path: str, errors: Problems) -> Decimal | None:
    if raw is None:
        return None
    value: Decimal | None = None
    if isinstance(raw, (int, float, str)) and not isinstance(raw, bool):
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite():
        errors.add(path, "invalid_number", 'Must be a number, such as 100000 or "0.01"')
        return None
    if abs(value) > NUMBER_LIMIT:
        errors.add(path, "out_of_range", f"Must be between -{NUMBER_LIMIT} and {NUMBER_LIMIT}")
        return None
    if decimal_places(value) > decimals:
        errors.add(path, "too_many_decimals", f"The field allows at most {decimals} decimal places")
        return None
    return value


def decimal_places(value: Decimal) -> int:
    """Decimal places the value needs; trailing zeros do not count ("1.50" needs 1).

    Works on the digits themselves: `normalize()` would round to the context precision.
    """
    _, digits, exponent = value.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not isinstance(exponent, int) or exponent >= 0 or not significant:
        return 0
    return max(0, -exponent - (len(digits) - len(significant)))


def _parse_options(raw: object, path: str, errors: Problems) -> tuple[ChoiceOption, ...]:
    if raw is None:
        errors.add(path, "options_required", "A choice field needs a list of options")
        return ()
    if not isinstance(raw, list) or not raw:
        errors.add(path, "options_required", "'options' must be a non-empty list")
        return ()
    if len(raw) > MAX_OPTIONS:
        errors.add(path, "too_many", f"A choice field may have at most {MAX_OPTIONS} options")
        return ()
    options: list[ChoiceOption] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        option_path = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            errors.add(option_path, "invalid_type", "Each option must be {value, label}")
            continue
        check_keys(item, OPTION_KEYS, option_path, errors)
        value = _parse_option_value(item.get("value"), f"{option_path}.value", errors)
        if value is not None and value in seen:
            errors.add(
                f"{option_path}.value",
                "duplicate_option",
                f"Another option already has the value '{value}'",
            )
            value = None
        label = parse_local_text(item.get("label"), f"{option_path}.label", errors, required=True)
        if value is not None:
            seen.add(value)
            if label is not None:
                options.append(ChoiceOption(value=value, label=label))
    return tuple(options)


def _parse_option_value(raw: object, path: str, errors: Problems) -> str | None:
    if raw is None:
        errors.add(path, "required", "Every option needs a value")
        return None
    if not isinstance(raw, str):
        errors.add(
            path, "invalid_type", 'An option value must be text; quote it in YAML ("yes", "1")'
        )
        return None
    if not raw.strip() or raw != raw.strip() or len(raw) > MAX_OPTION_VALUE_LENGTH:
        errors.add(
            path,
            "invalid_value",
            f"An option value is 1 to {MAX_OPTION_VALUE_LENGTH} characters "
            "without leading or trailing spaces",
        )
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        errors.add(path, "invalid_characters", "An option value may not contain control characters")
        return None
    return raw
