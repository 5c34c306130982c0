"""Auto-number formats (ADR 0038): what a builder may write, and the numbers they give."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdesk.kernel.serials import format_number, number_format_problem


@pytest.mark.parametrize(
    ("text", "sequence", "expected"),
    [
        ("LN-{YYYY}-{seq:6}", 123, "LN-2027-000123"),
        ("KH{YY}{MM}{seq:4}", 7, "KH27010007"),
        ("合同{YYYY}/{DD}#{seq}", 42, "合同2027/01#42"),
        ("X-{YYYY}-{seq:2}", 1234, "X-2027-1234"),  # a sequence longer than its padding
    ],
)
def test_formats_give_the_numbers_they_show(text: str, sequence: int, expected: str) -> None:
    assert number_format_problem(text) is None
    # 23:30 UTC on 31 December 2026 is 1 January 2027 in China: the serial's year is 2027
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert format_number(text, 2027, moment, sequence) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("LN-{seq:6}", "year"),  # numbers would repeat each year
        ("LN-{YYYY}", "sequence"),
        ("{YYYY}{seq}{seq}", "sequence"),
        ("{YYYY}-{seq:13}", "digits"),
        ("{YYYY} {seq}", "letters"),  # a space
        ("{YYYY}-{seq}-{HH}", "letters"),  # an unknown token's braces
        ("A" * 41 + "{YYYY}{seq}", "characters"),
    ],
)
def test_bad_formats_are_refused_with_the_reason(text: str, why: str) -> None:
    problem = number_format_problem(text)
    assert problem is not None and why in problem


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=12))
def test_distinct_sequences_give_distinct_numbers(sequence: int, digits: int) -> None:
    text = f"N{{YYYY}}-{{seq:{digits}}}"
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    one = format_number(text, 2026, moment, sequence)
    assert one != format_number(text, 2026, moment, sequence + 1)
    assert int(one.rsplit("-", 1)[1]) == sequence
