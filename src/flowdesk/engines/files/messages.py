"""The checker's messages in English and Simplified Chinese, by key; codes are stable."""

from __future__ import annotations

_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "The file is larger than {limit} bytes",
        "文件超过 {limit} 字节的上限",
    ),
    "empty": ("The file is empty", "文件为空"),
    "type_refused": (
        "Files of this type are not accepted (allowed: {limit})",
        "不接受此类型的文件（允许：{limit}）",
    ),
    "double_extension": (
        "The file name hides another type behind its extension (such as invoice.pdf.exe)",
        "文件名在扩展名中隐藏了另一种类型（如 invoice.pdf.exe）",
    ),
    "type_mismatch": (
        "The file's content does not match its extension .{limit}",
        "文件内容与其扩展名 .{limit} 不符",
    ),
    "archive_bomb": (
        "The archive expands too much or is malformed ({limit})",
        "压缩包解压后过大或结构异常（{limit}）",
    ),
    "archive_nested": (
        "The archive contains another archive or a program ({limit})",
        "压缩包内含另一个压缩包或可执行程序（{limit}）",
    ),
    "archive_encrypted": (
        "The archive is encrypted, so its content cannot be checked",
        "压缩包已加密，无法检查其内容",
    ),
}


def message(key: str, locale: str, limit: object = "") -> str:
    english, chinese = _MESSAGES[key]
    text = chinese if locale.lower().startswith("zh") else english
    return text.format(limit=limit)
