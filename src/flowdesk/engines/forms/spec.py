"""The form definition as immutable values, so a published form cannot change under a ticket.

A `FormSpec` is what `parse_form` produces from YAML/JSON; `to_dict()` gives back
a plain mapping that `parse_form` turns into an equal spec (the portable format).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 4000}
DEFAULT_DECIMALS = 2
EMAIL_MAX_LENGTH = 254


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    EMAIL = "email"
    # people and units of the org chart, by username / department code (issue 8: an
    # assignee rule can name who a field holds); users holds "li.na,wang.wei"
    USER = "user"
    USERS = "users"
    DEPARTMENT = "department"
    # China's identity numbers (identity.py): checked by their standards, not a pattern
    RESIDENT_ID = "resident_id"
    MOBILE = "mobile"
    LANDLINE = "landline"
    BANK_CARD = "bank_card"
    CREDIT_CODE = "credit_code"
    PERCENT = "percent"  # stored as the number before the %: "12.50" is 12.5 %
    DATETIME = "datetime"  # a moment, stored in UTC: "2026-12-03T05:30:00Z"
    MULTI_CHOICE = "multi_choice"  # stored as a list of option values, in option order
    RATING = "rating"  # a whole number of stars from 1 to max (5 unless set)
    URL = "url"
    REGION = "region"  # a division code of GB/T 2260 (regions.py): "440305"
    # computed on the server from other fields (ADR 0031); never accepted from a client
    FORMULA = "formula"
    # files uploaded first (POST /attachments, ADR 0028), stored as the list of their ids;
    # the service checks each id, the field's types, size and count (ADR 0037)
    ATTACHMENT = "attachment"
    # a sub-table (line items, ADR 0036): rows of typed columns, stored as a list of
    # objects [{"date": "2026-12-01", "amount": "120.00"}, …]
    TABLE = "table"
    # numbered by the server when the ticket or record is filed (ADR 0038): LN-2026-000123
    AUTO_NUMBER = "auto_number"
    # linked records (ADR 0038): ids of another app's records or tickets, and a roll-up
    # (sum, count, min, max) over a field of the records a link field holds, read live
    LINK = "link"
    ROLLUP = "rollup"


NUMERIC_TYPES = frozenset(
    {FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY, FieldType.PERCENT}
)
CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTI_CHOICE})
DEFAULT_RATING_MAX = 5
MAX_RATING = 10
URL_MAX_LENGTH = 2000
# The currency whose amounts have Chinese capitals (大写金额).
CAPITALS_CURRENCY = "CNY"
# Where people typing a date and time in a web form are, unless the caller says otherwise.
DEFAULT_TIMEZONE = "Asia/Shanghai"
TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT})
ORG_TYPES = frozenset({FieldType.USER, FieldType.USERS, FieldType.DEPARTMENT})
IDENTITY_TYPES = frozenset(
    {
        FieldType.RESIDENT_ID,
        FieldType.MOBILE,
        FieldType.LANDLINE,
        FieldType.BANK_CARD,
        FieldType.CREDIT_CODE,
    }
)
# JR/T 0171 C2 personal data, masked on display by default (RELIABILITY promise 8).
PERSONAL_TYPES = frozenset({FieldType.RESIDENT_ID, FieldType.MOBILE, FieldType.BANK_CARD})
# What a formula may give (`result:`), the expression engine's types; stored as JSON like
# the field types of the same kind: number "1234.50", text, true/false, date "2026-12-03".
FORMULA_RESULTS = ("number", "text", "bool", "date")
# An attachment field's files: at most this many, MAX_FILES_LIMIT at most (ADR 0037).
DEFAULT_MAX_FILES = 5
MAX_FILES_LIMIT = 20
# Column types a sub-table may not have: another table, and values that are lists.
NOT_COLUMN_TYPES = frozenset({FieldType.TABLE, FieldType.MULTI_CHOICE})
DEFAULT_MAX_ROWS = 200
MAX_ROWS = 1000
MAX_COLUMNS = 50
# The values a resident ID's sex digit gives a derived field (its options must have them).
SEX_VALUES = ("male", "female")


def is_zh(locale: str) -> bool:
    """True for any Chinese locale tag ("zh", "zh-CN", "zh_Hans")."""
    return locale.lower().startswith("zh")


@dataclass(frozen=True, slots=True)
class LocalText:
    """A text shown to people, in both languages the UI speaks."""

    en: str
    zh: str

    def get(self, locale: str) -> str:
        return self.zh if is_zh(locale) else self.en

    def to_dict(self) -> dict[str, object]:
        return {"en": self.en, "zh": self.zh}


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    value: str
    label: LocalText

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "label": self.label.to_dict()}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One typed field; attributes that do not apply to its type stay None/empty.

    `decimals` is set for decimal and money fields (for money it follows the
    currency); `max_length` for text, long_text and email fields. A resident ID field may
    name a date field (`birth_date_field`) and a choice field (`sex_field`) that it fills
    from its digits; a bank card field checks the Luhn digit unless `luhn` is False.
    """

    key: str
    type: FieldType
    label: LocalText
    help: LocalText | None = None
    required: bool = False
    placeholder: LocalText | None = None
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
    # a CNY amount is shown with its Chinese capitals (大写) unless the builder says no
    capitals: bool = False
    # expressions (engines/expr), checked and run by engines/apps/formulas.py (ADR 0031):
    # a formula field's expression and result type; when the field is shown and asked for;
    # the value it starts with
    formula: str | None = None
    result: str | None = None
    visible_when: str | None = None
    required_when: str | None = None
    default: str | None = None
    # attachment fields (ADR 0037): how many files, how large each (MB; None: the
    # installation's limit) and which extensions (empty: the installation's list)
    max_files: int | None = None
    max_size_mb: int | None = None
    accept: tuple[str, ...] = ()
    # a table's columns (fields of their own, a row's formula reading its row's columns)
    # and how many rows it takes (ADR 0036)
    columns: tuple[FieldSpec, ...] = ()
    min_rows: int = 0
    max_rows: int | None = None

    def column(self, key: str) -> FieldSpec | None:
        return next((c for c in self.columns if c.key == key), None)

    # an auto_number field's format (kernel/serials.py): LN-{YYYY}-{seq:6}
    number_format: str | None = None
    # a link field's app (its key), whether it holds several records, and the linked
    # app's fields shown beside each (look-up); a roll-up's link field, the linked app's
    # field it aggregates and how (ADR 0038)
    link_app: str | None = None
    multiple: bool = False
    lookup: tuple[str, ...] = ()
    link_field: str | None = None
    rollup_field: str | None = None
    aggregate: str | None = None

    @property
    def computed(self) -> bool:
        """Filled by the server, never by a person: formulas, auto-numbers, roll-ups."""
        return self.type in (FieldType.FORMULA, FieldType.AUTO_NUMBER, FieldType.ROLLUP)

    @property
    def conditional(self) -> bool:
        """Whether being required depends on other values (visible_when, required_when,
        default), so only the computation over the whole form can tell."""
        return (
            self.visible_when is not None
            or self.required_when is not None
            or self.default is not None
        )

    def expressions(self) -> tuple[tuple[str, str], ...]:
        """(attribute, text) of each expression the field carries, in evaluation order."""
        found = (
            ("default", self.default),
            ("visible_when", self.visible_when),
            ("formula", self.formula),
            ("required_when", self.required_when),
        )
        return tuple((name, text) for name, text in found if text is not None)

    @property
    def personal(self) -> bool:
        """Personal data (ID, mobile, bank card): masked on display unless unmasked; a
        table with a personal column is masked column by column."""
        return self.type in PERSONAL_TYPES or any(c.personal for c in self.columns)

    def option(self, value: str) -> ChoiceOption | None:
        return next((o for o in self.options if o.value == value), None)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"key": self.key, "type": self.type.value}
        out["label"] = self.label.to_dict()
        if self.help is not None:
            out["help"] = self.help.to_dict()
        if self.required:
            out["required"] = True
        if self.placeholder is not None:
            out["placeholder"] = self.placeholder.to_dict()
        if self.min is not None and self.type is not FieldType.RATING:  # always 1 star
            out["min"] = _number_out(self.min)
        if self.max is not None:
            out["max"] = _number_out(self.max)
        if self.type.value in DEFAULT_MAX_LENGTH and (
            self.max_length != DEFAULT_MAX_LENGTH[self.type.value]
        ):
            out["max_length"] = self.max_length
        if self.min_length is not None:
            out["min_length"] = self.min_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.pattern_message is not None:
            out["pattern_message"] = self.pattern_message.to_dict()
        if (
            self.type in (FieldType.DECIMAL, FieldType.PERCENT)
            and self.decimals != DEFAULT_DECIMALS
        ):
            out["decimals"] = self.decimals
        if self.type is FieldType.MONEY:
            out["currency"] = self.currency
            if self.currency == CAPITALS_CURRENCY and not self.capitals:
                out["capitals"] = False
        if self.options:
            out["options"] = [o.to_dict() for o in self.options]
        if self.birth_date_field is not None:
            out["birth_date_field"] = self.birth_date_field
        if self.sex_field is not None:
            out["sex_field"] = self.sex_field
        if self.type is FieldType.BANK_CARD and not self.luhn:
            out["luhn"] = False
        if self.formula is not None:
            out["formula"] = self.formula
        if self.result is not None:
            out["result"] = self.result
        if self.number_format is not None:
            out["format"] = self.number_format
        if self.link_app is not None:
            out["app"] = self.link_app
            if self.multiple:
                out["multiple"] = True
            if self.lookup:
                out["lookup"] = list(self.lookup)
        if self.link_field is not None:
            out["link"] = self.link_field
            out["field"] = self.rollup_field
            out["aggregate"] = self.aggregate
        for name in ("visible_when", "required_when", "default"):
            text = getattr(self, name)
            if text is not None:
                out[name] = text
        if self.type is FieldType.ATTACHMENT:
            if self.max_files != DEFAULT_MAX_FILES:
                out["max_files"] = self.max_files
            if self.max_size_mb is not None:
                out["max_size_mb"] = self.max_size_mb
            if self.accept:
                out["accept"] = list(self.accept)
        if self.type is FieldType.TABLE:
            out["columns"] = [c.to_dict() for c in self.columns]
            if self.min_rows:
                out["min_rows"] = self.min_rows
            if self.max_rows != DEFAULT_MAX_ROWS:
                out["max_rows"] = self.max_rows
        return out


@dataclass(frozen=True, slots=True)
class FormSpec:
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec:
        """The field with this key; KeyError if the form has none."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    def to_dict(self) -> dict[str, object]:
        return {"fields": [f.to_dict() for f in self.fields]}


def _number_out(value: Decimal) -> int | str:
    """Whole numbers as YAML integers, others as exact strings (never floats)."""
    if value == value.to_integral_value():
        return int(value)
    return str(value)
