"""parse_form reports every definition problem at once, each at its exact path."""

from decimal import Decimal

import pytest

from flowdesk.engines.forms import FieldType, FormSpec, LocalText, parse_form
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail


def label(text: str = "Label") -> dict[str, str]:
    return {"en": text, "zh": "标签"}


FULL_FORM: dict[str, object] = {
    "fields": [
        {"key": "name", "type": "text", "label": label("Name"), "required": True},
        {"key": "notes", "type": "long_text", "label": label(), "max_length": 1000},
        {"key": "months", "type": "integer", "label": label(), "min": 1, "max": 360},
        {"key": "rate", "type": "decimal", "label": label(), "decimals": 4, "min": "0.0001"},
        {
            "key": "amount",
            "type": "money",
            "label": label(),
            "currency": "CNY",
            "min": 1,
            "max": "100000000",
            "help": {"en": "In yuan", "zh": "单位：元"},
            "placeholder": {"en": "e.g. 120000.00", "zh": "例如 120000.00"},
        },
        {"key": "due", "type": "date", "label": label()},
        {
            "key": "rating",
            "type": "choice",
            "label": label(),
            "options": [
                {"value": "A", "label": {"en": "A (best)", "zh": "A 级（优）"}},
                {"value": "B", "label": {"en": "B", "zh": "B 级"}},
            ],
        },
        {"key": "secured", "type": "boolean", "label": label()},
        {"key": "contact", "type": "email", "label": label()},
        {"key": "fee", "type": "money", "label": label(), "currency": "JPY"},
    ]
}


def problems(data: object) -> list[ErrorDetail]:
    with pytest.raises(DefinitionInvalid) as info:
        parse_form(data)  # type: ignore[arg-type]
    return info.value.errors


def paths(data: object) -> dict[str, str]:
    return {e.path: e.code for e in problems(data)}


def test_full_form_parses_with_types_and_defaults() -> None:
    form = parse_form(FULL_FORM)
    assert [f.type for f in form.fields] == [
        FieldType.TEXT,
        FieldType.LONG_TEXT,
        FieldType.INTEGER,
        FieldType.DECIMAL,
        FieldType.MONEY,
        FieldType.DATE,
        FieldType.CHOICE,
        FieldType.BOOLEAN,
        FieldType.EMAIL,
        FieldType.MONEY,
    ]
    assert form.field("name").max_length == 200
    assert form.field("name").required is True
    assert form.field("notes").max_length == 1000
    assert form.field("months").min == Decimal(1)
    assert form.field("rate").decimals == 4
    amount = form.field("amount")
    assert (amount.currency, amount.decimals, amount.max) == ("CNY", 2, Decimal(100000000))
    assert amount.help == LocalText(en="In yuan", zh="单位：元")
    assert form.field("fee").decimals == 0
    assert form.field("rating").option("A") is not None
    assert form.keys()[0] == "name"
    with pytest.raises(KeyError):
        form.field("missing")


def test_defaults() -> None:
    form = parse_form(
        {
            "fields": [
                {"key": "t", "type": "long_text", "label": label()},
                {"key": "m", "type": "money", "label": label()},
                {"key": "d", "type": "decimal", "label": label()},
            ]
        }
    )
    assert form.field("t").max_length == 4000
    assert form.field("m").currency == "CNY"
    assert form.field("d").decimals == 2


def test_to_dict_round_trips() -> None:
    form = parse_form(FULL_FORM)
    again = parse_form(form.to_dict())
    assert again == form
    assert isinstance(again, FormSpec)
    assert form.to_dict()["fields"][0] == {  # type: ignore[index]
        "key": "name",
        "type": "text",
        "label": {"en": "Name", "zh": "标签"},
        "required": True,
    }


def test_bounds_are_exact_decimals_from_yaml_numbers_and_strings() -> None:
    form = parse_form(
        {"fields": [{"key": "x", "type": "decimal", "label": label(), "min": 0.1, "max": "2.5"}]}
    )
    assert form.field("x").min == Decimal("0.1")
    assert form.field("x").max == Decimal("2.5")


def test_all_problems_are_reported_at_once_with_paths() -> None:
    data = {
        "fields": [
            {"key": "Bad Key", "type": "text", "label": label()},
            {"key": "ok", "type": "txt", "label": label()},
            {"key": "n", "type": "integer", "label": label(), "min": 10, "max": 1},
            {"key": "c", "type": "choice", "label": label()},
            {
                "key": "d",
                "type": "choice",
                "label": label(),
                "options": [
                    {"value": "x", "label": label()},
                    {"value": "x", "label": label()},
                    {"value": True, "label": label()},
                ],
            },
            {"key": "m", "type": "money", "label": label(), "currency": "XYZ"},
            {"key": "ok", "type": "text", "label": label()},
            {"key": "l", "type": "text", "label": {"en": "only english"}},
            {"key": "u", "type": "text", "lable": label()},
        ]
    }
    found = paths(data)
    assert found == {
        "form.fields[0].key": "invalid_key",
        "form.fields[1].type": "unknown_field_type",
        "form.fields[2].min": "min_greater_than_max",
        "form.fields[3].options": "options_required",
        "form.fields[4].options[1].value": "duplicate_option",
        "form.fields[4].options[2].value": "invalid_type",
        "form.fields[5].currency": "unknown_currency",
        "form.fields[6].key": "duplicate_key",
        "form.fields[7].label.zh": "required",
        "form.fields[8].lable": "unknown_key",
        "form.fields[8].label": "required",
    }


def test_misspelt_keys_and_types_get_a_suggestion() -> None:
    errors = problems(
        {
            "fields": [
                {"key": "a", "type": "text", "label": label(), "requird": True},
                {"key": "b", "type": "mony", "label": label()},
            ]
        }
    )
    messages = {e.path: e.message for e in errors}
    assert "did you mean 'required'" in messages["form.fields[0].requird"]
    assert "did you mean 'money'" in messages["form.fields[1].type"]


def test_keys_of_other_types_are_refused() -> None:
    errors = problems(
        {"fields": [{"key": "a", "type": "integer", "label": label(), "currency": "CNY"}]}
    )
    assert errors == [
        ErrorDetail(
            "form.fields[0].currency", "unknown_key", "'currency' does not apply to integer fields"
        )
    ]


@pytest.mark.parametrize(
    ("field", "path", "code"),
    [
        ({"type": "text", "label": label()}, "form.fields[0].key", "required"),
        ({"key": "a", "label": label()}, "form.fields[0].type", "required"),
        ({"key": "and", "type": "text", "label": label()}, "form.fields[0].key", "reserved_key"),
        ({"key": "a" * 64, "type": "text", "label": label()}, "form.fields[0].key", "invalid_key"),
        ({"key": "1a", "type": "text", "label": label()}, "form.fields[0].key", "invalid_key"),
        ({"key": "a", "type": "text", "label": "Name"}, "form.fields[0].label", "invalid_type"),
        (
            {"key": "a", "type": "text", "label": label(), "required": "yes"},
            "form.fields[0].required",
            "invalid_type",
        ),
        (
            {"key": "a", "type": "text", "label": label(), "max_length": 0},
            "form.fields[0].max_length",
            "invalid_number",
        ),
        (
            {"key": "a", "type": "integer", "label": label(), "min": "1.5"},
            "form.fields[0].min",
            "too_many_decimals",
        ),
        (
            {"key": "a", "type": "money", "label": label(), "max": "0.001"},
            "form.fields[0].max",
            "too_many_decimals",
        ),
        (
            {"key": "a", "type": "money", "label": label(), "max": "lots"},
            "form.fields[0].max",
            "invalid_number",
        ),
        (
            {"key": "a", "type": "money", "label": label(), "max": True},
            "form.fields[0].max",
            "invalid_number",
        ),
        (
            {"key": "a", "type": "money", "label": label(), "max": "1e20"},
            "form.fields[0].max",
            "out_of_range",
        ),
        (
            {"key": "a", "type": "decimal", "label": label(), "decimals": 11},
            "form.fields[0].decimals",
            "invalid_number",
        ),
        (
            {"key": "a", "type": "choice", "label": label(), "options": []},
            "form.fields[0].options",
            "options_required",
        ),
        (
            {"key": "a", "type": "choice", "label": label(), "options": [{"label": label()}]},
            "form.fields[0].options[0].value",
            "required",
        ),
        (
            {
                "key": "a",
                "type": "choice",
                "label": label(),
                "options": [{"value": " x", "label": label()}],
            },
            "form.fields[0].options[0].value",
            "invalid_value",
        ),
        (
            {
                "key": "a",
                "type": "choice",
                "label": label(),
                "options": [{"value": "x", "label": label(), "colour": "red"}],
            },
            "form.fields[0].options[0].colour",
            "unknown_key",
        ),
        ("not a mapping", "form.fields[0]", "invalid_type"),
    ],
)
def test_field_problems(field: object, path: str, code: str) -> None:
    assert paths({"fields": [field]}) == {path: code}


@pytest.mark.parametrize(
    ("data", "path", "code"),
    [
        ({}, "form.fields", "required"),
        ({"fields": []}, "form.fields", "empty"),
        ({"fields": {}}, "form.fields", "invalid_type"),
        ([], "form", "invalid_type"),
    ],
)
def test_form_problems(data: object, path: str, code: str) -> None:
    assert paths(data) == {path: code}


def test_unknown_form_key_and_custom_path() -> None:
    data = {"fields": [{"key": "a", "type": "text", "label": label()}], "layout": []}
    with pytest.raises(DefinitionInvalid) as info:
        parse_form(data, path="app.form")
    assert [(e.path, e.code) for e in info.value.errors] == [("app.form.layout", "unknown_key")]
