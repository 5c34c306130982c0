"""The auto_number field type (ADR 0038): its format is checked when the form is parsed,
it round-trips, and nobody can send it."""

from __future__ import annotations

import pytest

from flowdesk.engines.forms import parse_form, validate_submission
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed

LABEL = {"en": "Number", "zh": "编号"}


def _form(**attributes: object) -> dict[str, object]:
    return {
        "fields": [
            {"key": "no", "type": "auto_number", "label": LABEL, **attributes},
            {"key": "name", "type": "text", "label": LABEL},
        ]
    }


def test_an_auto_number_round_trips() -> None:
    form = parse_form(_form(format="LN-{YYYY}-{seq:6}"))  # type: ignore[arg-type]
    assert form.fields[0].number_format == "LN-{YYYY}-{seq:6}"
    assert parse_form(form.to_dict()) == form  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attributes", "path", "code"),
    [
        ({}, "form.fields[0].format", "required"),
        ({"format": "LN-{seq:6}"}, "form.fields[0].format", "invalid_number_format"),
        ({"format": "{YYYY}{seq}", "required": True}, "form.fields[0].required", "invalid_rule"),
        ({"format": "{YYYY}{seq}", "max_length": 9}, "form.fields[0].max_length", "unknown_key"),
    ],
)
def test_bad_auto_numbers_are_refused_at_their_path(
    attributes: dict[str, object], path: str, code: str
) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_form(_form(**attributes))  # type: ignore[arg-type]
    assert (path, code) in {(e.path, e.code) for e in refused.value.errors}


def test_nobody_sends_an_auto_number() -> None:
    form = parse_form(_form(format="{YYYY}{seq}"))  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(form, {"no": "20260001", "name": "x"}, source="json")
    assert [(e.path, e.code) for e in refused.value.errors] == [("no", "computed_field")]
    # a web form's stray input is ignored, as a formula's is
    assert validate_submission(form, {"no": "1", "name": "x"}, source="html") == {"name": "x"}
