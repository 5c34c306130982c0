"""Per-node field permissions (ADR 0037): `fields:` maps and the `editable:` shorthand on a
user task or the start, parsed, checked against the form and the conditions, exported."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from flowdesk.engines.apps import dump_app_yaml, load_app_yaml, load_bundled_template, parse_app
from flowdesk.kernel.errors import DefinitionInvalid


def _loan(key: str = "editable", **settings: object) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] in settings:
            node[key] = settings[node["id"]]
    return definition


def _optional(definition: dict[str, Any], key: str) -> dict[str, Any]:
    for field in definition["form"]["fields"]:
        if field["key"] == key:
            field["required"] = False
    return definition


def _errors(definition: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as refused:
        parse_app(definition)
    return [(e.path, e.code) for e in refused.value.errors]


def test_no_field_is_editable_unless_a_node_says_so() -> None:
    spec = load_bundled_template("loan")
    assert all(node.editable == () for node in spec.process.nodes.values())
    # read-only at a step, editable at the start, unless the node says otherwise
    assert spec.process.nodes["disburse"].access("amount") == "read_only"
    assert spec.process.nodes["start"].access("amount") == "editable"


def test_the_editable_shorthand_parses_and_exports_as_a_permission_map() -> None:
    spec = parse_app(_loan(disburse=["purpose", "applicant_name"]))
    assert spec.process.nodes["disburse"].editable == ("purpose", "applicant_name")
    again = load_app_yaml(dump_app_yaml(spec))
    assert again == spec
    exported = yaml.safe_load(dump_app_yaml(spec))
    (disburse,) = [n for n in exported["process"]["nodes"] if n["id"] == "disburse"]
    assert disburse["fields"] == {"purpose": "editable", "applicant_name": "editable"}
    assert "editable" not in disburse


def test_a_permission_map_names_each_field_editable_read_only_or_hidden() -> None:
    spec = parse_app(
        _optional(
            _loan(
                "fields",
                start={"purpose": "hidden"},
                disburse={"purpose": "editable", "applicant_name": "hidden", "amount": "read_only"},
            ),
            "purpose",
        )
    )
    disburse = spec.process.nodes["disburse"]
    assert disburse.access("applicant_name") == "hidden"
    assert disburse.hidden() == frozenset({"applicant_name"})
    assert spec.process.nodes["start"].access("purpose") == "hidden"
    assert load_app_yaml(dump_app_yaml(spec)) == spec


@pytest.mark.parametrize(
    ("editable", "expected"),
    [
        ({"disburse": ["amount"]}, [("process.nodes[8].fields.amount", "editable_field_routes")]),
        ({"disburse": ["purpos"]}, [("process.nodes[8].fields.purpos", "unknown_field")]),
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
    assert _errors(definition) == [("process.nodes[7].fields.term_months", "editable_field_routes")]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"disburse": {"purpose": "secret"}},
            [("process.nodes[8].fields.purpose", "unknown_access")],
        ),
        ({"disburse": ["purpose"]}, [("process.nodes[8].fields", "wrong_type")]),
        (
            {"disburse": {"amount": "editable"}},
            [("process.nodes[8].fields.amount", "editable_field_routes")],
        ),
        (
            {"end_approved": {"purpose": "hidden"}},
            [("process.nodes[9].fields", "fields_not_allowed")],
        ),
        # the applicant must be able to fill a required field
        (
            {"start": {"amount": "hidden"}},
            [("process.nodes[0].fields.amount", "start_locked_required")],
        ),
    ],
)
def test_permission_map_mistakes_are_named_with_their_path(
    settings: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert _errors(_loan("fields", **settings)) == expected


def test_the_start_may_open_a_field_that_a_condition_reads_later() -> None:
    spec = parse_app(
        _optional(_loan("fields", start={"amount": "editable", "purpose": "read_only"}), "purpose")
    )
    assert spec.process.nodes["start"].access("amount") == "editable"


def test_hidden_and_read_only_fields_stay_on_a_formula() -> None:
    definition = _loan()
    definition["form"]["fields"].append(
        {
            "key": "score",
            "type": "formula",
            "label": {"en": "Score", "zh": "评分"},
            "formula": "amount / 1000",
        }
    )
    for node in definition["process"]["nodes"]:
        if node["id"] == "start":
            node["fields"] = {"score": "hidden"}
        if node["id"] == "disburse":
            node["fields"] = {"score": "editable"}
    assert _errors(definition) == [("process.nodes[8].fields.score", "editable_formula")]


def test_an_attachment_field_is_never_editable_at_a_step() -> None:
    definition = _loan()
    definition["form"]["fields"].append(
        {"key": "licence", "type": "attachment", "label": {"en": "Licence", "zh": "执照"}}
    )
    for node in definition["process"]["nodes"]:
        if node["id"] == "disburse":
            node["fields"] = {"licence": "editable"}
    assert _errors(definition) == [("process.nodes[8].fields.licence", "editable_attachment")]
