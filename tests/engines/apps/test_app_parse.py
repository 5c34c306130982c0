"""parse_app checks keys, form, process and conditions together and reports everything."""

import copy

import pytest

from flowdesk.engines.apps import AppSpec, load_bundled_template, parse_app
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail


def loan_data() -> dict[str, object]:
    return copy.deepcopy(load_bundled_template("loan").to_dict())


def problems(data: object) -> list[ErrorDetail]:
    with pytest.raises(DefinitionInvalid) as info:
        parse_app(data)
    return info.value.errors


def flows(data: dict[str, object]) -> list[dict[str, object]]:
    process = data["process"]
    assert isinstance(process, dict)
    result = process["flows"]
    assert isinstance(result, list)
    return result


def condition_flow_index(data: dict[str, object]) -> int:
    return next(i for i, flow in enumerate(flows(data)) if "condition" in flow)


def test_to_dict_round_trips_through_parse_app() -> None:
    app = load_bundled_template("loan")
    assert isinstance(app, AppSpec)
    assert parse_app(app.to_dict()) == app


def test_misspelt_field_in_condition_names_the_flow_and_suggests_the_field() -> None:
    data = loan_data()
    index = condition_flow_index(data)
    flows(data)[index]["condition"] = "amout <= 50000"
    errors = problems(data)
    assert len(errors) == 1
    error = errors[0]
    assert error.path == f"process.flows[{index}].condition"
    assert error.code == "expr_unknown_field"
    assert "did you mean 'amount'" in error.message
    assert error.message.endswith("at column 1")


def test_condition_must_be_boolean_and_well_typed() -> None:
    data = loan_data()
    index = condition_flow_index(data)
    flows(data)[index]["condition"] = "amount + 1"
    assert [(e.path, e.code) for e in problems(data)] == [
        (f"process.flows[{index}].condition", "expr_type_mismatch")
    ]
    flows(data)[index]["condition"] = "region <= 5"
    assert problems(data)[0].code == "expr_type_mismatch"
    flows(data)[index]["condition"] = "amount <="
    error = problems(data)[0]
    assert error.code == "expr_syntax"
    assert "at column" in error.message


def test_unknown_top_level_key_is_reported_with_a_suggestion() -> None:
    data = loan_data()
    data["catgory"] = "credit"
    data["colour"] = "red"
    errors = {e.path: e for e in problems(data)}
    assert set(errors) == {"catgory", "colour"}
    assert errors["catgory"].code == "unknown_key"
    assert "did you mean 'category'" in errors["catgory"].message


def test_errors_of_every_part_come_back_together() -> None:
    data = loan_data()
    data["key"] = "Loan App"
    data["name"] = {"en": "Loan"}
    form = data["form"]
    assert isinstance(form, dict)
    form["fields"][1]["type"] = "monye"
    process = data["process"]
    assert isinstance(process, dict)
    process["nodes"][2]["assignee"] = {"kind": "boss"}
    flows(data)[condition_flow_index(data)]["condition"] = "nonsense > 1"
    found = {(e.path, e.code) for e in problems(data)}
    assert found == {
        ("key", "invalid_key"),
        ("name.zh", "required"),
        ("form.fields[1].type", "unknown_field_type"),
        ("process.nodes[2].assignee.kind", "unknown_assignee_kind"),
    }


def test_conditions_are_checked_even_when_the_process_has_other_problems() -> None:
    data = loan_data()
    process = data["process"]
    assert isinstance(process, dict)
    process["nodes"][2]["assignee"] = {"kind": "boss"}
    index = condition_flow_index(data)
    flows(data)[index]["condition"] = "amout <= 50000"
    found = {(e.path, e.code) for e in problems(data)}
    assert (f"process.flows[{index}].condition", "expr_unknown_field") in found
    assert ("process.nodes[2].assignee.kind", "unknown_assignee_kind") in found


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        ({"key": None}, "key", "required"),
        ({"key": "x"}, "key", "invalid_key"),
        ({"key": 12}, "key", "invalid_key"),
        ({"name": "Loan"}, "name", "invalid_type"),
        ({"name": None}, "name", "required"),
        ({"description": {"en": "d", "zh": "d", "fr": "d"}}, "description.fr", "unknown_key"),
        ({"category": ""}, "category", "invalid_category"),
        ({"form": None}, "form", "required"),
        ({"form": []}, "form", "invalid_type"),
        ({"process": None}, "process", "required"),
    ],
)
def test_top_level_problems(change: dict[str, object], path: str, code: str) -> None:
    data = loan_data()
    for key, value in change.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    assert (path, code) in {(e.path, e.code) for e in problems(data)}


def test_optional_parts_may_be_left_out() -> None:
    data = loan_data()
    del data["description"]
    del data["category"]
    app = parse_app(data)
    assert app.description is None
    assert app.category is None
    assert "description" not in app.to_dict()


def test_not_a_mapping() -> None:
    assert [e.code for e in problems(["key"])] == ["invalid_type"]
