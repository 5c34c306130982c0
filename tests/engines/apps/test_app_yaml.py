"""Apps as YAML: strict reading, exact round trips, errors that name the line."""

import pytest

from flowdesk.engines.apps import (
    MAX_YAML_BYTES,
    dump_app_yaml,
    load_app_yaml,
    load_bundled_template,
)
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail


def yaml_problem(text: str) -> ErrorDetail:
    with pytest.raises(DefinitionInvalid) as info:
        load_app_yaml(text)
    assert len(info.value.errors) == 1
    return info.value.errors[0]


def test_dump_and_load_round_trip() -> None:
    app = load_bundled_template("loan")
    text = dump_app_yaml(app)
    assert "贷款审批" in text  # allow_unicode: Chinese stays readable
    assert load_app_yaml(text) == app
    assert dump_app_yaml(load_app_yaml(text)) == text


def test_syntax_error_names_line_and_column() -> None:
    text = "key: loan\nname:\n  en: Loan\n  zh: [贷款\nform: {}\n"
    error = yaml_problem(text)
    assert error.path == "yaml"
    assert error.code == "yaml_syntax"
    assert "line 5" in error.message


def test_duplicate_keys_are_refused() -> None:
    text = "key: loan\nname: {en: A, zh: B}\nkey: other\n"
    error = yaml_problem(text)
    assert (error.path, error.code) == ("yaml", "duplicate_key")
    assert "'key'" in error.message
    assert "line 3, column 1" in error.message


def test_nested_duplicate_keys_are_refused() -> None:
    text = dump_app_yaml(load_bundled_template("loan")).replace(
        "    required: true\n    max_length: 100\n",
        "    required: true\n    max_length: 100\n    required: false\n",
        1,
    )
    assert yaml_problem(text).code == "duplicate_key"


def test_aliases_are_refused() -> None:
    text = "a: &x [1, 2]\nb: *x\n"
    error = yaml_problem(text)
    assert error.code == "yaml_syntax"
    assert "aliases" in error.message


def test_size_limit() -> None:
    text = "key: loan\n# " + "x" * MAX_YAML_BYTES + "\n"
    assert yaml_problem(text).code == "too_large"


def test_multibyte_size_counts_bytes() -> None:
    text = "# " + "贷" * (MAX_YAML_BYTES // 3 + 10) + "\n"
    assert yaml_problem(text).code == "too_large"


def test_deep_nesting_is_refused_cleanly() -> None:
    error = yaml_problem("[" * 100_000 + "]" * 100_000)
    assert error.code == "yaml_syntax"
    assert "nested more than" in error.message


def test_non_printable_characters_are_refused() -> None:
    assert yaml_problem("key: lo\x00an\n").code == "yaml_syntax"


def test_yaml_that_is_not_an_app() -> None:
    assert yaml_problem("- just\n- a list\n").code == "invalid_type"
    assert yaml_problem("").code == "invalid_type"


def test_yaml_booleans_as_option_values_are_explained() -> None:
    app = load_bundled_template("loan")
    text = dump_app_yaml(app).replace("    - value: A\n", "    - value: yes\n", 1)
    with pytest.raises(DefinitionInvalid) as info:
        load_app_yaml(text)
    [error] = info.value.errors
    assert error.path == "form.fields[3].options[0].value"
    assert "quote it" in error.message
