"""What the form builder offers: every field type the parser knows, with the settings it takes.

The builder (web/static/builder) draws its palette and its settings panel from this
description alone, so a field type is described once, here and in parse.py: a type
added to `FieldType` and `parse.TYPE_KEYS` shows up in the builder with its settings.
Each setting has a kind that says which input edits it (`SETTING_KINDS`); a setting
this module does not know yet is edited as JSON, so a new type is usable before it has
its own inputs. Labels are in both languages, as the form's own texts are.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.kernel.money import CURRENCY_EXPONENTS

from .links import AGGREGATES
from .parse import COMMON_KEYS, NOT_COLUMN_KEYS, TYPE_KEYS
from .spec import FORMULA_RESULTS, NOT_COLUMN_TYPES, FieldType, LocalText

# how each setting is edited: text, local_text ({en, zh}), bool, integer, number (exact,
# sent as text), choice (one of `choices`), field (another field's key), expression,
# options (a list of {value, label}), words (a list of short texts, typed comma-separated),
# app (a published app's key), linked_field / linked_fields (one / some fields of the app
# a link field names: its own `app`, or a roll-up's `link` field's; typed as text / words
# while that app is not known),
# columns (a sub-table's columns: fields of their own, a type from `choices` each, with
# that type's settings but those marked `in_column: false`), json (anything else, as JSON)
SETTING_KINDS: dict[str, str] = {
    "label": "local_text",
    "help": "local_text",
    "placeholder": "local_text",
    "pattern_message": "local_text",
    "required": "bool",
    "luhn": "bool",
    "capitals": "bool",
    "min": "number",
    "max": "number",
    "max_length": "integer",
    "min_length": "integer",
    "decimals": "integer",
    "max_files": "integer",
    "max_size_mb": "integer",
    "accept": "words",
    "columns": "columns",
    "format": "text",
    "app": "app",
    "multiple": "bool",
    "lookup": "linked_fields",
    "link": "field",
    "field": "linked_field",
    "aggregate": "choice",
    "min_rows": "integer",
    "max_rows": "integer",
    "pattern": "text",
    "currency": "choice",
    "result": "choice",
    "options": "options",
    "birth_date_field": "field",
    "sex_field": "field",
    "visible_when": "expression",
    "required_when": "expression",
    "default": "expression",
    "formula": "expression",
}
# a setting whose kind depends on the type: a rating's max is a whole number of stars
TYPE_SETTING_KINDS: dict[tuple[FieldType, str], str] = {(FieldType.RATING, "max"): "integer"}
# the types a sub-table's column may have (spec.NOT_COLUMN_TYPES are refused), in order
COLUMN_TYPES = tuple(t.value for t in FieldType if t not in NOT_COLUMN_TYPES)
SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "columns": COLUMN_TYPES,
    "currency": tuple(CURRENCY_EXPONENTS),
    "result": FORMULA_RESULTS,
    "aggregate": AGGREGATES,
}
# the panel's sections: what the field is, what a value must be, when and how it is computed
GROUPS = ("basic", "validation", "rules")
_GROUP_OF_KIND = {
    "local_text": "basic",
    "expression": "rules",
    "options": "basic",
    "columns": "basic",
}

_ = LocalText
TYPE_LABELS: dict[str, LocalText] = {
    "text": _("Text", "单行文本"),
    "long_text": _("Long text", "多行文本"),
    "integer": _("Whole number", "整数"),
    "decimal": _("Decimal number", "小数"),
    "money": _("Money", "金额"),
    "date": _("Date", "日期"),
    "choice": _("Single choice", "单选"),
    "boolean": _("Yes / no", "是/否"),
    "email": _("Email", "电子邮箱"),
    "user": _("Person", "人员"),
    "users": _("People", "多个人员"),
    "department": _("Department", "部门"),
    "resident_id": _("Resident ID", "身份证号"),
    "mobile": _("Mobile", "手机号"),
    "landline": _("Landline", "固定电话"),
    "bank_card": _("Bank card", "银行卡号"),
    "credit_code": _("Unified social credit code", "统一社会信用代码"),
    "percent": _("Percent", "百分比"),
    "datetime": _("Date and time", "日期时间"),
    "multi_choice": _("Multiple choice", "多选"),
    "rating": _("Rating", "评分"),
    "url": _("Web address", "网址"),
    "region": _("Region", "省市区"),
    "formula": _("Formula", "公式"),
    "attachment": _("Attachment", "附件"),
    "table": _("Sub-table (line items)", "子表（明细）"),
    "auto_number": _("Auto-number", "自动编号"),
    "link": _("Linked record", "关联记录"),
    "rollup": _("Roll-up of linked records", "关联汇总"),
}
SETTING_LABELS: dict[str, LocalText] = {
    "label": _("Label", "标题"),
    "help": _("Help text", "说明"),
    "placeholder": _("Placeholder", "占位提示"),
    "required": _("Required", "必填"),
    "min": _("Minimum", "最小值"),
    "max": _("Maximum", "最大值"),
    "max_length": _("Maximum length", "最大长度"),
    "min_length": _("Minimum length", "最小长度"),
    "decimals": _("Decimal places", "小数位数"),
    "pattern": _("Pattern (regular expression)", "格式（正则表达式）"),
    "pattern_message": _("Message when the pattern does not match", "格式不符时的提示"),
    "currency": _("Currency", "币种"),
    "capitals": _("Show Chinese capitals (大写)", "显示大写金额"),
    "options": _("Options", "选项"),
    "birth_date_field": _("Fill the birth date into", "出生日期填入"),
    "sex_field": _("Fill the sex into", "性别填入"),
    "luhn": _("Check the Luhn digit", "校验 Luhn 位"),
    "formula": _("Formula", "公式"),
    "result": _("Result type (empty: inferred)", "结果类型（留空自动推断）"),
    "visible_when": _("Shown when", "显示条件"),
    "required_when": _("Required when", "必填条件"),
    "default": _("Default value (expression)", "默认值（表达式）"),
    "max_files": _("Most files", "最多文件数"),
    "max_size_mb": _("Largest file (MB)", "单个文件上限（MB）"),
    "accept": _("Allowed file types, e.g. pdf, jpg", "允许的文件类型，如 pdf, jpg"),
    "columns": _("Columns", "列"),
    "min_rows": _("Fewest rows", "最少行数"),
    "max_rows": _("Most rows", "最多行数"),
    "format": _("Number format, e.g. LN-{YYYY}-{seq:6}", "编号格式，如 LN-{YYYY}-{seq:6}"),
    "app": _("Linked app", "关联的应用"),
    "multiple": _("Several records", "可关联多条"),
    "lookup": _("Fields shown from the linked record", "显示关联记录的字段"),
    "link": _("Link field", "关联字段"),
    "field": _("Field of the linked records", "关联记录的字段"),
    "aggregate": _("Aggregate", "汇总方式"),
}
del _


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: str
    group: str
    label: LocalText
    choices: tuple[str, ...] = ()
    in_column: bool = True  # False: a sub-table's column cannot carry it (parse.py)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "kind": self.kind,
            "group": self.group,
            "label": self.label.to_dict(),
            "in_column": self.in_column,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True, slots=True)
class FieldKind:
    """One entry of the palette: a field type and the settings a field of it takes."""

    type: str
    label: LocalText
    settings: tuple[Setting, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "label": self.label.to_dict(),
            "settings": [s.to_dict() for s in self.settings],
        }


def _setting(field_type: FieldType, name: str) -> Setting:
    kind = TYPE_SETTING_KINDS.get((field_type, name), SETTING_KINDS.get(name, "json"))
    group = "basic" if name == "required" else _GROUP_OF_KIND.get(kind, "validation")
    label = SETTING_LABELS.get(name, LocalText(name, name))
    choices = SETTING_CHOICES.get(name, ())
    return Setting(name, kind, group, label, choices, name not in NOT_COLUMN_KEYS)


# computed on the server (FieldSpec.computed), so without the settings of what people fill
_NOT_FILLED = ("required", "required_when", "default")
_NOT_FOR_COMPUTED: dict[FieldType, tuple[str, ...]] = {
    FieldType.FORMULA: _NOT_FILLED,
    FieldType.ROLLUP: _NOT_FILLED,
    FieldType.AUTO_NUMBER: (*_NOT_FILLED, "visible_when"),  # numbered when filed (ADR 0038)
}
_COMPUTED = frozenset(_NOT_FOR_COMPUTED)


def palette() -> tuple[FieldKind, ...]:
    """Every field type in `FieldType` order, each with the settings parse.py accepts."""
    kinds = []
    for field_type in FieldType:
        names = tuple(n for n in COMMON_KEYS if n not in ("key", "type"))
        names += TYPE_KEYS.get(field_type, ())
        if field_type in _COMPUTED:  # nobody fills it in: no requiredness, no default
            names = tuple(n for n in names if n not in _NOT_FOR_COMPUTED[field_type])
        label = TYPE_LABELS.get(field_type.value, LocalText(field_type.value, field_type.value))
        kinds.append(
            FieldKind(field_type.value, label, tuple(_setting(field_type, name) for name in names))
        )
    return tuple(kinds)
