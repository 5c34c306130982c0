"""Personal numbers in audit text are masked (JR/T 0171 C2); ids and hashes are kept whole."""

from __future__ import annotations

import pytest

from flowdesk.engines.audit import mask_personal

TASK_ID = "01a2025180123456789844ab0685a0aafe"  # an id whose hex holds a 19-digit run


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("客户电话13812345678", "客户电话138****5678"),
        ("phone: 13812345678.", "phone: 138****5678."),
        ("身份证11010519491231002X，", "身份证110***********002X，"),
        ("卡号 6222021234567890123", "卡号 622202*********0123"),
        ("(6222021234567890)", "(622202******7890)"),
        ("card6222021234567890123", "card622202*********0123"),  # glued to a word
        (
            "task 01a2025180123456789844ab0685a0aafe by 13812345678",
            "task 01a2025180123456789844ab0685a0aafe by 138****5678",
        ),
    ],
)
def test_personal_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_personal(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        TASK_ID,
        "01a20251813812345678ab0685a0aafe00",  # ... or a mobile-number-shaped one
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ],
)
def test_ids_and_hashes_are_left_alone(text: str) -> None:
    assert mask_personal(text) == text
