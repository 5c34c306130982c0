"""Submission error messages in English and Chinese, built only from the form's own limits.

Messages are shown to requesters and returned by the API; they never contain the
submitted value, so personal data (phone, ID numbers) cannot leak through errors.
"""

from __future__ import annotations

from .spec import is_zh

# code -> (en, zh); "{limit}" is filled with a limit taken from the field definition.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("This field is required", "此项为必填"),
    "computed_field": (
        "This field is computed by its formula and cannot be sent",
        "此项由公式计算得出，不能填写",
    ),
    "unknown_field": ("Unknown field", "未知字段"),
    # a sub-table (ADR 0036)
    "invalid_type_rows": ("Must be a list of rows", "必须是若干行组成的列表"),
    "invalid_type_row": (
        "Each row must be an object of its columns",
        "每一行必须是由各列组成的对象",
    ),
    "too_many_rows": ("At most {limit} rows", "最多 {limit} 行"),
    "too_few_rows": ("At least {limit} rows", "至少 {limit} 行"),
    "invalid_link": ("Choose records of the linked table", "请选择关联表中的记录"),
    "too_many_links": ("Link at most {limit} records", "最多关联 {limit} 条记录"),
    "link_not_found": (
        "A chosen record is not in the linked table (deleted, or never there)",
        "所选记录不在关联表中（已删除或不存在）",
    ),
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
    # China's identity numbers (identity.py): each message names the number and the rule
    "resident_id_length": ("A resident ID has 18 characters", "身份证号应为 18 位"),
    "resident_id_format": (
        "A resident ID is 17 digits followed by a digit or X",
        "身份证号应为 17 位数字加最后 1 位数字或 X",
    ),
    "resident_id_birth_date": (
        "The birth date in the resident ID (characters 7 to 14) is not a real date",
        "身份证号中的出生日期（第 7 至 14 位）不是有效日期",
    ),
    "resident_id_region": (
        "The region code of the resident ID (first 6 digits) does not exist",
        "身份证号前 6 位地区码不存在",
    ),
    "resident_id_check_digit": (
        "The check digit of the resident ID is wrong",
        "身份证号校验位错误",
    ),
    "resident_id_birth_date_mismatch": (
        "Does not match the birth date in the resident ID",
        "与身份证号中的出生日期不一致",
    ),
    "resident_id_sex_mismatch": (
        "Does not match the sex given by the resident ID",
        "与身份证号中的性别不一致",
    ),
    "credit_code_length": (
        "A unified social credit code has 18 characters",
        "统一社会信用代码应为 18 位",
    ),
    "credit_code_format": (
        "A unified social credit code is 8 digits, then digits and capital letters "
        "other than I, O, S, V and Z",
        "统一社会信用代码格式错误：前 8 位为数字，其余为数字或大写字母（不含 I、O、S、V、Z）",
    ),
    "credit_code_check_digit": (
        "The check character of the unified social credit code is wrong",
        "统一社会信用代码校验位错误",
    ),
    "bank_card_format": ("A bank card number has digits only", "银行卡号只能包含数字"),
    "bank_card_length": ("A bank card number has 13 to 19 digits", "银行卡号应为 13 至 19 位数字"),
    "bank_card_check_digit": (
        "The check digit of the bank card number is wrong",
        "银行卡号校验位错误",
    ),
    "mobile_format": (
        "A mobile number has digits only (a leading +86 is fine)",
        "手机号只能包含数字（可带 +86）",
    ),
    "mobile_not_mainland": (
        "Only mainland China mobile numbers (+86) are accepted",
        "只接受中国大陆手机号（+86）",
    ),
    "mobile_length": ("A mainland mobile number has 11 digits", "手机号应为 11 位数字"),
    "mobile_is_landline": (
        "This is a landline number, not a mobile number",
        "这是固定电话号码，不是手机号",
    ),
    "mobile_number": (
        "No mainland mobile number starts with these digits",
        "手机号号段不存在",
    ),
    "landline_format": (
        "A landline number has digits only, such as 010-12345678",
        "固定电话只能包含数字，例如 010-12345678",
    ),
    "landline_not_mainland": (
        "Only mainland China landline numbers (+86) are accepted",
        "只接受中国大陆固定电话（+86）",
    ),
    "landline_is_mobile": (
        "This is a mobile number; give a landline number with its area code",
        "这是手机号，请填写带区号的固定电话",
    ),
    "landline_area_code": (
        "Give the area code too, such as 010-12345678",
        "请填写区号，例如 010-12345678",
    ),
    "landline_number": (
        "Not a mainland landline number (area code and number)",
        "不是有效的固定电话号码（区号加号码）",
    ),
    "too_short": ("At least {limit} characters", "至少 {limit} 个字符"),
    "pattern_mismatch": ("Not in the expected format", "格式不符合要求"),
    "pattern_timeout": (
        "The value could not be checked against the field's format; shorten it or ask the "
        "form's owner to simplify the format",
        "无法按该字段的格式校验此内容，请缩短内容或请表单管理员简化格式",
    ),
    "rating_out_of_range": ("Choose from 1 to {limit} stars", "请选择 1 至 {limit} 星"),
    "invalid_type_list": (
        "Must be a list of option values",
        "必须是选项值的列表",
    ),
    "duplicate_choice": ("Each option may be chosen once", "每个选项只能选择一次"),
    "invalid_type_datetime": (
        "Must be a date and time such as 2026-12-03T13:30:00+08:00",
        "必须是日期时间，例如 2026-12-03T13:30:00+08:00",
    ),
    "invalid_datetime": (
        "Not a valid date and time (YYYY-MM-DD HH:MM)",
        "日期时间无效（格式为 YYYY-MM-DD HH:MM）",
    ),
    "naive_datetime": (
        "Give the UTC offset too, such as 2026-12-03T13:30:00+08:00 or …Z",
        "请带上时区偏移，例如 2026-12-03T13:30:00+08:00 或以 Z 结尾",
    ),
    "invalid_url": ("Not a valid web address", "网址格式不正确"),
    "invalid_url_scheme": (
        "A web address starts with http:// or https://",
        "网址须以 http:// 或 https:// 开头",
    ),
    "invalid_region": (
        "Not a division code in use (six digits, such as 110101 for 北京市东城区)",
        "不是现行的行政区划代码（6 位数字，例如 110101 北京市东城区）",
    ),
    "masked_value": (
        "Type the full number; a masked number (with *) cannot be saved",
        "请填写完整号码，带 * 的脱敏号码不能保存",
    ),
    "invalid_date": ("Not a valid date (YYYY-MM-DD)", "日期无效（格式为 YYYY-MM-DD）"),
    "invalid_choice": ("Not one of the options", "请从选项中选择"),
    # attachment fields (ADR 0037): the ids of uploaded files
    "invalid_type_attachment": (
        "Must be the id of an uploaded file, or a list of them",
        "应为已上传文件的 ID 或 ID 列表",
    ),
    "invalid_attachment": ("Not the id of an uploaded file", "不是已上传文件的 ID"),
    "duplicate_attachment": ("The same file is listed twice", "同一文件重复"),
    "too_many_files": ("At most {limit} files", "最多 {limit} 个文件"),
    "attachment_type": (
        "This file type is not accepted here (allowed: {limit})",
        "此处不接受该文件类型（允许：{limit}）",
    ),
    "attachment_size": ("Each file may be at most {limit} MB", "每个文件不超过 {limit} MB"),
    "submission_invalid": ("Some fields are not valid", "部分字段填写有误"),
    # An approver sending values the task's step does not open for change.
    "field_not_editable": ("This field cannot be changed at this step", "此环节不能修改该字段"),
    # A field the step (or the start form) hides: neither shown nor accepted (ADR 0037).
    "field_hidden": ("This field is not available at this step", "此环节无权填写该字段"),
    "start_fields_refused": (
        "Some fields are not filled in when a ticket is filed",
        "部分字段不在提交时填写",
    ),
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
