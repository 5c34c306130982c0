"""write_bpmn: an export re-imports to an equal spec that behaves the same (every golden
scenario run through `step` on both), keeps drawn coordinates, and lays out the rest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from process_fakes import CONDITIONS, FakeContext

from flowdesk.engines.process import (
    CompleteTask,
    ProcessSpec,
    Start,
    open_tasks,
    parse_process,
    step,
)
from flowdesk.engines.process.bpmn import Diagram, layout, read_bpmn, write_bpmn
from flowdesk.kernel.errors import FlowdeskError

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
FILES = HERE / "bpmn_files"
LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
CORPUS = [
    "bpmn_io.bpmn",
    "camunda7.bpmn",
    "camunda8.bpmn",
    "signavio.bpmn",
    "trisotech.bpmn",
    "flowable.bpmn20.xml",
    "flowable_countersign.bpmn20.xml",
]


def round_trip(spec: ProcessSpec, diagram: Diagram | None = None) -> tuple[ProcessSpec, Diagram]:
    xml = write_bpmn(spec, process_id="app", name={"en": "An app", "zh": "应用"}, diagram=diagram)
    imported = read_bpmn(xml)
    assert imported.warnings == ()  # an export holds nothing the reader does not use
    return imported.spec(), imported.diagram


def scenario_files() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def scenario_spec(scenario: Mapping[str, Any]) -> ProcessSpec:
    process = scenario["process"]
    if isinstance(process, str):
        process = yaml.safe_load((SCENARIOS / "processes" / f"{process}.yaml").read_text("utf-8"))
    return parse_process(process)


def run(spec: ProcessSpec, scenario: Mapping[str, Any]) -> list[object]:
    """Every step's effects and resulting state (or error code), for comparison."""
    ctx = FakeContext()
    state = None
    trace: list[object] = []
    for entry in scenario["steps"]:
        values = entry.get("values", scenario.get("values", {}))
        try:
            if "start" in entry:
                result = step(spec, state, Start(entry["start"], values), ctx)
            else:
                outcome = "approve" if "approve" in entry else "reject"
                node = entry[outcome]
                actor = entry.get("as", "")
                at_node = [t for t in open_tasks(state) if t.node_id == node]
                tasks = [t for t in at_node if actor in t.assignees] or at_node
                task_id = tasks[0].task_id if tasks else "missing"
                command = CompleteTask(task_id, actor, outcome, values=values)
                result = step(spec, state, command, ctx)
        except FlowdeskError as exc:
            trace.append(("error", exc.code))
            continue
        state = result.state
        trace.append((result.effects, result.state))
    return trace


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_every_golden_scenario_behaves_the_same_after_export_and_import(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text("utf-8"))
    spec = scenario_spec(scenario)
    again, _ = round_trip(spec)
    assert again == spec
    assert run(again, scenario) == run(spec, scenario)


LOAN_RUNS = [
    {"steps": [{"start": "alice"}] + [{"approve": n, "as": a} for n, a in approvals]}
    for approvals in (
        [("Task_Apply", "bob"), ("Task_BranchReview", "bob"), ("Task_Disburse", "bob")],
        [
            ("Task_Apply", "bob"),
            ("Task_LegalReview", "bob"),
            ("Task_FinanceReview", "bob"),
            ("Task_CreditCommittee", "bob"),
            ("Task_Disburse", "bob"),
        ],
    )
]


@pytest.mark.parametrize(("run_index", "amount"), [(0, 20_000), (1, 120_000)])
def test_loan_bpmn_import_export_import_is_stable_and_runs_the_same(
    run_index: int, amount: int
) -> None:
    first = read_bpmn(LOAN_BPMN.read_bytes())
    spec = first.spec()
    again, diagram = round_trip(spec, first.diagram)
    assert again == spec
    assert diagram == first.diagram  # the drawn coordinates survive, edge for edge
    third, diagram3 = round_trip(again, diagram)
    assert (third, diagram3) == (again, diagram)
    scenario = {**LOAN_RUNS[run_index], "values": {"amount": amount}}
    trace = run(again, scenario)
    assert trace == run(spec, scenario)
    assert trace[-1][1].status == "approved"  # type: ignore[index]


@pytest.mark.parametrize("name", CORPUS)
def test_each_modelers_file_survives_export_and_import(name: str) -> None:
    first = read_bpmn((FILES / name).read_bytes())
    spec = first.spec()
    again, diagram = round_trip(spec, first.diagram)
    assert again == spec
    assert diagram.shapes == {**layout(spec, first.diagram).shapes}
    for node_id, bounds in first.diagram.shapes.items():
        assert diagram.shapes[node_id] == bounds


def test_the_export_is_bpmn_with_a_complete_diagram() -> None:
    spec = read_bpmn(LOAN_BPMN.read_bytes()).spec()
    root = ET.fromstring(write_bpmn(spec, process_id="loan"))
    assert root.tag == f"{{{MODEL}}}definitions"
    process = root.find(f"{{{MODEL}}}process")
    assert process is not None and process.get("isExecutable") == "true"
    plane = root.find(f"{{{BPMNDI}}}BPMNDiagram/{{{BPMNDI}}}BPMNPlane")
    assert plane is not None and plane.get("bpmnElement") == "loan"
    shapes = {s.get("bpmnElement") for s in plane.iter(f"{{{BPMNDI}}}BPMNShape")}
    edges = {e.get("bpmnElement") for e in plane.iter(f"{{{BPMNDI}}}BPMNEdge")}
    assert shapes == set(spec.nodes)
    assert edges == {flow.id for flow in spec.flows}
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))  # xsd:ID: unique in the document


def test_a_large_process_exports_to_a_file_the_reader_takes() -> None:
    nodes: list[dict[str, object]] = [{"id": "s", "type": "start"}]
    flows: list[dict[str, object]] = []
    for i in range(3000):
        nodes.append(
            {
                "id": f"t{i}",
                "type": "user_task",
                "name": {"en": f"Review {i}", "zh": f"审批 {i}"},
                "assignee": {"kind": "role", "role": "credit_committee"},
            }
        )
        flows.append({"from": nodes[-2]["id"], "to": f"t{i}"})
    nodes.append({"id": "e", "type": "end"})
    flows.append({"from": "t2999", "to": "e"})
    spec = parse_process({"nodes": nodes, "flows": flows})
    assert round_trip(spec)[0] == spec


def test_ids_flowdesk_adds_never_collide_with_the_processs_own() -> None:
    spec = parse_process(
        {
            "nodes": [
                {"id": "loan", "type": "start"},
                {"id": "loan_di", "type": "end"},
                {"id": "Plane_loan_2", "type": "exclusive_gateway"},
            ],
            "flows": [
                {"from": "loan", "to": "Plane_loan_2"},
                {"from": "Plane_loan_2", "to": "loan_di"},
            ],
        }
    )
    xml = write_bpmn(spec, process_id="loan")
    ids = [e.get("id") for e in ET.fromstring(xml).iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    assert read_bpmn(xml).spec() == spec


def test_implicit_flow_ids_become_xml_ids_and_come_back_implicit() -> None:
    spec = scenario_spec(
        yaml.safe_load((SCENARIOS / "loan_small_approved.yaml").read_text("utf-8"))
    )
    xml = write_bpmn(spec)
    assert "->" not in xml  # not a valid XML id
    assert 'id="Flow_start_amount_check"' in xml
    again = read_bpmn(xml).spec()
    assert [flow.id for flow in again.flows] == [flow.id for flow in spec.flows]
    assert "id" not in again.flows[0].to_dict()  # the YAML stays without generated ids


def test_a_process_never_drawn_is_laid_out_left_to_right() -> None:
    spec = read_bpmn((FILES / "camunda8.bpmn").read_bytes()).spec()  # no BPMNDI
    drawn = layout(spec)
    x = {node_id: bounds[0] + bounds[2] / 2 for node_id, bounds in drawn.shapes.items()}
    for flow in spec.flows:
        assert x[flow.source] < x[flow.target], flow.id
    centres = {(x[n], drawn.shapes[n][1] + drawn.shapes[n][3] / 2) for n in spec.nodes}
    assert len(centres) == len(spec.nodes)  # no two shapes on the same spot
    for flow in spec.flows:
        points = drawn.edges[flow.id]
        assert len(points) >= 2


def test_a_loop_back_is_drawn_without_breaking_the_layers() -> None:
    spec = parse_process(
        {
            "nodes": [
                {"id": "s", "type": "start"},
                {"id": "t", "type": "user_task", "assignee": {"kind": "role", "role": "r"}},
                {"id": "g", "type": "exclusive_gateway"},
                {"id": "e", "type": "end"},
            ],
            "flows": [
                {"from": "s", "to": "t"},
                {"from": "t", "to": "g"},
                {"from": "g", "to": "t", "condition": "amount > 50000"},
                {"from": "g", "to": "e", "default": True},
            ],
        }
    )
    drawn = layout(spec)
    assert [
        drawn.shapes[n][0] < drawn.shapes[m][0] for n, m in (("s", "t"), ("t", "g"), ("g", "e"))
    ] == [True] * 3
    again, _ = round_trip(spec)
    assert again == spec


def test_names_with_markup_and_both_languages_survive() -> None:
    name = {"en": 'Check <amount> & "rating"', "zh": "审批 & 复核 <高>"}
    spec = parse_process(
        {
            "nodes": [
                {"id": "s", "type": "start", "name": {"en": "Start"}},
                {
                    "id": "t",
                    "type": "user_task",
                    "name": name,
                    "assignee": {"kind": "applicant_manager", "level": 3},
                    "editable": ["purpose", "term"],
                },
                {"id": "e", "type": "end"},
            ],
            "flows": [{"from": "s", "to": "t"}, {"id": "f2", "from": "t", "to": "e"}],
        }
    )
    again, _ = round_trip(spec)
    assert again == spec
    assert again.nodes["t"].assignee.level == 3  # type: ignore[union-attr]


def test_settings_the_writer_has_no_element_for_travel_as_options() -> None:
    """A node setting of a newer engine (here: a made-up one) is written as
    flowdesk:option JSON and read back into the same plain definition."""
    from flowdesk.engines.process.bpmn.write import _option

    extensions = ET.Element(f"{{{MODEL}}}extensionElements")
    _option(extensions, "approval", {"mode": "all", "veto": True})
    element = extensions[0]
    assert element.get("key") == "approval"
    assert element.text == '{"mode": "all", "veto": true}'


# --- property: random sound processes survive the round trip ----------------------------

NAMES = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and s.strip() and "  " not in s)
RULES = st.one_of(
    st.builds(
        lambda u: {"kind": "user", "user": u},
        st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}", fullmatch=True),
    ),
    st.builds(
        lambda r: {"kind": "role", "role": r}, st.sampled_from(["clerk", "risk_officer", "cfo"])
    ),
    st.builds(
        lambda d: {"kind": "department_head", "department": d}, st.sampled_from(["legal", "it"])
    ),
    st.just({"kind": "applicant_department_head"}),
    st.builds(lambda n: {"kind": "applicant_manager", "level": n}, st.integers(1, 5)),
)


class _Builder:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.nodes: list[dict[str, object]] = []
        self.flows: list[dict[str, object]] = []

    def node(self, node_type: str) -> str:
        node_id = f"n{len(self.nodes)}"
        node: dict[str, object] = {"id": node_id, "type": node_type}
        if self.draw(st.booleans()):
            node["name"] = self.draw(
                st.dictionaries(st.sampled_from(["en", "zh"]), NAMES, min_size=1)
            )
        if node_type == "user_task":
            node["assignee"] = self.draw(RULES)
        self.nodes.append(node)
        return node_id

    def flow(self, source: str, target: str, **extra: object) -> None:
        flow: dict[str, object] = {"from": source, "to": target, **extra}
        if self.draw(st.booleans()):
            flow["id"] = f"f{len(self.flows)}"
        self.flows.append(flow)

    def block(self, source: str, depth: int) -> str:
        """A block entered from `source`; returns its exit node."""
        kind = self.draw(st.sampled_from(["task", "seq", "and", "xor"] if depth < 3 else ["task"]))
        if kind == "task":
            task = self.node("user_task")
            self.flow(source, task)
            return task
        if kind == "seq":
            return self.block(self.block(source, depth + 1), depth + 1)
        gateway = "parallel_gateway" if kind == "and" else "exclusive_gateway"
        split = self.node(gateway)
        self.flow(source, split)
        merge_id = None
        exits = []
        branches = self.draw(st.integers(2, 3))
        for i in range(branches):
            first = self.node("user_task")
            if kind == "xor" and i < branches - 1:
                self.flow(split, first, condition=self.draw(st.sampled_from(sorted(CONDITIONS))))
            elif kind == "xor":
                self.flow(split, first, default=True)
            else:
                self.flow(split, first)
            exits.append(self.block(first, depth + 1) if self.draw(st.booleans()) else first)
        merge_id = self.node(gateway)
        for exit_id in exits:
            self.flow(exit_id, merge_id)
        return merge_id


@st.composite
def processes(draw: st.DrawFn) -> ProcessSpec:
    builder = _Builder(draw)
    start = builder.node("start")
    last = builder.block(start, 0)
    end = builder.node("end")
    builder.flow(last, end)
    return parse_process({"nodes": builder.nodes, "flows": builder.flows})


@settings(max_examples=60, deadline=None)
@given(processes())
def test_random_processes_survive_export_and_import(spec: ProcessSpec) -> None:
    xml = write_bpmn(spec, process_id="n1")  # the app key may equal a node id
    ids = [e.get("id") for e in ET.fromstring(xml).iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    again, diagram = round_trip(spec)
    assert again == spec
    assert set(diagram.shapes) == set(spec.nodes)
    assert set(diagram.edges) == {flow.id for flow in spec.flows}
    again2, diagram2 = round_trip(again, diagram)
    assert (again2, diagram2) == (again, diagram)  # a kept diagram is kept exactly
