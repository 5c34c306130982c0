"""The lenient HTML source is lenient only where people really type differently: full-width
digits and well-formed thousands. Look-alike digits, bad grouping, invisible-only values and
line breaks in a single-line text are refused, with a message that never repeats the value.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.engines.forms import parse_form, validate_submission
from flowdesk.engines.forms.edits import validate_edits
from flowdesk.kernel.errors import ValidationFailed


def label(en: str) -> dict[str, str]:
    return {"en": en, "zh": en}


FORM = parse_form(
    {
        "fields": [
            {"key": "name", "type": "text", "label": label("Name"), "required": True},
            {"key": "notes", "type": "long_text", "label": label("Notes")},
            {"key": "months", "type": "integer", "label": label("Months")},
            {"key": "amount", "type": "money", "label": label("Amount"), "currency": "CNY"},
            {"key": "email", "type": "email", "label": label("Email")},
            {"key": "due", "type": "date", "label": label("Due")},
        ]
    }
)


def clean(raw: dict[str, object], source: Literal["json", "html"] = "html") -> dict[str, object]:
    return validate_submission(FORM, {"name": "n", **raw}, source=source)


def refused(raw: dict[str, object], source: Literal["json", "html"] = "html") -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        clean(raw, source)
    return [f"{e.path}:{e.code}" for e in caught.value.errors]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1,234,567.89", "1234567.89"),
        ("１２３４５", "12345.00"),
        ("１２，３４５．６", "12345.60"),
        ("-1,000", "-1000.00"),
        ("  12  ", "12.00"),
        ("\ufeff12\u200b", "12.00"),  # a pasted BOM or zero-width space around the number
        ("0.5", "0.50"),
        ("999", "999.00"),
    ],
)
def test_ascii_and_full_width_digits_with_well_formed_groups_are_read(
    typed: str, stored: str
) -> None:
    assert clean({"amount": typed})["amount"] == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("①②", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("¹²", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("𝟏𝟐", "Use the digits 0-9 only (full-width ０-９ are fine)"),  # math bold
        ("١٢", "Use the digits 0-9 only (full-width ０-９ are fine)"),  # Arabic-Indic
        ("1２元", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("1 234", "Use the digits 0-9 only (full-width ０-９ are fine)"),
        ("0,012", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        ("1,23", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        ("12,,3", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        ("1234,567", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        (",123", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        ("1.234,56", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        ("1,234.5,6", "Separate thousands with commas in groups of three, such as 1,234,567.89"),
        ("1.2.3", "Not a valid number"),
        ("--1", "Not a valid number"),
    ],
)
def test_look_alike_digits_and_bad_grouping_are_refused_precisely(typed: str, message: str) -> None:
    for key in ("amount", "months"):
        with pytest.raises(ValidationFailed) as caught:
            clean({key: typed})
        (error,) = caught.value.errors
        assert (error.path, error.code) == (key, "invalid_number")
        assert error.message == message  # a fixed text: the typed value is never in it


def test_dates_take_full_width_digits_but_not_look_alikes() -> None:
    assert clean({"due": "２０２６－０１－０２"})["due"] == "2026-01-02"
    assert clean({"due": "２０２６年１月２日"})["due"] == "2026-01-02"
    assert refused({"due": "②⓪②⑥-01-02"}) == ["due:invalid_date"]
    assert refused({"due": "2026-0¹-02"}) == ["due:invalid_date"]


@pytest.mark.parametrize(
    "invisible", ["\ufeff", "\u200b", "\u200b\u200c\u200d", " \u2060 ", "\u180e"]
)
@pytest.mark.parametrize("source", ["json", "html"])
def test_an_invisible_value_never_satisfies_required(
    invisible: str, source: Literal["json", "html"]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_submission(FORM, {"name": invisible}, source=source, locale="zh")
    (error,) = caught.value.errors
    assert (error.path, error.code) == ("name", "invisible_only")
    assert error.message == "只包含不可见字符，请填写内容"
    # Optional fields refuse it as well: it would be stored as an empty-looking value.
    assert refused({"notes": invisible}, source) == ["notes:invisible_only"]


def test_plain_blanks_still_mean_absent_and_edges_are_trimmed() -> None:
    assert refused({"name": "   "}) == ["name:required"]
    assert clean({"notes": "  "}) == {"name": "n"}
    assert clean({"name": "\ufeff张三\u200b"})["name"] == "张三"
    assert clean({"name": "a\u200db"})["name"] == "a\u200db"  # inside a word it may belong


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f"])
@pytest.mark.parametrize("source", ["json", "html"])
def test_a_line_break_in_a_single_line_text_is_refused(
    brk: str, source: Literal["json", "html"]
) -> None:
    assert refused({"name": f"张{brk}三"}, source) in (
        ["name:newline_not_allowed"],
        ["name:invalid_characters"],  # \x85, \v and \f are control characters too
    )
    assert refused({"email": f"a@b.cn{brk}x"}, source) in (
        ["email:newline_not_allowed"],
        ["email:invalid_characters"],
    )
    if brk in ("\n", "\r\n", "\r"):
        assert clean({"notes": f"one{brk}two"}, source)["notes"] == "one\ntwo"


def test_a_trailing_newline_in_a_single_line_text_is_refused_too() -> None:
    assert refused({"name": "张三\n"}) == ["name:newline_not_allowed"]


def test_approver_edits_follow_the_same_rules() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_edits(
            FORM,
            {"name": "\u200b", "amount": "①"},
            editable={"name", "amount"},
            current={"name": "n"},
            source="html",
        )
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("name", "invisible_only"),
        ("amount", "invalid_number"),
    ]


# ---------- fuzz: any digit-like character that is not 0-9 or ０-９ is refused ----------

_OTHER_DIGITS = st.characters(
    categories=("Nd", "No", "Nl"),
    exclude_characters="0123456789０１２３４５６７８９",
)


@settings(max_examples=300, deadline=None)
@given(prefix=st.from_regex(r"[0-9]{0,3}", fullmatch=True), odd=_OTHER_DIGITS)
def test_fuzz_no_other_digit_is_read_as_a_number(prefix: str, odd: str) -> None:
    for key in ("amount", "months"):
        with pytest.raises(ValidationFailed) as caught:
            clean({key: prefix + odd})
        assert [e.code for e in caught.value.errors] == ["invalid_number"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789,.", min_size=1, max_size=12))
def test_fuzz_a_number_is_accepted_only_when_its_grouping_is_well_formed(typed: str) -> None:
    plain = typed.replace(",", "")
    groups = typed.split(".")[0].lstrip("-").split(",")
    well_formed = "," not in typed or (
        typed.count(".") <= 1
        and "," not in typed.partition(".")[2]
        and 1 <= len(groups[0]) <= 3
        and not groups[0].startswith("0")
        and all(len(g) == 3 for g in groups[1:])
    )
    try:
        stored = clean({"amount": typed})["amount"]
    except ValidationFailed as exc:
        assert [e.code for e in exc.errors] in (["invalid_number"], ["too_many_decimals"])
        return
    assert well_formed, typed
    assert stored == f"{__import__('decimal').Decimal(plain):.2f}"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(categories=("Cf", "Zs")), min_size=1, max_size=6))
def test_fuzz_invisible_only_text_is_never_a_value(invisible: str) -> None:
    for key in ("name", "notes", "email", "amount", "months", "due"):
        raw = {"name": "n", key: invisible}
        try:
            values = validate_submission(FORM, raw, source="html")
        except ValidationFailed as exc:
            assert {e.code for e in exc.errors} <= {"invisible_only", "required"}
            continue
        # Only plain blanks may pass, and then the field is absent.
        assert not invisible.strip() or not any(unicodedata.category(c) == "Cf" for c in invisible)
        assert key == "name" or key not in values
