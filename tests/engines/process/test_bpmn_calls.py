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
from flowdesk.engines.process.bpmn import read_bpmn
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
