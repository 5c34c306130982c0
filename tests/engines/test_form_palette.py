"""The form builder's palette (engines/forms/palette.py) is derived from the parser: every
field type is offered with exactly the settings parse.py accepts for it, each with an
input, and everything the bundled templates use can be set with it."""

from __future__ import annotations

import pytest

from flowdesk.engines.apps import bundled_template_names, load_bundled_template
from flowdesk.engines.forms import FieldType
from flowdesk.engines.forms.palette import GROUPS, SETTING_KINDS, palette
from flowdesk.engines.forms.parse import COMMON_KEYS, TYPE_KEYS


def test_every_field_type_is_offered_with_the_settings_the_parser_accepts() -> None:
    offered = {kind.type: kind for kind in palette()}
    assert list(offered) == [t.value for t in FieldType]
    for field_type in FieldType:
        names = [s.name for s in offered[field_type.value].settings]
        accepted = set(COMMON_KEYS) | set(TYPE_KEYS[field_type])
        assert set(names) <= accepted - {"key", "type"}
        assert "label" in names
        computed = field_type in (FieldType.FORMULA, FieldType.AUTO_NUMBER, FieldType.ROLLUP)
        if not computed:
            assert set(names) == accepted - {"key", "type"}
        else:  # the server fills it: nothing a person's input would need
            assert not set(names) & {"required", "required_when", "default"}


def test_each_setting_has_an_input_a_group_and_both_languages() -> None:
    for kind in palette():
        assert kind.label.en and kind.label.zh and kind.label.en != kind.type
        for setting in kind.settings:
            assert setting.kind != "json", (kind.type, setting.name)  # known today
            assert setting.group in GROUPS
            assert setting.label.en and setting.label.zh
    money = next(k for k in palette() if k.type == "money")
    currency = next(s for s in money.settings if s.name == "currency")
    assert currency.kind == "choice" and "CNY" in currency.choices
    rating = next(k for k in palette() if k.type == "rating")
    assert next(s for s in rating.settings if s.name == "max").kind == "integer"


def test_a_formula_field_offers_no_requiredness_and_no_default() -> None:
    formula = next(k for k in palette() if k.type == "formula")
    names = {s.name for s in formula.settings}
    assert {"formula", "result", "visible_when"} <= names
    assert not names & {"required", "required_when", "default"}


@pytest.mark.parametrize("name", bundled_template_names())
def test_every_setting_of_the_bundled_forms_has_an_input(name: str) -> None:
    """The loan form (the issue's bar) and every other bundled form can be built."""
    offered = {kind.type: {s.name for s in kind.settings} for kind in palette()}
    for field in load_bundled_template(name).form.to_dict()["fields"]:  # type: ignore[attr-defined]
        used = set(field) - {"key", "type"}
        assert used <= offered[field["type"]], (name, field["key"])
        assert all(SETTING_KINDS[s] != "json" for s in used)


def test_a_setting_the_palette_does_not_know_is_edited_as_json() -> None:
    from flowdesk.engines.forms.palette import _setting

    assert _setting(FieldType.TEXT, "a_future_setting").kind == "json"


def test_a_sub_table_offers_the_column_types_the_parser_accepts() -> None:
    """The columns editor's types and settings come from here: every type but those
    spec.NOT_COLUMN_TYPES refuses, and each setting says whether a column may carry it."""
    from flowdesk.engines.forms.parse import NOT_COLUMN_KEYS
    from flowdesk.engines.forms.spec import NOT_COLUMN_TYPES

    table = next(k for k in palette() if k.type == "table")
    columns = next(s for s in table.settings if s.name == "columns")
    assert columns.kind == "columns" and columns.group == "basic"
    assert all(s.label.en != s.name for s in table.settings)  # named in both languages
    assert set(columns.choices) == {t.value for t in FieldType} - {
        t.value for t in NOT_COLUMN_TYPES
    }
    assert "money" in columns.choices and "table" not in columns.choices
    for kind in palette():
        for setting in kind.settings:
            assert setting.in_column == (setting.name not in NOT_COLUMN_KEYS)
            assert setting.to_dict()["in_column"] is setting.in_column
