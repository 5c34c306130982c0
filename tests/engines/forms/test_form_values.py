"""Stored values as expression inputs and as text for people."""

from datetime import date
from decimal import Decimal

import pytest

from flowdesk.engines.forms import (
    display_value,
    expression_types,
    parse_form,
    typed_values,
    validate_submission,
)


def label(en: str) -> dict[str, str]:
    return {"en": en, "zh": en}


FORM = parse_form(
    {
        "fields": [
            {"key": "name", "type": "text", "label": label("Name")},
            {"key": "notes", "type": "long_text", "label": label("Notes")},
            {"key": "months", "type": "integer", "label": label("Months")},
            {"key": "rate", "type": "decimal", "label": label("Rate"), "decimals": 3},
            {"key": "amount", "type": "money", "label": label("Amount")},
            {"key": "due", "type": "date", "label": label("Due")},
            {
                "key": "region",
                "type": "choice",
                "label": label("Region"),
                "options": [{"value": "north", "label": {"en": "North", "zh": "华北"}}],
            },
            {"key": "secured", "type": "boolean", "label": label("Secured")},
            {"key": "contact", "type": "email", "label": label("Contact")},
        ]
    }
)


def test_expression_types() -> None:
    assert expression_types(FORM) == {
        "name": "text",
        "notes": "text",
        "months": "number",
        "rate": "number",
        "amount": "number",
        "due": "date",
        "region": "text",
        "secured": "bool",
        "contact": "text",
    }


def test_typed_values_from_stored() -> None:
    stored = validate_submission(
        FORM,
        {
            "name": "a",
            "months": 12,
            "rate": "1.5",
            "amount": "120000.5",
            "due": "2026-01-31",
            "region": "north",
            "secured": True,
        },
        source="json",
    )
    typed = typed_values(FORM, stored)
    assert typed == {
        "name": "a",
        "notes": None,
        "months": Decimal(12),
        "rate": Decimal("1.500"),
        "amount": Decimal("120000.50"),
        "due": date(2026, 1, 31),
        "region": "north",
        "secured": True,
        "contact": None,
    }
    assert isinstance(typed["months"], Decimal)


def test_a_link_is_its_record_ids_joined_for_the_formulas_of_its_form() -> None:
    # a ticket app with a link and a formula (the bundled account opening) computes
    form = parse_form(
        {
            "fields": [
                {"key": "customer", "type": "link", "app": "customers", "label": label("C")},
                {
                    "key": "linked",
                    "type": "formula",
                    "label": label("L"),
                    "formula": "NOT(ISBLANK(customer))",
                },
            ]
        }
    )
    ids = ["a" * 32, "b" * 32]
    assert typed_values(form, {"customer": ids})["customer"] == ",".join(ids)
    assert typed_values(form, {})["customer"] is None


def test_typed_values_ignores_keys_the_form_does_not_have() -> None:
    assert "old_field" not in typed_values(FORM, {"old_field": 1})


@pytest.mark.parametrize(
    ("key", "value"),
    [("amount", 1.5), ("amount", "abc"), ("due", "2026-02-30"), ("secured", "yes"), ("name", 1)],
)
def test_typed_values_refuses_corrupt_stored_values_without_echoing_them(
    key: str, value: object
) -> None:
    with pytest.raises(ValueError) as info:
        typed_values(FORM, {key: value})
    assert key in str(info.value)
    assert str(value) not in str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "locale", "expected"),
    [
        ("amount", "120000.50", "en", "120,000.50 CNY"),
        ("amount", "0.00", "zh", "0.00 CNY"),
        ("months", 1200, "en", "1,200"),
        ("rate", "1234.500", "en", "1,234.500"),
        ("region", "north", "zh", "华北"),
        ("region", "north", "en", "North"),
        ("region", "gone", "en", "gone"),
        ("secured", True, "zh", "是"),
        ("secured", False, "zh-CN", "否"),
        ("secured", True, "en", "Yes"),
        ("secured", False, "en", "No"),
        ("due", "2026-01-31", "zh", "2026-01-31"),
        ("name", "王伟", "en", "王伟"),
        ("name", None, "en", ""),
    ],
)
def test_display_value(key: str, value: object, locale: str, expected: str) -> None:
    assert display_value(FORM.field(key), value, locale) == expected
