"""BPMN for inclusive gateways, sub-processes, terminate and error events (ADR 0022):
they import from modeler files by namespace URI, and every control golden scenario
behaves the same after export and re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_bpmn_write import round_trip, run, scenario_spec

from flowdesk.engines.process import parse_process
from flowdesk.engines.process.bpmn import layout, read_bpmn, write_bpmn
from flowdesk.kernel.errors import DefinitionInvalid

HERE = Path(__file__).parent
CONTROL = HERE / "scenarios" / "control"
FILES = HERE / "bpmn_files"


@pytest.mark.parametrize("path", sorted(CONTROL.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_control_scenario_behaves_the_same_after_export_and_import(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text("utf-8"))
    spec = scenario_spec(scenario)
    again, diagram = round_trip(spec)
    assert again == spec
    assert run(again, scenario) == run(spec, scenario)
    assert round_trip(again, diagram) == (again, diagram)  # stable from then on


def test_a_camunda_modeler_file_imports_with_its_scopes_and_events() -> None:
    imported = read_bpmn((FILES / "control_camunda.bpmn").read_bytes())
    spec = imported.spec()
    nodes = spec.nodes
    assert nodes["Gateway_Split"].type == "inclusive_gateway"
    assert spec.index.branches["Gateway_Split"].default is not None
    assert "Gateway_Join" in spec.index.control.or_joins
    assert nodes["Sub_Kyc"].type == "sub_process"
    assert [n for n, node in nodes.items() if node.scope == "Sub_Kyc"] == [
        "Kyc_Start",
        "Kyc_Check",
        "Kyc_Ok",
        "Kyc_Failed",
        "Kyc_End",
    ]
    assert (nodes["Kyc_Failed"].type, nodes["Kyc_Failed"].error_code) == ("error_end", "KYC_FAILED")
    boundary = nodes["Boundary_Kyc"]
    assert (boundary.type, boundary.attached_to, boundary.error_code) == (
        "boundary_error",
        "Sub_Kyc",
        "KYC_FAILED",
    )
    assert boundary.interrupting
    assert nodes["End_Refused"].type == "terminate_end"
    assert spec.index.control.catchers == {"Kyc_Failed": "Boundary_Kyc"}
    warned = {(w.path, w.code) for w in imported.warnings}
    assert ("bpmn[Boundary_Kyc]", "vendor_extension_ignored") not in warned
    again, _ = round_trip(spec, imported.diagram)
    assert again == spec


def test_a_drawn_sub_process_keeps_its_box_when_every_node_was_drawn() -> None:
    imported = read_bpmn((FILES / "control_camunda.bpmn").read_bytes())
    spec = imported.spec()
    drawn = layout(spec, imported.diagram)  # not all drawn: laid out afresh, boxes around
    box = drawn.shapes["Sub_Kyc"]
    for node_id, node in spec.nodes.items():
        if node.scope == "Sub_Kyc":
            x, y, w, h = drawn.shapes[node_id]
            assert box[0] < x and x + w < box[0] + box[2]
            assert box[1] < y and y + h < box[1] + box[3]
    _, by, _, bh = drawn.shapes["Boundary_Kyc"]
    assert by + bh / 2 == box[1] + box[3]  # on the sub-process's lower edge
    kept = layout(spec, drawn)
    assert kept == drawn  # a complete drawing is kept as it is


def test_an_error_boundary_that_does_not_interrupt_is_refused_by_its_id() -> None:
    text = (FILES / "control_camunda.bpmn").read_text("utf-8")
    text = text.replace('attachedToRef="Sub_Kyc"', 'attachedToRef="Sub_Kyc" cancelActivity="false"')
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    found = {(e.path, e.code) for e in caught.value.errors}
    assert ("bpmn[Boundary_Kyc].interrupting", "error_boundary_interrupts") in found


def test_an_error_end_without_an_error_is_refused_by_its_id() -> None:
    text = (FILES / "control_camunda.bpmn").read_text("utf-8")
    text = text.replace(' errorRef="Error_0kyc" />', " />")
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    found = {(e.path, e.code) for e in caught.value.errors}
    assert ("bpmn[Kyc_Failed].error_code", "required") in found


def test_the_export_nests_a_sub_processs_nodes_and_names_its_errors() -> None:
    spec = parse_process(
        yaml.safe_load((HERE / "scenarios" / "processes" / "checks.yaml").read_text("utf-8"))
    )
    xml = write_bpmn(spec, process_id="checks_app")
    assert '<bpmn:subProcess id="checks"' in xml
    assert '<bpmn:error id="Error_DOCS_MISSING" name="DOCS_MISSING" errorCode="DOCS_MISSING"' in xml
    assert 'attachedToRef="checks"' in xml
    assert 'isExpanded="true"' in xml
