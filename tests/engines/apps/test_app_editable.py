"""`editable` on a user task: parsed, checked against the form and the conditions, exported."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from flowdesk.engines.apps import dump_app_yaml, load_app_yaml, load_bundled_template, parse_app
from flowdesk.kernel.errors import DefinitionInvalid


def _loan(**editable: object) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] in editable:
            node["editable"] = editable[node["id"]]
    return definition


def _errors(definition: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_app(definition)
    return [(e.path, e.code) for e in refused.value.errors]


def test_no_field_is_editable_unless_a_node_says_so() -> None:
    spec = load_bundled_template("loan")
    assert all(node.editable == () for node in spec.process.nodes.values())


def test_editable_fields_parse_and_survive_export() -> None:
    spec = parse_app(_loan(disburse=["purpose", "applicant_name"]))
    assert spec.process.nodes["disburse"].editable == ("purpose", "applicant_name")
    again = load_app_yaml(dump_app_yaml(spec))
    assert again == spec
    assert "editable" in dump_app_yaml(spec)


@pytest.mark.parametrize(
    ("editable", "expected"),
    [
        ({"disburse": ["amount"]}, [("process.nodes[8].editable[0]", "editable_field_routes")]),
        ({"disburse": ["purpos"]}, [("process.nodes[8].editable[0]", "unknown_field")]),
        ({"disburse": "purpose"}, [("process.nodes[8].editable", "wrong_type")]),
        ({"disburse": [1]}, [("process.nodes[8].editable", "wrong_type")]),
        (
            {"disburse": ["purpose", "purpose"]},
            [("process.nodes[8].editable[1]", "duplicate")],
        ),
        ({"end_approved": ["purpose"]}, [("process.nodes[9].editable", "editable_not_allowed")]),
    ],
)
def test_editable_mistakes_are_named_with_their_path(
    editable: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert _errors(_loan(**editable)) == expected


def test_a_field_any_condition_reads_is_never_editable() -> None:
    definition = _loan(committee=["term_months"])
    for flow in definition["process"]["flows"]:
        if flow.get("condition") == "amount <= 50000":
            flow["condition"] = "amount <= 50000 and term_months < 60"
    assert _errors(definition) == [("process.nodes[7].editable[0]", "editable_field_routes")]
