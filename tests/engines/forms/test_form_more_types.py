"""Percent, date-time, multi choice, rating, URL, region and text length/pattern rules: what a
form accepts, what it stores, how it shows, and how each definition round-trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.engines.apps import dump_app_yaml, load_app_yaml
from flowdesk.engines.forms import (
    display_value,
    expression_types,
    parse_form,
    typed_values,
    validate_submission,
)
from flowdesk.engines.forms.regions import current_divisions, region_path, search_divisions
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed
from identity_app import account_opening_app


def label(en: str, zh: str | None = None) -> dict[str, str]:
    return {"en": en, "zh": zh or en}


FORM = parse_form(
    {
        "fields": [
            {"key": "rate", "type": "percent", "label": label("Rate"), "min": 0, "max": 100},
            {"key": "meeting", "type": "datetime", "label": label("Meeting")},
            {
                "key": "sectors",
                "type": "multi_choice",
                "label": label("Sectors"),
                "options": [
                    {"value": "retail", "label": label("Retail", "零售")},
                    {"value": "sme", "label": label("SME", "小微")},
                    {"value": "corporate", "label": label("Corporate", "公司")},
                ],
            },
            {"key": "score", "type": "rating", "label": label("Score")},
            {"key": "site", "type": "url", "label": label("Site")},
            {"key": "region", "type": "region", "label": label("Region")},
            {
                "key": "branch_code",
                "type": "text",
                "label": label("Branch code"),
                "min_length": 6,
                "max_length": 6,
                "pattern": "[A-Z]{2}[0-9]{4}",
                "pattern_message": label(
                    "Two capital letters and four digits, such as BJ0001",
                    "两位大写字母加四位数字，例如 BJ0001",
                ),
            },
            {"key": "note", "type": "long_text", "label": label("Note"), "min_length": 5},
        ]
    }
)


def ok(raw: dict[str, object], source: Any = "json") -> dict[str, object]:
    return validate_submission(FORM, raw, source=source)


def codes(raw: dict[str, object], source: Any = "json", **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(FORM, raw, source=source, **kw)
    return [(e.path, e.code) for e in refused.value.errors]


def field(key: str) -> Any:
    return FORM.field(key)


# --- percent -----------------------------------------------------------------------------


@settings(deadline=None)  # timing is not what these check
@given(st.decimals(min_value=0, max_value=100, places=2))
def test_a_percent_within_its_bounds_is_kept_as_its_number(value: Decimal) -> None:
    assert ok({"rate": str(value)})["rate"] == f"{value:.2f}"
    assert ok({"rate": f"{value}%"}, "html")["rate"] == f"{value:.2f}"


def test_a_percent_out_of_bounds_or_too_precise_is_refused() -> None:
    assert codes({"rate": "100.01"}) == [("rate", "too_large")]
    assert codes({"rate": "1.005"}) == [("rate", "too_many_decimals")]
    assert codes({"rate": 1.5}) == [("rate", "float_not_allowed")]
    assert display_value(field("rate"), "12.50", "en") == "12.50%"


# --- date and time ------------------------------------------------------------------------


@settings(deadline=None)  # timing is not what these check
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_a_moment_with_any_offset_is_stored_in_utc(moment: datetime, minutes: int) -> None:
    moment = moment.replace(second=0, microsecond=0)
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    stored = ok({"meeting": aware.isoformat()})["meeting"]
    assert isinstance(stored, str) and stored.endswith("Z")
    assert datetime.fromisoformat(stored) == aware
    assert datetime.fromisoformat(stored).utcoffset() == timedelta(0)


def test_a_naive_moment_from_json_is_refused_and_html_reads_the_person_s_zone() -> None:
    assert codes({"meeting": "2026-12-03T13:30:00"}) == [("meeting", "naive_datetime")]
    assert codes({"meeting": "2026-02-30T13:30:00Z"}) == [("meeting", "invalid_datetime")]
    assert codes({"meeting": "tomorrow"}) == [("meeting", "invalid_datetime")]
    assert ok({"meeting": "2026-12-03T13:30"}, "html")["meeting"] == "2026-12-03T05:30:00Z"
    paris = validate_submission(
        FORM, {"meeting": "2026-12-03T13:30"}, source="html", timezone="Europe/Paris"
    )
    assert paris["meeting"] == "2026-12-03T12:30:00Z"
    assert display_value(field("meeting"), "2026-12-03T05:30:00Z", "zh") == "2026-12-03 13:30"
    assert datetime(2026, 12, 3, 5, 30, tzinfo=UTC).isoformat().startswith("2026-12-03T05:30")


# --- multi choice -------------------------------------------------------------------------

sector_lists = st.lists(st.sampled_from(["retail", "sme", "corporate"]), unique=True, min_size=1)


@settings(deadline=None)  # timing is not what these check
@given(sector_lists)
def test_chosen_options_are_stored_once_each_in_option_order(chosen: list[str]) -> None:
    stored = ok({"sectors": chosen})["sectors"]
    assert stored == [v for v in ("retail", "sme", "corporate") if v in chosen]
    assert ok({"sectors": list(reversed(chosen))})["sectors"] == stored


@settings(deadline=None)  # timing is not what these check
@given(sector_lists)
def test_an_unknown_or_repeated_option_is_refused(chosen: list[str]) -> None:
    assert codes({"sectors": [*chosen, "crypto"]}) == [("sectors", "invalid_choice")]
    assert codes({"sectors": [*chosen, chosen[0]]}) == [("sectors", "duplicate_choice")]
    assert codes({"sectors": ",".join(chosen)}) == [("sectors", "invalid_type")]


def test_multi_choice_shows_labels_and_feeds_expressions() -> None:
    assert display_value(field("sectors"), ["retail", "sme"], "zh") == "零售、小微"
    assert display_value(field("sectors"), ["retail", "sme"], "en") == "Retail, SME"
    assert typed_values(FORM, {"sectors": ["retail", "sme"]})["sectors"] == "retail,sme"
    assert ok({"sectors": []}) == {}
    assert ok({"sectors": "sme"}, "html")["sectors"] == ["sme"]


# --- rating -------------------------------------------------------------------------------


@settings(deadline=None)  # timing is not what these check
@given(st.integers(min_value=-5, max_value=15))
def test_a_rating_is_a_whole_number_of_stars_up_to_max(stars: int) -> None:
    if 1 <= stars <= 5:
        assert ok({"score": stars})["score"] == stars
    else:
        assert codes({"score": stars}) == [("score", "rating_out_of_range")]


def test_rating_input_and_display() -> None:
    assert ok({"score": "４"}, "html")["score"] == 4
    assert codes({"score": "٣"}, "html") == [("score", "invalid_type")]
    assert codes({"score": "3"}) == [("score", "invalid_type")]
    assert display_value(field("score"), 3, "en") == "★★★☆☆ 3/5"


# --- URL ----------------------------------------------------------------------------------


@settings(deadline=None)  # timing is not what these check
@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.from_regex(r"(/[a-zA-Z0-9._~-]{0,10}){0,3}", fullmatch=True),
)
def test_an_http_address_with_a_host_is_accepted(scheme: str, host: str, path: str) -> None:
    url = f"{scheme}://{host}{path}"
    assert ok({"site": url})["site"] == url


def test_other_addresses_are_refused() -> None:
    assert codes({"site": "javascript:alert(1)"}) == [("site", "invalid_url_scheme")]
    assert codes({"site": "ftp://example.com"}) == [("site", "invalid_url_scheme")]
    assert codes({"site": "https://"}) == [("site", "invalid_url")]
    assert codes({"site": "https://exa mple.com"}) == [("site", "invalid_url")]
    assert codes({"site": "https://example.com:99999"}) == [("site", "invalid_url")]


# --- region -------------------------------------------------------------------------------


def test_a_region_code_in_use_is_accepted_and_shown_by_its_names() -> None:
    assert ok({"region": "440305"})["region"] == "440305"
    assert display_value(field("region"), "440305", "zh") == "广东省 深圳市 南山区"
    assert region_path("110101") == ("北京市", "东城区")
    assert region_path("440000") == ("广东省",)


def test_unknown_abolished_and_placeholder_codes_are_refused() -> None:
    # 110103 was Beijing's Chongwen district until 2010; 110100 is "市辖区", no place
    for code in ("990101", "110103", "110100", "11010", "4403051"):
        assert codes({"region": code}) == [("region", "invalid_region")], code


# --- text length and pattern ---------------------------------------------------------------


@settings(deadline=None)  # timing is not what these check
@given(st.from_regex(r"[A-Z]{2}[0-9]{4}", fullmatch=True))
def test_a_value_matching_the_pattern_is_accepted(code: str) -> None:
    assert ok({"branch_code": code})["branch_code"] == code


@settings(deadline=None)  # timing is not what these check
@given(st.from_regex(r"[A-Z]{2}[0-9]{4}", fullmatch=True), st.integers(min_value=0, max_value=5))
def test_a_mutated_value_gets_the_builder_s_message(code: str, where: int) -> None:
    mutated = code[:where] + "#" + code[where + 1 :]
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(FORM, {"branch_code": mutated}, source="json", locale="zh-CN")
    (error,) = refused.value.errors
    assert (error.path, error.code) == ("branch_code", "pattern_mismatch")
    assert error.message == "两位大写字母加四位数字，例如 BJ0001"


def test_min_length_is_checked() -> None:
    assert codes({"branch_code": "BJ01"}) == [("branch_code", "too_short")]
    assert codes({"note": "abcd"}) == [("note", "too_short")]
    assert ok({"note": "abcde"})["note"] == "abcde"


def test_a_pattern_that_backtracks_without_end_is_refused_at_publish_time() -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_form(
            {
                "fields": [
                    {"key": "a", "type": "text", "label": label("A"), "pattern": "(a|aa)+$"},
                    {"key": "b", "type": "text", "label": label("B"), "pattern": "[0-9"},
                    {"key": "c", "type": "long_text", "label": label("C"), "pattern": "x"},
                    {"key": "d", "type": "text", "label": label("D"), "min_length": 500},
                ]
            }
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("form.fields[0].pattern", "pattern_too_slow"),
        ("form.fields[1].pattern", "invalid_pattern"),
        ("form.fields[2].pattern", "unknown_key"),
        ("form.fields[3].min_length", "invalid_number"),
    ]


# --- definitions --------------------------------------------------------------------------


def test_every_new_attribute_round_trips_through_to_dict() -> None:
    again = parse_form(FORM.to_dict())
    assert again == FORM
    assert parse_form(again.to_dict()).to_dict() == FORM.to_dict()


def test_rating_max_and_bad_definitions() -> None:
    form = parse_form({"fields": [{"key": "s", "type": "rating", "label": label("S"), "max": 10}]})
    assert validate_submission(form, {"s": 10}, source="json") == {"s": 10}
    assert parse_form(form.to_dict()) == form
    with pytest.raises(DefinitionInvalid) as refused:
        parse_form({"fields": [{"key": "s", "type": "rating", "label": label("S"), "max": 11}]})
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("form.fields[0].max", "invalid_number")
    ]


def test_expression_types_of_the_new_fields() -> None:
    assert expression_types(FORM) == {
        "rate": "number",
        "meeting": "text",
        "sectors": "text",
        "score": "number",
        "site": "text",
        "region": "text",
        "branch_code": "text",
        "note": "text",
    }
    typed = typed_values(FORM, {"rate": "12.50", "score": 4})
    assert typed["rate"] == Decimal("12.50") and typed["score"] == Decimal(4)


def test_all_errors_of_the_new_types_at_once() -> None:
    raw: dict[str, object] = {
        "rate": "-1",
        "meeting": "2026-12-03T13:30:00",
        "sectors": ["nope"],
        "score": 9,
        "site": "mailto:a@b.cn",
        "region": "000000",
        "branch_code": "bj0001",
    }
    assert codes(raw) == [
        ("rate", "too_small"),
        ("meeting", "naive_datetime"),
        ("sectors", "invalid_choice"),
        ("score", "rating_out_of_range"),
        ("site", "invalid_url_scheme"),
        ("region", "invalid_region"),
        ("branch_code", "pattern_mismatch"),
    ]


# --- money: Chinese capitals on request ---------------------------------------------------


def test_cny_amounts_have_capitals_unless_the_builder_turns_them_off() -> None:
    form = parse_form(
        {
            "fields": [
                {"key": "a", "type": "money", "label": label("A")},
                {"key": "b", "type": "money", "label": label("B"), "capitals": False},
                {"key": "c", "type": "money", "label": label("C"), "currency": "USD"},
            ]
        }
    )
    assert [f.capitals for f in form.fields] == [True, False, False]
    assert parse_form(form.to_dict()) == form
    with pytest.raises(DefinitionInvalid) as refused:
        parse_form(
            {
                "fields": [
                    {
                        "key": "c",
                        "type": "money",
                        "label": label("C"),
                        "currency": "USD",
                        "capitals": True,
                    }
                ]
            }
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("form.fields[0].capitals", "capitals_not_available")
    ]
    assert display_value(form.field("c"), "1234567.5", "en") == "1,234,567.50 USD"


def test_an_app_with_every_new_type_round_trips_through_its_yaml() -> None:
    extra = [f.to_dict() for f in FORM.fields]
    spec = load_app_yaml(account_opening_app(extra))
    again = load_app_yaml(dump_app_yaml(spec))
    assert again == spec
    assert again.form.field("branch_code").pattern == "[A-Z]{2}[0-9]{4}"


def test_region_search_by_name_or_code() -> None:
    divisions = dict(current_divisions())
    assert len(divisions) > 3000
    assert "110103" not in divisions and "110100" not in divisions
    assert ("440305", "广东省 深圳市 南山区") in search_divisions("南山")
    assert search_divisions("4403")[0] == ("440300", "广东省 深圳市")
    assert search_divisions("  ") == []
    assert len(search_divisions("区")) == 20
