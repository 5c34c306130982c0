"""China's identity numbers: resident ID, unified social credit code, bank card, mobile and
landline. Valid numbers built by construction are accepted; each kind of near miss is refused
with its own code and a bilingual message that never repeats the number."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from flowdesk.engines.forms import (
    FormSpec,
    display_value,
    masked_value,
    parse_form,
    validate_edits,
    validate_submission,
)
from flowdesk.engines.forms.messages import MESSAGES
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed

# County codes that stdnum's table knows for every year from 1930 on.
REGIONS = ("110101", "110105", "310104", "120101")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def label(en: str) -> dict[str, str]:
    return {"en": en, "zh": en}


FORM = parse_form(
    {
        "fields": [
            {
                "key": "id_number",
                "type": "resident_id",
                "label": label("ID"),
                "birth_date_field": "born",
                "sex_field": "sex",
            },
            {"key": "born", "type": "date", "label": label("Born")},
            {
                "key": "sex",
                "type": "choice",
                "label": label("Sex"),
                "options": [
                    {"value": "male", "label": {"en": "Male", "zh": "男"}},
                    {"value": "female", "label": {"en": "Female", "zh": "女"}},
                ],
            },
            {"key": "mobile", "type": "mobile", "label": label("Mobile")},
            {"key": "office", "type": "landline", "label": label("Office phone")},
            {"key": "card", "type": "bank_card", "label": label("Card")},
            {"key": "card_any", "type": "bank_card", "label": label("Card"), "luhn": False},
            {"key": "company", "type": "credit_code", "label": label("Company")},
        ]
    }
)


def errors_of(raw: dict[str, object], form: FormSpec = FORM, **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(form, raw, source=kw.pop("source", "json"), **kw)
    text = repr(refused.value.errors) + refused.value.message
    for value in raw.values():
        if isinstance(value, str) and len(value) >= 6:
            assert value not in text, "a submitted number was echoed"
    return [(e.path, e.code) for e in refused.value.errors]


def ok(raw: dict[str, object], **kw: Any) -> dict[str, object]:
    return validate_submission(FORM, raw, source=kw.pop("source", "json"), **kw)


# --- resident ID -----------------------------------------------------------------------


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


resident_ids = st.builds(
    lambda region, born, seq: with_check_digit(f"{region}{born:%Y%m%d}{seq:03d}"),
    st.sampled_from(REGIONS),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2024, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


@settings(deadline=None)  # timing is not what these check
@given(resident_ids)
def test_a_resident_id_built_by_the_standard_is_accepted_and_fills_birth_date_and_sex(
    number: str,
) -> None:
    clean = ok({"id_number": number.lower()})
    assert clean["id_number"] == number
    assert clean["born"] == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    assert clean["sex"] == ("male" if int(number[16]) % 2 else "female")


@settings(deadline=None)  # timing is not what these check
@given(resident_ids, st.integers(min_value=0, max_value=10))
def test_a_changed_check_digit_is_refused_as_such(number: str, shift: int) -> None:
    digits = "0123456789X"
    wrong = digits[(digits.index(number[-1]) + 1 + shift % 10) % 11]
    assert errors_of({"id_number": number[:-1] + wrong}) == [
        ("id_number", "resident_id_check_digit")
    ]


@settings(deadline=None)  # timing is not what these check
@given(resident_ids)
def test_an_impossible_birth_date_is_refused_as_such(number: str) -> None:
    bad = with_check_digit(number[:10] + "02" + "30" + number[14:17])
    assert errors_of({"id_number": bad}) == [("id_number", "resident_id_birth_date")]


@settings(deadline=None)  # timing is not what these check
@given(resident_ids, st.sampled_from(["1", "12345678901234567", "1234567890123456789"]))
def test_a_wrong_length_is_refused_as_such(number: str, other: str) -> None:
    assert errors_of({"id_number": number[:-1]}) == [("id_number", "resident_id_length")]
    assert errors_of({"id_number": number + "1"}) == [("id_number", "resident_id_length")]
    assert errors_of({"id_number": other}) == [("id_number", "resident_id_length")]


def test_an_unknown_region_and_foreign_digits_are_refused_as_such() -> None:
    assert errors_of({"id_number": with_check_digit("99010119900307457")}) == [
        ("id_number", "resident_id_region")
    ]
    # the circled ① is a digit to Python and to stdnum, never to a bank
    assert errors_of({"id_number": "①10101199003074578"}) == [("id_number", "resident_id_format")]
    assert errors_of({"id_number": "1101011990030745X8"}) == [("id_number", "resident_id_format")]


def test_a_region_code_created_after_the_birth_year_is_accepted() -> None:
    # Chengdu's Wuhou district (510107) dates from 1990; people born before then hold it.
    number = with_check_digit("51010719700101123")
    assert ok({"id_number": number})["id_number"] == number


def test_the_library_s_well_known_examples() -> None:
    assert ok({"id_number": "360426199101010071"})["id_number"] == "360426199101010071"
    assert ric.is_valid("360426199101010071")


def test_the_birth_date_and_sex_given_must_agree_with_the_id() -> None:
    number = with_check_digit("11010119900307457")  # 1990-03-07, 17th digit 7: male
    assert errors_of({"id_number": number, "born": "1990-03-08", "sex": "female"}) == [
        ("born", "resident_id_birth_date_mismatch"),
        ("sex", "resident_id_sex_mismatch"),
    ]
    assert ok({"id_number": number, "born": "1990-03-07", "sex": "male"})["born"] == "1990-03-07"


def test_a_required_birth_date_left_empty_is_filled_from_the_id() -> None:
    form = parse_form(
        {
            "fields": [
                {
                    "key": "id_number",
                    "type": "resident_id",
                    "label": label("ID"),
                    "birth_date_field": "born",
                },
                {"key": "born", "type": "date", "label": label("Born"), "required": True},
            ]
        }
    )
    number = with_check_digit("11010119900307457")
    assert validate_submission(form, {"id_number": number}, source="html") == {
        "id_number": number,
        "born": "1990-03-07",
    }
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(form, {}, source="html")
    assert [(e.path, e.code) for e in refused.value.errors] == [("born", "required")]


def test_the_check_digit_message_is_precise_in_both_languages() -> None:
    number = with_check_digit("11010119900307457")
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    for locale, text in (
        ("zh-CN", "身份证号校验位错误"),
        ("en", "The check digit of the resident ID is wrong"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            validate_submission(FORM, {"id_number": bad}, source="json", locale=locale)
        assert refused.value.errors[0].message == text


# --- unified social credit code ----------------------------------------------------------

credit_codes = st.builds(
    lambda head, tail: head + tail + uscc.calc_check_digit(head + tail + "0"),
    st.text("0123456789", min_size=8, max_size=8),
    st.text(USCC_ALPHABET, min_size=9, max_size=9),
)


@settings(deadline=None)  # timing is not what these check
@given(credit_codes)
def test_a_credit_code_built_by_the_standard_is_accepted(code: str) -> None:
    assert ok({"company": code.lower()})["company"] == code


@settings(deadline=None)  # timing is not what these check
@given(credit_codes, st.integers(min_value=1, max_value=30))
def test_a_changed_check_character_is_refused_as_such(code: str, shift: int) -> None:
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + shift) % 31]
    assert errors_of({"company": code[:-1] + wrong}) == [("company", "credit_code_check_digit")]


@settings(deadline=None)  # timing is not what these check
@given(credit_codes)
def test_a_credit_code_of_the_wrong_length_or_letters_is_refused_as_such(code: str) -> None:
    assert errors_of({"company": code[:-1]}) == [("company", "credit_code_length")]
    assert errors_of({"company": "I" + code[1:]}) == [("company", "credit_code_format")]
    assert errors_of({"company": code[:8] + "O" + code[9:]}) == [("company", "credit_code_format")]


def test_credit_code_library_examples() -> None:
    assert ok({"company": "91110000600037341L"})["company"] == "91110000600037341L"
    assert errors_of({"company": "91110000600037341M"}) == [("company", "credit_code_check_digit")]


# --- bank card ---------------------------------------------------------------------------

cards = st.builds(
    lambda digits: digits + luhn.calc_check_digit(digits),
    st.text("0123456789", min_size=12, max_size=18).filter(lambda d: d[0] != "0"),
)


@settings(deadline=None)  # timing is not what these check
@given(cards)
def test_a_card_with_its_luhn_digit_is_accepted_with_or_without_spaces(card: str) -> None:
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert ok({"card": spaced})["card"] == card


@settings(deadline=None)  # timing is not what these check
@given(cards)
def test_a_changed_luhn_digit_is_refused_unless_the_field_turns_the_check_off(card: str) -> None:
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert errors_of({"card": wrong}) == [("card", "bank_card_check_digit")]
    assert ok({"card_any": wrong})["card_any"] == wrong


@settings(deadline=None)  # timing is not what these check
@given(cards)
def test_a_card_of_the_wrong_length_is_refused_as_such(card: str) -> None:
    assert errors_of({"card": card[:12]}) == [("card", "bank_card_length")]
    assert errors_of({"card": card + "0" * (20 - len(card))}) == [("card", "bank_card_length")]
    assert errors_of({"card": card[:-2] + "a" + card[-1]}) == [("card", "bank_card_format")]


def test_card_well_known_examples() -> None:
    assert ok({"card": "4111 1111 1111 1111"})["card"] == "4111111111111111"
    assert ok({"card": "6222021234567890128"})["card"] == "6222021234567890128"


# --- phones ------------------------------------------------------------------------------

mobiles = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["138", "139", "150", "186", "199", "177"]),
    st.text("0123456789", min_size=8, max_size=8),
)


@settings(deadline=None)  # timing is not what these check
@given(mobiles, st.sampled_from(["{}", "+86 {}", "0086{}", "86{}", "{0}"]))
def test_a_mainland_mobile_is_stored_as_e164_however_it_is_written(number: str, shape: str) -> None:
    written = shape.format(number) if shape != "{0}" else f"{number[:3]}-{number[3:7]}-{number[7:]}"
    assert ok({"mobile": written})["mobile"] == "+86" + number


@settings(deadline=None)  # timing is not what these check
@given(mobiles)
def test_a_mobile_of_the_wrong_length_is_refused_as_such(number: str) -> None:
    assert errors_of({"mobile": number[:-1]}) == [("mobile", "mobile_length")]
    assert errors_of({"mobile": number + "1"}) == [("mobile", "mobile_length")]


def test_mobile_near_misses_each_have_their_code() -> None:
    assert errors_of({"mobile": "+1 650 253 0000"}) == [("mobile", "mobile_not_mainland")]
    assert errors_of({"mobile": "010-12345678"}) == [("mobile", "mobile_is_landline")]
    assert errors_of({"mobile": "12012345678"}) == [("mobile", "mobile_number")]
    assert errors_of({"mobile": "138a2345678"}) == [("mobile", "mobile_format")]


def test_a_landline_needs_its_area_code_and_is_not_a_mobile() -> None:
    assert ok({"office": "010-12345678"})["office"] == "+861012345678"
    assert ok({"office": "(0755) 8888 8888"})["office"] == "+8675588888888"
    assert ok({"office": "+86 21 6123 4567"})["office"] == "+862161234567"
    assert errors_of({"office": "66668888"}) == [("office", "landline_area_code")]
    assert errors_of({"office": "13812345678"}) == [("office", "landline_is_mobile")]
    assert errors_of({"office": "+44 20 7946 0000"}) == [("office", "landline_not_mainland")]


def test_full_width_digits_from_an_input_method_are_read() -> None:
    assert ok({"mobile": "１３８１２３４５６７８"}, source="html")["mobile"] == "+8613812345678"


# --- every error at once, nothing echoed --------------------------------------------------


def test_every_bad_number_is_reported_at_once_without_echo() -> None:
    raw: dict[str, object] = {
        "id_number": "110101199003074571",
        "mobile": "1381234567",
        "office": "13812345678",
        "card": "6222021234567890127",
        "company": "91110000600037341M",
    }
    assert errors_of(raw, locale="zh-CN") == [
        ("id_number", "resident_id_check_digit"),
        ("mobile", "mobile_length"),
        ("office", "landline_is_mobile"),
        ("card", "bank_card_check_digit"),
        ("company", "credit_code_check_digit"),
    ]


def test_a_masked_value_is_never_stored() -> None:
    assert errors_of({"mobile": "138****5678"}) == [("mobile", "masked_value")]
    assert errors_of({"card": "622202*********0128"}) == [("card", "masked_value")]


def test_every_identity_code_has_both_languages() -> None:
    codes = [c for c in MESSAGES if c.split("_")[0] in {"resident", "credit", "bank", "mobile"}]
    assert len(codes) >= 15
    for code in codes:
        en, zh = MESSAGES[code]
        assert en and zh and en != zh


# --- masking -----------------------------------------------------------------------------


def test_personal_fields_are_masked_as_promise_8_says() -> None:
    fields = {f.key: f for f in FORM.fields}
    assert masked_value(fields["id_number"], "11010119900307457X") == "110***********457X"
    assert masked_value(fields["mobile"], "+8613812345678") == "138****5678"
    assert masked_value(fields["card"], "6222021234567890128") == "622202*********0128"
    # a company's credit code and an office landline are not personal data
    assert masked_value(fields["company"], "91110000600037341L") == "91110000600037341L"
    assert masked_value(fields["office"], "+861012345678") == "+861012345678"


# --- definitions -------------------------------------------------------------------------


def test_derived_fields_must_exist_and_fit() -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_form(
            {
                "fields": [
                    {
                        "key": "id_number",
                        "type": "resident_id",
                        "label": label("ID"),
                        "birth_date_field": "nowhere",
                        "sex_field": "born",
                    },
                    {"key": "born", "type": "date", "label": label("Born")},
                    {"key": "card", "type": "bank_card", "label": label("Card"), "luhn": "no"},
                ]
            }
        )
    assert sorted((e.path, e.code) for e in refused.value.errors) == [
        ("form.fields[0].birth_date_field", "unknown_field"),
        ("form.fields[0].sex_field", "invalid_target"),
        ("form.fields[2].luhn", "invalid_type"),
    ]


def test_identity_fields_round_trip_through_their_definition() -> None:
    assert parse_form(FORM.to_dict()) == FORM
    card = FORM.to_dict()["fields"]
    assert isinstance(card, list)
    assert {"key": "card_any", "type": "bank_card", "label": label("Card"), "luhn": False} in card


@settings(deadline=None)
@given(resident_ids, mobiles, cards)
def test_masks_keep_only_what_promise_8_allows_and_echoes_keep_the_stored_number(
    number: str, mobile: str, card: str
) -> None:
    stored = ok({"id_number": number, "mobile": mobile, "card": card})
    fields = {f.key: f for f in FORM.fields}
    shown = {key: masked_value(fields[key], stored[key]) for key in ("id_number", "mobile", "card")}
    assert shown["id_number"] == number[:3] + "*" * 11 + number[-4:]
    assert shown["mobile"] == mobile[:3] + "****" + mobile[-4:]
    assert shown["card"] == card[:6] + "*" * (len(card) - 10) + card[-4:]
    # an approver's form sent back as shown changes nothing
    editable = ("id_number", "mobile", "card")
    assert validate_edits(FORM, shown, editable=editable, current=stored, source="html") == ()
    # a changed mask is not an echo: refused, never stored
    with pytest.raises(ValidationFailed) as refused:
        validate_edits(
            FORM,
            {"mobile": ("150" if mobile[:3] != "150" else "186") + "****" + mobile[-4:]},
            editable=editable,
            current=stored,
            source="json",
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [("mobile", "masked_value")]


def test_unmasked_display_is_readable() -> None:
    fields = {f.key: f for f in FORM.fields}
    assert display_value(fields["mobile"], "+8613812345678", "zh", unmasked=True) == (
        "138 1234 5678"
    )
    assert display_value(fields["office"], "+861012345678", "zh") == "010 1234 5678"
    assert display_value(fields["card"], "6222021234567890128", "en", unmasked=True) == (
        "6222 0212 3456 7890 128"
    )
    assert display_value(fields["card"], "6222021234567890128", "en") == "622202*********0128"


# Area codes whose 8-digit numbers starting 2-7 phonenumbers knows as fixed lines (some 8xx
# ranges are service numbers).
AREA_CODES = ("10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "371", "571", "755")
landlines = st.builds(
    lambda area, first, rest: (area, first + rest),
    st.sampled_from(AREA_CODES),
    st.sampled_from("234567"),
    st.text("0123456789", min_size=7, max_size=7),
)


@settings(deadline=None)
@given(landlines, st.sampled_from(["0{a}-{n}", "(0{a}) {n}", "+86 {a} {n}", "0{a}{n}"]))
def test_a_landline_with_its_area_code_is_stored_as_e164(line: tuple[str, str], shape: str) -> None:
    area, number = line
    assert ok({"office": shape.format(a=area, n=number)})["office"] == f"+86{area}{number}"


@settings(deadline=None)
@given(landlines)
def test_a_landline_without_its_area_code_or_cut_short_is_refused(line: tuple[str, str]) -> None:
    area, number = line
    assert errors_of({"office": number}) == [("office", "landline_area_code")]
    assert errors_of({"office": f"0{area}-{number[:3]}"}) == [("office", "landline_number")]


def test_email_goes_through_email_validator() -> None:
    form = parse_form({"fields": [{"key": "e", "type": "email", "label": label("E")}]})
    assert validate_submission(form, {"e": "Li.Na@Example.COM"}, source="json") == {
        "e": "Li.Na@example.com"
    }
    for bad in ("li@example", "li@-example.com", "li@exa_mple.com", "a" * 65 + "@example.com"):
        with pytest.raises(ValidationFailed) as refused:
            validate_submission(form, {"e": bad}, source="json")
        assert refused.value.errors[0].code == "invalid_email", bad
