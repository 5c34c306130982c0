"""Sub-tables (line items, ADR 0036): their definition, the validation of their rows with
errors naming row (from 1) and column, masking of personal columns row by row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.engines.forms import (
    masked_values,
    parse_form,
    restore_masked,
    validate_submission,
)
from flowdesk.engines.forms.values import display_value, typed_values
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed
from table_forms import table_form, text

ID = "11010519491231002X"  # a valid resident ID (GB 11643 sample)
FORM = parse_form(table_form())
LINES = FORM.field("lines")


def line(**cells: Any) -> dict[str, Any]:
    return {"date": "2026-12-01", "type": "travel", "qty": 1, "price": "10.00", **cells}


def errors_of(
    raw: dict[str, Any], source: str = "json", locale: str = "en"
) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_submission(FORM, raw, source=source, locale=locale)  # type: ignore[arg-type]
    return [(e.path, e.code) for e in caught.value.errors]


def test_a_table_round_trips_through_its_definition() -> None:
    again = parse_form(FORM.to_dict())
    assert again == FORM
    assert [c.key for c in LINES.columns] == ["date", "type", "qty", "price", "amount", "payee_id"]
    assert (LINES.min_rows, LINES.max_rows) == (0, 20)


def test_what_a_table_definition_may_not_say_is_refused_by_path() -> None:
    form = table_form(min_rows=5, max_rows=2)
    columns = form["fields"][1]["columns"]
    columns.append({"key": "tags", "type": "multi_choice", "label": text("Tags"), "options": []})
    columns.append({"key": "date", "type": "text", "label": text("Again")})
    columns[0]["visible_when"] = "qty > 1"
    with pytest.raises(DefinitionInvalid) as caught:
        parse_form(form)
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("form.fields[1].columns[0].visible_when", "unknown_key"),
        ("form.fields[1].columns[6].type", "invalid_column_type"),
        ("form.fields[1].columns[7].key", "duplicate_key"),
        ("form.fields[1].min_rows", "min_greater_than_max"),
    ]


def test_a_table_without_columns_is_refused() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_form({"fields": [{"key": "lines", "type": "table", "label": text("L")}]})
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("form.fields[0].columns", "required")
    ]


def test_clean_rows_are_stored_as_objects_of_their_columns() -> None:
    clean = validate_submission(
        FORM,
        {"purpose": "Trip", "lines": [line(price="12.5"), line(type="meal", qty=2, payee_id=ID)]},
        source="json",
    )
    assert clean["lines"] == [
        {"date": "2026-12-01", "type": "travel", "qty": 1, "price": "12.50"},
        {"date": "2026-12-01", "type": "meal", "qty": 2, "price": "10.00", "payee_id": ID},
    ]
    typed = typed_values(FORM, clean)
    assert typed["lines.price"] == (Decimal("12.50"), Decimal("10.00"))
    assert typed["lines.payee_id"] == (None, ID)


def test_every_bad_cell_is_named_by_row_from_one_and_column_all_at_once() -> None:
    raw = {
        "purpose": "Trip",
        "lines": [
            line(),
            line(date="2026-02-30", qty=0),
            "not a row",
            line(price=12.5, amount="99", extra="x"),
            {"type": "travel"},
        ],
    }
    assert errors_of(raw) == [
        ("lines[2].date", "invalid_date"),
        ("lines[2].qty", "too_small"),
        ("lines[3]", "invalid_type"),
        ("lines[4].price", "float_not_allowed"),
        ("lines[4].amount", "computed_field"),
        ("lines[4].extra", "unknown_field"),
        ("lines[5].date", "required"),
    ]


def test_row_counts_and_an_empty_required_table() -> None:
    assert errors_of({"purpose": "x"}) == [("lines", "required")]
    assert errors_of({"purpose": "x", "lines": []}) == [("lines", "required")]
    assert errors_of({"purpose": "x", "lines": {"a": 1}}) == [("lines", "invalid_type")]
    assert errors_of({"purpose": "x", "lines": [line()] * 21}) == [("lines", "too_many_rows")]
    few = parse_form(table_form(min_rows=2))
    with pytest.raises(ValidationFailed) as caught:
        validate_submission(few, {"purpose": "x", "lines": [line()]}, source="json", locale="zh")
    assert [(e.path, e.code, e.message) for e in caught.value.errors] == [
        ("lines", "too_few_rows", "至少 2 行")
    ]


def test_html_rows_left_blank_are_dropped_and_typed_text_is_read_as_typed() -> None:
    blank = {"date": "", "type": "", "qty": "", "price": " ", "payee_id": ""}
    typed = {"date": "2026/12/1", "type": "meal", "qty": "２", "price": "1,200.5", "payee_id": ""}
    clean = validate_submission(
        FORM, {"purpose": "Trip", "lines": [blank, typed, blank]}, source="html"
    )
    assert clean["lines"] == [{"date": "2026-12-01", "type": "meal", "qty": 2, "price": "1200.50"}]
    assert errors_of({"purpose": "x", "lines": [blank]}, source="html") == [("lines", "required")]


def test_a_personal_value_is_never_echoed_in_a_row_error() -> None:
    wrong = ID[:-1] + "1"  # a bad check digit
    with pytest.raises(ValidationFailed) as caught:
        validate_submission(
            FORM, {"purpose": "x", "lines": [line(), line(payee_id=wrong)]}, source="json"
        )
    [error] = caught.value.errors
    assert (error.path, error.code) == ("lines[2].payee_id", "resident_id_check_digit")
    assert wrong not in error.message and wrong[:6] not in error.message


def test_personal_columns_are_masked_row_by_row_and_a_masked_echo_keeps_the_number() -> None:
    stored = {"purpose": "x", "lines": [line(price="10.00"), line(price="10.00", payee_id=ID)]}
    shown = masked_values(FORM, stored)
    assert shown["lines"][1]["payee_id"] == "110***********002X"  # type: ignore[index]
    assert "payee_id" not in shown["lines"][0]  # type: ignore[index, operator]
    assert stored["lines"][1]["payee_id"] == ID  # the stored value itself is untouched
    # the form sent back as it was shown: the real number stays, row by row
    posted = {"purpose": "x", "lines": [dict(row) for row in shown["lines"]]}  # type: ignore[union-attr]
    assert restore_masked(FORM, posted, stored)["lines"][1]["payee_id"] == ID  # type: ignore[index]
    # the mask moved to another row is not that row's number: refused, not stored
    moved = {"purpose": "x", "lines": [posted["lines"][1], posted["lines"][0]]}
    restored = restore_masked(FORM, moved, stored)
    with pytest.raises(ValidationFailed) as caught:
        validate_submission(FORM, restored, source="json")
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("lines[1].payee_id", "masked_value")
    ]


def test_a_table_reads_as_its_row_count_and_money_totals() -> None:
    money = parse_form(
        {
            "fields": [
                {
                    "key": "lines",
                    "type": "table",
                    "label": text("Lines", "明细"),
                    "columns": [
                        {"key": "amount", "type": "money", "label": text("Amount", "金额")},
                        {"key": "note", "type": "text", "label": text("Note", "说明")},
                    ],
                }
            ]
        }
    ).field("lines")
    rows = [{"amount": "1200.50"}, {"amount": "0.25", "note": "x"}, {}]
    assert display_value(money, rows, "en") == "3 rows; Amount total 1,200.75 CNY"
    assert display_value(money, rows, "zh-CN") == "3 行；金额合计 1,200.75 CNY"
    assert display_value(money, rows[:1], "en") == "1 row; Amount total 1,200.50 CNY"


# -- the validator's properties ---------------------------------------------------------

_GOOD_QTY = st.integers(min_value=1, max_value=10_000)
_BAD_QTY = st.one_of(st.integers(max_value=0), st.floats(allow_nan=False), st.just("3"))
_GOOD_PRICE = st.decimals(min_value="0.01", max_value="999999", places=2).map(str)
_BAD_PRICE = st.one_of(
    st.just("987654.321"), st.just("abc123xyz"), st.floats(allow_nan=False), st.just("-1")
)
_MARKERS = ("987654", "abc123xyz")


@st.composite
def _rows(draw: st.DrawFn) -> tuple[list[dict[str, Any]], set[str]]:
    """Rows with some bad cells, and the paths the validator must name."""
    count = draw(st.integers(min_value=1, max_value=25))
    rows: list[dict[str, Any]] = []
    bad: set[str] = set()
    for index in range(count):
        row = line()
        if draw(st.booleans()):
            row["qty"] = draw(_BAD_QTY)
            bad.add(f"lines[{index + 1}].qty")
        else:
            row["qty"] = draw(_GOOD_QTY)
        if draw(st.booleans()):
            row["price"] = draw(_BAD_PRICE)
            bad.add(f"lines[{index + 1}].price")
        else:
            row["price"] = draw(_GOOD_PRICE)
        rows.append(row)
    if count > 20:
        bad.add("lines")
    return rows, bad


@settings(max_examples=150, deadline=None)
@given(_rows())
def test_the_validator_names_exactly_the_bad_cells_and_keeps_every_good_row(
    case: tuple[list[dict[str, Any]], set[str]],
) -> None:
    rows, bad = case
    try:
        clean = validate_submission(FORM, {"purpose": "x", "lines": rows}, source="json")
    except ValidationFailed as exc:
        paths = [e.path for e in exc.errors]
        assert set(paths) == bad and len(paths) == len(bad)  # each once, all at once
        for e in exc.errors:  # never a submitted value in a message
            assert not any(marker in e.message for marker in _MARKERS)
        return
    assert not bad
    stored = clean["lines"]
    assert isinstance(stored, list) and len(stored) == len(rows)
    for given_row, kept in zip(rows, stored, strict=True):
        assert kept["qty"] == given_row["qty"]
        assert Decimal(kept["price"]) == Decimal(given_row["price"])
        assert kept["price"] == f"{Decimal(given_row['price']):.2f}"


def test_moving_a_ticket_names_the_columns_the_new_version_drops_or_retypes() -> None:
    from flowdesk.engines.forms.compat import form_problems

    newer = table_form()
    columns = newer["fields"][1]["columns"]
    newer["fields"][1]["columns"] = [c for c in columns if c["key"] != "payee_id"]
    newer["fields"][1]["columns"][2] = {"key": "qty", "type": "decimal", "label": text("Q")}
    values = {"purpose": "x", "lines": [line(payee_id=ID), line()]}
    problems = form_problems(FORM, parse_form(newer), values)
    assert [(p.field, p.code) for p in problems] == [
        ("lines.qty", "field_type_changed"),
        ("lines.payee_id", "field_removed"),
    ]
    assert form_problems(FORM, FORM, values) == []
