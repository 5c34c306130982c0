"""Submission error messages in English and Chinese, built only from the form's own limits.

Messages are shown to requesters and returned by the API; they never contain the
submitted value, so personal data (phone, ID numbers) cannot leak through errors.
"""

from __future__ import annotations

from .spec import is_zh

# code -> (en, zh); "{limit}" is filled with a limit taken from the field definition.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("This field is required", "此项为必填"),
    "unknown_field": ("Unknown field", "未知字段"),
    "invalid_type_text": ("Must be text", "必须是文本"),
    "invalid_type_integer": ("Must be a whole number such as 12", "必须是整数，例如 12"),
    "invalid_type_number": (
        'Must be a number written as a string such as "120000.50", or an integer',
        '必须是字符串形式的数字（例如 "120000.50"）或整数',
    ),
    "invalid_type_boolean": ("Must be true or false", "必须是 true 或 false"),
    "invalid_type_date": ("Must be a date written as YYYY-MM-DD", "必须是 YYYY-MM-DD 格式的日期"),
    "invalid_boolean": ("Must be yes or no", "必须选择是或否"),
    "invalid_number": ("Not a valid number", "不是有效的数字"),
    "invalid_digits": (
        "Use the digits 0-9 only (full-width ０-９ are fine)",
        "只能使用数字 0-9（可用全角数字）",
    ),
    "invalid_grouping": (
        "Separate thousands with commas in groups of three, such as 1,234,567.89",
        "千位分隔符须三位一组，例如 1,234,567.89",
    ),
    "invisible_only": (
        "Contains only invisible characters; type the value",
        "只包含不可见字符，请填写内容",
    ),
    "newline_not_allowed": ("Must be a single line (no line breaks)", "只能填写一行，不能换行"),
    "not_integer": ("Must be a whole number", "必须是整数"),
    "float_not_allowed_integer": (
        "Send a whole number such as 12; floating-point numbers are not accepted",
        "请提交整数（例如 12），不接受浮点数",
    ),
    "float_not_allowed_number": (
        'Send the number as a string such as "120000.50"; floating-point numbers are not accepted',
        '请以字符串形式提交数字（例如 "120000.50"），不接受浮点数',
    ),
    "too_many_decimals": ("At most {limit} decimal places", "最多 {limit} 位小数"),
    "too_many_decimals_0": ("Must be a whole number", "必须是整数"),
    "too_small": ("Must be at least {limit}", "不能小于 {limit}"),
    "too_large": ("Must be at most {limit}", "不能大于 {limit}"),
    "too_small_money": ("The amount must be at least {limit}", "金额不能低于 {limit}"),
    "too_large_money": ("The amount must not exceed {limit}", "金额不能超过 {limit}"),
    "too_long": ("At most {limit} characters", "最多 {limit} 个字符"),
    "invalid_characters": (
        "Contains control characters that are not allowed",
        "包含不允许的控制字符",
    ),
    "invalid_email": ("Not a valid email address", "邮箱地址格式不正确"),
    "invalid_username": (
        "Not a username (lower-case letters, digits, '.', '_' or '-')",
        "用户名格式不正确（小写字母、数字、“.”、“_”或“-”）",
    ),
    "too_many_users": ("At most 100 people", "最多 100 人"),
    "invalid_department": ("Not a department code", "部门编码格式不正确"),
    "invalid_date": ("Not a valid date (YYYY-MM-DD)", "日期无效（格式为 YYYY-MM-DD）"),
    "invalid_choice": ("Not one of the options", "请从选项中选择"),
    "submission_invalid": ("Some fields are not valid", "部分字段填写有误"),
    # An approver sending values the task's step does not open for change.
    "field_not_editable": ("This field cannot be changed at this step", "此环节不能修改该字段"),
    "edits_refused": (
        "The form cannot be changed at this step; decide on the values as filed",
        "此环节不能修改表单，请按提交的内容审批",
    ),
    # An approver's comment (approve/reject), which is not a form field.
    "comment_invalid": ("The comment is not valid", "审批意见填写有误"),
    "comment_too_long": (
        "The comment is too long (at most {limit} characters)",
        "审批意见过长（最多 {limit} 个字符）",
    ),
    "comment_required": (
        "Write the comment: it is empty or only invisible characters",
        "请填写评论内容：内容为空或只有不可见字符",
    ),
    "comment_invalid_characters": (
        "The comment contains control characters that are not allowed",
        "审批意见包含不允许的控制字符",
    ),
}


def message(key: str, locale: str, limit: object = None) -> str:
    """The message for `key` in `locale`; `limit` must come from the definition, never input."""
    en, zh = MESSAGES[key]
    text = zh if is_zh(locale) else en
    return text.format(limit=limit) if limit is not None else text
