"""validate_submission: strict JSON, forgiving HTML, every bad field at once, no echo of input."""

from typing import Literal

import pytest

from flowdesk.engines.forms import FormSpec, clean_comment, parse_form, validate_submission
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed

PHONE = "13812345678"


def label(en: str) -> dict[str, str]:
    return {"en": en, "zh": en}


FORM = parse_form(
    {
        "fields": [
            {
                "key": "name",
                "type": "text",
                "label": label("Name"),
                "required": True,
                "max_length": 20,
            },
            {"key": "notes", "type": "long_text", "label": label("Notes")},
            {"key": "months", "type": "integer", "label": label("Months"), "min": 1, "max": 360},
            {"key": "rate", "type": "decimal", "label": label("Rate"), "decimals": 4},
            {
                "key": "amount",
                "type": "money",
                "label": label("Amount"),
                "min": 1,
                "max": 100000000,
            },
            {"key": "yen", "type": "money", "label": label("Yen"), "currency": "JPY"},
            {"key": "due", "type": "date", "label": label("Due")},
            {
                "key": "rating",
                "type": "choice",
                "label": label("Rating"),
                "options": [
                    {"value": "A", "label": {"en": "A (best)", "zh": "A 级（优）"}},
                    {"value": "B", "label": {"en": "B", "zh": "B 级"}},
                ],
            },
            {"key": "secured", "type": "boolean", "label": label("Secured")},
            {"key": "contact", "type": "email", "label": label("Contact")},
        ]
    }
)


def valid(
    raw: dict[str, object],
    source: Literal["json", "html"] = "json",
    form: FormSpec = FORM,
    **kwargs: object,
) -> dict[str, object]:
    return validate_submission(form, raw, source=source, **kwargs)  # type: ignore[arg-type]


def invalid(
    raw: dict[str, object],
    source: Literal["json", "html"] = "json",
    locale: str = "en",
    partial: bool = False,
) -> list[ErrorDetail]:
    with pytest.raises(ValidationFailed) as info:
        validate_submission(FORM, raw, source=source, locale=locale, partial=partial)
    assert info.value.status == 422
    return info.value.errors


def codes(
    raw: dict[str, object], source: Literal["json", "html"] = "json", **kwargs: object
) -> dict[str, str]:
    return {e.path: e.code for e in invalid(raw, source, **kwargs)}  # type: ignore[arg-type]


def test_json_submission_is_cleaned_to_stored_values() -> None:
    stored = valid(
        {
            "name": "  Wang Wei  ",
            "notes": "line one\r\nline two\tend",
            "months": 12,
            "rate": "0.0435",
            "amount": "120000.5",
            "yen": 5000,
            "due": "2026-02-28",
            "rating": "A",
            "secured": False,
            "contact": "wang.wei@bank.example.cn",
        }
    )
    assert stored == {
        "name": "Wang Wei",
        "notes": "line one\nline two\tend",
        "months": 12,
        "rate": "0.0435",
        "amount": "120000.50",
        "yen": "5000",
        "due": "2026-02-28",
        "rating": "A",
        "secured": False,
        "contact": "wang.wei@bank.example.cn",
    }


def test_money_from_int_and_trailing_zeros_are_exact() -> None:
    assert valid({"name": "a", "amount": 120000})["amount"] == "120000.00"
    assert valid({"name": "a", "amount": "120000.500"})["amount"] == "120000.50"
    assert valid({"name": "a", "rate": "-0"})["rate"] == "0.0000"


def test_absent_optional_fields_are_omitted_and_null_is_absent() -> None:
    assert valid({"name": "a", "notes": None, "due": None}) == {"name": "a"}
    assert valid({"name": "a", "notes": "   "}) == {"name": "a"}


def test_required() -> None:
    assert codes({}) == {"name": "required"}
    assert codes({"name": "   "}) == {"name": "required"}
    assert codes({"name": None}) == {"name": "required"}


def test_partial_skips_required_and_returns_only_given_keys() -> None:
    assert valid({"amount": "10.00"}, partial=True) == {"amount": "10.00"}
    assert valid({}, "html", partial=True) == {}


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("name", 12, "invalid_type"),
        ("name", ["a"], "invalid_type"),
        ("months", "12", "invalid_type"),
        ("months", 12.0, "float_not_allowed"),
        ("months", True, "invalid_type"),
        ("months", 0, "too_small"),
        ("months", 361, "too_large"),
        pytest.param("months", 10**5000, "too_large", id="months-huge-int"),
        ("amount", 120000.5, "float_not_allowed"),
        ("amount", "120000.505", "too_many_decimals"),
        ("amount", "1.0000000000000000000000000000001", "too_many_decimals"),
        ("amount", "120,000.50", "invalid_number"),
        ("amount", " 12", "invalid_number"),
        ("amount", "1e5", "invalid_number"),
        ("amount", "NaN", "invalid_number"),
        ("amount", "", "invalid_number"),
        ("amount", True, "invalid_type"),
        ("amount", {"v": 1}, "invalid_type"),
        ("amount", "0.99", "too_small"),
        ("amount", "100000000.01", "too_large"),
        pytest.param("amount", "9" * 5000, "too_large", id="amount-huge-text"),
        ("yen", "1.5", "too_many_decimals"),
        ("rate", "1.00001", "too_many_decimals"),
        ("due", "2026-02-30", "invalid_date"),
        ("due", "2026-2-3", "invalid_date"),
        ("due", "2026-02-03T00:00:00", "invalid_date"),
        ("due", 20260203, "invalid_type"),
        ("rating", "C", "invalid_choice"),
        ("rating", "a", "invalid_choice"),
        ("rating", 1, "invalid_choice"),
        ("secured", "true", "invalid_type"),
        ("secured", 1, "invalid_type"),
        ("contact", "not-an-email", "invalid_email"),
        ("contact", "a@b", "invalid_email"),
        ("contact", "a b@c.cn", "invalid_email"),
        ("contact", "x" * 250 + "@b.cn", "too_long"),
        ("name", "x" * 21, "too_long"),
        ("name", "abc\x00def", "invalid_characters"),
        ("name", "abc\x1bdef", "invalid_characters"),
        ("name", "abc\u202edef", "invalid_characters"),
        ("name", "abc\ud800", "invalid_characters"),
        ("notes", "a\x07", "invalid_characters"),
        ("contact", "a\x00@b.cn", "invalid_characters"),
    ],
)
def test_json_is_strict(key: str, value: object, code: str) -> None:
    raw: dict[str, object] = {"name": "ok", key: value}
    assert codes(raw) == {key: code}


def test_text_length_counts_characters_not_bytes() -> None:
    assert valid({"name": "贷" * 20})["name"] == "贷" * 20


def test_every_bad_field_is_reported_at_once_in_form_order() -> None:
    errors = invalid({"amount": 1.5, "months": 0, "due": "2026-13-01", "extra": 1})
    assert [(e.path, e.code) for e in errors] == [
        ("name", "required"),
        ("months", "too_small"),
        ("amount", "float_not_allowed"),
        ("due", "invalid_date"),
        ("extra", "unknown_field"),
    ]


@pytest.mark.parametrize("key", ["status", "assignee", "version", "created_by"])
def test_mass_assignment_targets_are_unknown_fields(key: str) -> None:
    assert codes({"name": "a", key: "x"}) == {key: "unknown_field"}


def test_unknown_keys_that_are_not_field_names_do_not_become_paths() -> None:
    errors = invalid({"name": "a", PHONE: "x"})
    assert errors == [ErrorDetail("(unknown)", "unknown_field", "Unknown field")]


def test_html_submission_reads_what_people_type() -> None:
    stored = valid(
        {
            "name": " Li Na ",
            "notes": "",
            "months": "１２",
            "rate": "",
            "amount": "120,000.50",
            "yen": "1,000",
            "due": "2026/2/3",
            "rating": "B",
            "secured": "on",
            "contact": "",
        },
        "html",
    )
    assert stored == {
        "name": "Li Na",
        "months": 12,
        "amount": "120000.50",
        "yen": "1000",
        "due": "2026-02-03",
        "rating": "B",
        "secured": True,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("on", True), ("true", True), ("1", True), ("0", False), ("false", False), ("off", False)],
)
def test_html_checkbox(value: str, expected: bool) -> None:
    assert valid({"name": "a", "secured": value}, "html")["secured"] is expected


def test_html_unchecked_box_is_false_but_left_alone_in_partial_edits() -> None:
    assert valid({"name": "a"}, "html")["secured"] is False
    assert "secured" not in valid({"name": "a"}, "html", partial=True)


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("months", "12.5", "not_integer"),
        ("months", "twelve", "invalid_number"),
        ("months", "1,2", "invalid_number"),
        ("amount", "120,00.50", "invalid_number"),
        ("amount", "1.234", "too_many_decimals"),
        ("amount", "100,000,000.01", "too_large"),
        ("due", "2026年2月30日", "invalid_date"),
        ("due", "tomorrow", "invalid_date"),
        ("secured", "maybe", "invalid_boolean"),
        ("rating", "Z", "invalid_choice"),
        ("name", ["a", "b"], "invalid_type"),
    ],
)
def test_html_problems(key: str, value: object, code: str) -> None:
    assert codes({"name": "ok", key: value}, "html") == {key: code}


def test_html_chinese_date() -> None:
    assert valid({"name": "a", "due": "2026年2月3日"}, "html")["due"] == "2026-02-03"


def test_messages_are_localized_and_carry_the_limit() -> None:
    raw: dict[str, object] = {
        "amount": "100000000.01",
        "months": 0,
        "rate": "0.123456",
        "name": "x" * 21,
    }
    zh = {e.path: e.message for e in invalid(raw, locale="zh-CN")}
    assert zh == {
        "name": "最多 20 个字符",
        "months": "不能小于 1",
        "rate": "最多 4 位小数",
        "amount": "金额不能超过 100,000,000.00",
    }
    en = {e.path: e.message for e in invalid(raw, locale="en")}
    assert en["amount"] == "The amount must not exceed 100,000,000.00"
    assert en["rate"] == "At most 4 decimal places"
    assert {e.message for e in invalid({}, locale="zh")} == {"此项为必填"}


def test_top_level_message_is_localized() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_submission(FORM, {}, source="json", locale="zh")
    assert info.value.message == "部分字段填写有误"


BAD_WITH_PHONE: list[tuple[str, object]] = [
    ("name", PHONE * 3),
    ("name", PHONE + "\x00"),
    ("months", PHONE),
    ("months", int(PHONE)),
    ("amount", PHONE + ".123"),
    ("amount", float(PHONE)),
    ("amount", PHONE + "abc"),
    ("yen", PHONE + ".5"),
    ("due", PHONE),
    ("rating", PHONE),
    ("secured", PHONE),
    ("contact", PHONE),
    (PHONE, PHONE),
    ("unknown", PHONE),
]


@pytest.mark.parametrize("source", ["json", "html"])
@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize(("key", "value"), BAD_WITH_PHONE)
def test_messages_never_contain_the_submitted_value(
    source: Literal["json", "html"], locale: str, key: str, value: object
) -> None:
    raw: dict[str, object] = {key: value if source == "json" else str(value)}
    with pytest.raises(ValidationFailed) as info:
        validate_submission(FORM, raw, source=source, locale=locale)
    assert {e.path for e in info.value.errors} >= ({key} - {PHONE})
    for error in info.value.errors:
        assert PHONE not in error.message
        assert PHONE not in error.path
    assert PHONE not in str(info.value)


def test_comments_are_cleaned_like_multiline_text() -> None:
    assert clean_comment("  同意\r\n放款\t \r", max_length=10) == "同意\n放款"
    assert clean_comment("x" * 10, max_length=10) == "x" * 10
    assert clean_comment("   ", max_length=10) == ""


@pytest.mark.parametrize(
    ("comment", "code", "en", "zh"),
    [
        (
            "x" * 11,
            "too_long",
            "The comment is too long (at most 10 characters)",
            "审批意见过长（最多 10 个字符）",
        ),
        *(
            (
                bad,
                "invalid_characters",
                "The comment contains control characters that are not allowed",
                "审批意见包含不允许的控制字符",
            )
            for bad in ("nul\x00byte", "bell\x07", "\u202eevil")
        ),
    ],
)
def test_bad_comments_are_refused_in_the_callers_language(
    comment: str, code: str, en: str, zh: str
) -> None:
    for locale, summary, text in (
        ("en", "The comment is not valid", en),
        ("zh-CN", "审批意见填写有误", zh),
    ):
        with pytest.raises(ValidationFailed) as info:
            clean_comment(comment, max_length=10, locale=locale)
        assert info.value.message == summary
        assert info.value.errors == [ErrorDetail("comment", code, text)]


def test_unknown_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        validate_submission(FORM, {}, source="xml")  # type: ignore[arg-type]
