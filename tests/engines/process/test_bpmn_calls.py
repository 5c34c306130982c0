"""BPMN for call activities (ADR 0033): <callActivity calledElement="app key"> with the
mappings in a flowdesk:option, exported and re-imported to the same spec; one from a
modeler without flowdesk's extension imports with no mappings; one naming no called
element is refused by its id."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_bpmn_write import round_trip

from flowdesk.engines.process import parse_process
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.kernel.errors import DefinitionInvalid

PROCESS = Path(__file__).parent / "scenarios" / "processes" / "credit_call.yaml"

_MODELER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:callActivity id="check" name="Credit check" {called} />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_call_activity_round_trips_to_the_same_spec() -> None:
    spec = parse_process(yaml.safe_load(PROCESS.read_text("utf-8")))
    again, _ = round_trip(spec)
    assert again == spec
    node = again.nodes["check"]
    assert node.call is not None and node.call.app == "credit_check"
    assert node.call.inputs == (("amount", "amount"), ("note", "=from the order"))


def test_a_modelers_call_activity_imports_with_its_called_element() -> None:
    spec = read_bpmn(_MODELER.format(called='calledElement="credit_check"')).spec()
    node = spec.nodes["check"]
    assert node.type == "call_activity" and node.call is not None
    assert (node.call.app, node.call.inputs, node.call.outputs) == ("credit_check", (), ())


def test_a_call_activity_without_a_called_element_is_refused_by_id() -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        read_bpmn(_MODELER.format(called=""))
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("bpmn[check]", "unsupported_element")
    ]


_CAMUNDA_7 = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:callActivity id="check" calledElement="credit_check" {binding}>
      <bpmn:extensionElements>
        <camunda:in source="amount" target="loan_amount" />
        <camunda:in source="customer" target="customer" />
        <camunda:out source="rating" target="credit_rating" />
        {extra}
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""

_ZEEBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:callActivity id="check">
      <bpmn:extensionElements>
        <zeebe:calledElement processId="credit_check" propagateAllChildVariables="false" />
        <zeebe:ioMapping>
          <zeebe:input source="=amount" target="loan_amount" />
          <zeebe:input source="=&quot;from the order&quot;" target="note" />
          <zeebe:output source="=rating" target="credit_rating" />
        </zeebe:ioMapping>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_camunda_7_mappings_and_a_pinned_version_are_read() -> None:
    text = _CAMUNDA_7.format(
        binding='camunda:calledElementBinding="version" camunda:calledElementVersion="3"',
        extra="",
    )
    imported = read_bpmn(text)
    call = imported.spec().nodes["check"].call
    assert call is not None
    assert (call.app, call.version) == ("credit_check", 3)
    assert call.inputs == (("customer", "customer"), ("loan_amount", "amount"))
    assert call.outputs == (("credit_rating", "rating"),)
    assert not [w for w in imported.warnings if w.code == "vendor_extension_ignored"]
    again, _ = round_trip(imported.spec())  # export -> import: the same call, pinned
    assert again == imported.spec()


def test_a_deployment_binding_is_read_as_latest_with_a_warning() -> None:
    imported = read_bpmn(
        _CAMUNDA_7.format(binding='camunda:calledElementBinding="deployment"', extra="")
    )
    call = imported.spec().nodes["check"].call
    assert call is not None and call.version == 0
    assert "call_binding_read_as_latest" in {w.code for w in imported.warnings}


@pytest.mark.parametrize(
    "extra",
    [
        '<camunda:in variables="all" />',
        '<camunda:in sourceExpression="${amount * 2}" target="double" />',
    ],
    ids=["all_variables", "expression"],
)
def test_what_a_mapping_cannot_say_in_flowdesk_is_refused(extra: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(_CAMUNDA_7.format(binding="", extra=extra)).spec()
    assert {e.code for e in caught.value.errors} == {"unsupported_mapping"}
    assert all(e.path.startswith("bpmn[check]") for e in caught.value.errors)


def test_zeebe_called_element_and_io_mapping_are_read() -> None:
    imported = read_bpmn(_ZEEBE)
    call = imported.spec().nodes["check"].call
    assert call is not None and call.app == "credit_check"
    assert call.inputs == (("loan_amount", "amount"), ("note", "=from the order"))
    assert call.outputs == (("credit_rating", "rating"),)
    assert imported.warnings == ()


def test_a_zeebe_expression_mapping_is_refused_by_element_id() -> None:
    text = _ZEEBE.replace('source="=amount"', 'source="=amount * 2"')
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("bpmn[check].zeebe:input", "unsupported_mapping")
    ]


def test_a_pinned_version_is_kept_in_yaml_and_refused_when_not_a_number() -> None:
    process = yaml.safe_load(PROCESS.read_text("utf-8"))
    process["nodes"][1]["call"]["version"] = 2
    spec = parse_process(process)
    node = spec.nodes["check"]
    assert node.call is not None and node.call.version == 2
    assert parse_process(spec.to_dict()) == spec
    process["nodes"][1]["call"]["version"] = "newest"
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(process)
    assert "invalid_version_policy" in {e.code for e in caught.value.errors}


def test_a_multi_instance_call_round_trips_with_its_loop_marker() -> None:
    process = yaml.safe_load(PROCESS.read_text("utf-8"))
    call = process["nodes"][1]["call"]
    call.pop("outputs")
    call.update({"each": "guarantors", "as": "guarantor", "order": "sequential"})
    spec = parse_process(process)
    xml = write_bpmn(spec)
    assert 'multiInstanceLoopCharacteristics isSequential="true"' in xml
    again, _ = round_trip(spec)
    assert again == spec


def test_a_modelers_multi_instance_call_without_flowdesk_items_is_refused() -> None:
    text = _CAMUNDA_7.format(
        binding="",
        extra="",
    ).replace(
        "</bpmn:callActivity>",
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${guarantors}" '
        'camunda:elementVariable="guarantor" /></bpmn:callActivity>',
    )
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    assert ("bpmn[check]", "unsupported_loop") in {(e.path, e.code) for e in caught.value.errors}
