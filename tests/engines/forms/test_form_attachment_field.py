"""The attachment field type (ADR 0037): parsed with its limits, exported back, and its
value — the ids of uploaded files — checked for shape, duplicates and count."""

from __future__ import annotations

import pytest

from flowdesk.engines.forms import FieldType, parse_form, validate_submission
from flowdesk.engines.forms.values import display_value, typed_values
from flowdesk.kernel.errors import DefinitionInvalid, ValidationFailed

A = "a" * 32
B = "b" * 32
C = "c" * 32


def _form(**extra: object):  # type: ignore[no-untyped-def]
    field = {"key": "licence", "type": "attachment", "label": {"en": "Licence", "zh": "执照"}}
    return parse_form({"fields": [{**field, **extra}]})


def test_an_attachment_field_parses_its_limits_and_exports_them() -> None:
    form = _form(max_files=2, max_size_mb=10, accept=["pdf", "png"], required=True)
    (field,) = form.fields
    assert field.type is FieldType.ATTACHMENT
    assert (field.max_files, field.max_size_mb, field.accept) == (2, 10, ("pdf", "png"))
    assert parse_form(form.to_dict()) == form
    assert _form().fields[0].max_files == 5  # the default


@pytest.mark.parametrize(
    ("extra", "path", "code"),
    [
        ({"max_files": 0}, "form.fields[0].max_files", "invalid_number"),
        ({"max_files": 21}, "form.fields[0].max_files", "invalid_number"),
        ({"max_size_mb": "big"}, "form.fields[0].max_size_mb", "invalid_number"),
        ({"accept": ["PDF"]}, "form.fields[0].accept", "invalid_type"),
        ({"accept": ".pdf"}, "form.fields[0].accept", "invalid_type"),
        ({"max": 3}, "form.fields[0].max", "unknown_key"),
    ],
)
def test_limit_mistakes_are_named(extra: dict[str, object], path: str, code: str) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        _form(**extra)
    assert [(e.path, e.code) for e in refused.value.errors][:1] == [(path, code)]


@pytest.mark.parametrize("source", ["json", "html"])
def test_the_value_is_a_list_of_upload_ids(source: str) -> None:
    form = _form(max_files=2)
    assert validate_submission(form, {"licence": [A, B]}, source=source) == {  # type: ignore[arg-type]
        "licence": [A, B]
    }
    assert validate_submission(form, {"licence": A}, source="json") == {"licence": [A]}
    assert validate_submission(form, {"licence": []}, source="json") == {}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([A, A], "duplicate_attachment"),
        ([A, B, C], "too_many_files"),
        (["../etc/passwd"], "invalid_attachment"),
        ([1], "invalid_type"),
        ({"id": A}, "invalid_type"),
    ],
)
def test_bad_values_are_refused_with_their_code(value: object, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(_form(max_files=2), {"licence": value}, source="json")
    assert [(e.path, e.code) for e in refused.value.errors] == [("licence", code)]


def test_a_required_attachment_field_needs_a_file() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(_form(required=True), {"licence": []}, source="json")
    assert [(e.path, e.code) for e in refused.value.errors] == [("licence", "required")]


def test_expressions_and_lists_see_the_files() -> None:
    form = _form()
    assert typed_values(form, {"licence": [A, B]}) == {"licence": f"{A},{B}"}
    assert display_value(form.fields[0], [A, B], "en") == "2 files"
    assert display_value(form.fields[0], [A], "zh") == "1 个文件"
