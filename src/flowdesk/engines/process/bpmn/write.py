"""ProcessSpec -> BPMN 2.0 XML with a BPMNDI diagram, so it opens in bpmn.io and
re-imports (`read_bpmn`) to an equal spec.

What BPMN has no element for (names in both languages, the assignee rule, editable
fields, and any node setting the engine gains later) goes in the `flowdesk:`
extension namespace; a node setting without its own element is written as
`<flowdesk:option key="...">JSON</flowdesk:option>`, so the writer never drops a
setting it does not know. The diagram keeps drawn coordinates and lays out the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from xml.etree import ElementTree as ET

from ..spec import Flow, Node, ProcessSpec, default_flow_id
from . import events
from .diagram import Diagram, layout
from .ids import implicit_flow_element_id
from .namespaces import BPMNDI, DC, DI, FLOWDESK, FLOWDESK_EXPRESSION, MODEL, XSI, q

ELEMENTS: dict[str, str] = {
    "start": "startEvent",
    "end": "endEvent",
    "user_task": "userTask",
    "exclusive_gateway": "exclusiveGateway",
    "parallel_gateway": "parallelGateway",
    "cc": "sendTask",  # 抄送: marked by <flowdesk:option key="type">"cc"</flowdesk:option>
    # ADR 0022: the end events by their event definition (events.py)
    "inclusive_gateway": "inclusiveGateway",
    "terminate_end": "endEvent",
    "sub_process": "subProcess",
    "error_end": "endEvent",
    "boundary_error": "boundaryEvent",
    "service_task": "serviceTask",  # its <flowdesk:option key="webhook"> says what it calls
    # ADR 0023: by their event definition; the flowdesk:option timer/message says the rest
    "boundary_timer": "boundaryEvent",
    "timer_catch": "intermediateCatchEvent",
    "message_catch": "intermediateCatchEvent",
    # ADR 0033: calledElement is the called app's key; flowdesk:option call the mappings
    "call_activity": "callActivity",
    # ADR 0035: a message boundary event on a user task, an event-based gateway
    "boundary_message": "boundaryEvent",
    "event_gateway": "eventBasedGateway",
}
# Node types written as a BPMN element that means something else on its own: the
# flowdesk:option type says what the element is (read.py reads it back).
MARKED_TYPES = frozenset({"cc"})
_PREFIXES = {"bpmn": MODEL, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "flowdesk": FLOWDESK}
_NODE_KEYS = {
    "id",
    "type",
    "name",
    "assignee",
    "fields",
    "approval",
    *events.STRUCTURE_KEYS,
}
_NUMBERS = {"level", "pass_count", "pass_percent"}  # read back as whole numbers
_FLOW_KEYS = {"id", "from", "to", "condition", "default"}


def write_bpmn(
    spec: ProcessSpec,
    *,
    process_id: str = "process",
    name: Mapping[str, str] | None = None,
    diagram: Diagram | None = None,
) -> str:
    """The spec as a BPMN 2.0 document (UTF-8 text with its XML declaration)."""
    for prefix, uri in _PREFIXES.items():
        ET.register_namespace(prefix, uri)
    element_ids = {flow.id: _flow_element_id(flow) for flow in spec.flows}
    ids = _Ids({*spec.nodes, *element_ids.values()})
    process_id = ids.fresh(process_id)
    definitions = ET.Element(
        q(MODEL, "definitions"),
        {
            "id": ids.fresh(f"Definitions_{process_id}"),
            "targetNamespace": f"https://flowdesk.dev/apps/{process_id}",
            "expressionLanguage": FLOWDESK_EXPRESSION,
            "exporter": "flowdesk",
        },
    )
    process = ET.SubElement(definitions, q(MODEL, "process"), {"id": process_id})
    if name:
        process.set("name", name.get("zh") or name.get("en") or process_id)
    process.set("isExecutable", "true")
    if spec.once_per_ticket:  # no one approves twice, process-wide (once.py)
        _option(ET.SubElement(process, q(MODEL, "extensionElements")), "once_per_ticket", True)
    defaults = {flow.source: element_ids[flow.id] for flow in spec.flows if flow.default}
    scopes = {"": process}  # a sub-process's nodes and flows are written inside it
    errors = events.error_ids(spec, ids.fresh)
    messages = events.message_ids(spec, ids.fresh)
    for node in events.outer_first(spec):
        _write_node(scopes[node.scope], spec, node, element_ids, defaults.get(node.id))
        if node.type == "sub_process":
            scopes[node.id] = scopes[node.scope][-1]
        events.write_event(scopes[node.scope][-1], node, errors)
        events.write_wait(scopes[node.scope][-1], node, messages)
    for flow in spec.flows:
        _write_flow(scopes[spec.nodes[flow.source].scope], flow, element_ids[flow.id])
    events.write_errors(definitions, errors)
    events.write_messages(definitions, messages)
    _write_diagram(definitions, spec, process_id, layout(spec, diagram), element_ids, ids)
    ET.indent(definitions, space="  ")
    body = ET.tostring(definitions, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


class _Ids:
    """Fresh XML ids for the elements flowdesk adds (the process, the diagram's shapes),
    never equal to a node's or flow's id: xsd:ID is unique in the whole document."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def fresh(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{wanted}_{n}"
        self.taken.add(candidate)
        return candidate


def _flow_element_id(flow: Flow) -> str:
    if flow.id == default_flow_id(flow.source, flow.target):
        return implicit_flow_element_id(flow.source, flow.target)
    return flow.id


def _write_node(
    process: ET.Element,
    spec: ProcessSpec,
    node: Node,
    element_ids: Mapping[str, str],
    default: str | None,
) -> None:
    data = node.to_dict()
    known = node.type in ELEMENTS
    element = ET.SubElement(process, q(MODEL, ELEMENTS.get(node.type, "task")), {"id": node.id})
    label = node.name.get("zh") or node.name.get("en")
    if label:
        element.set("name", label)
    if default is not None:
        element.set("default", default)
    if node.call is not None:
        element.set("calledElement", node.call.app)
    extensions = ET.Element(q(MODEL, "extensionElements"))
    for locale, text in node.name.items():
        ET.SubElement(extensions, q(FLOWDESK, "name"), {"lang": locale}).text = text
    for key in ("assignee", "approval"):
        value = data.get(key)
        if isinstance(value, Mapping):
            _setting(extensions, key, value)
    for key, access in node.fields:  # per-node field permissions (ADR 0037)
        ET.SubElement(extensions, q(FLOWDESK, "field"), {"key": key, "access": access})
    if not known or node.type in MARKED_TYPES:
        _option(extensions, "type", node.type)
    for key, value in data.items():
        if key not in _NODE_KEYS:
            _option(extensions, key, value)
    if len(extensions):
        element.append(extensions)
    for flow in spec.incoming(node.id):
        ET.SubElement(element, q(MODEL, "incoming")).text = element_ids[flow.id]
    for flow in spec.outgoing(node.id):
        ET.SubElement(element, q(MODEL, "outgoing")).text = element_ids[flow.id]
    approval = data.get("approval")
    mode = approval.get("mode") if isinstance(approval, Mapping) else None
    if node.call is not None and node.call.each:  # a multi-instance call (ADR 0035)
        mode = "sequential" if node.call.order == "sequential" else "all"
    if mode not in (None, "single"):
        # the modeler's marker (||| or ≡); flowdesk:approval above says exactly what it means
        ET.SubElement(
            element,
            q(MODEL, "multiInstanceLoopCharacteristics"),
            {"isSequential": "true" if mode == "sequential" else "false"},
        )


def _setting(extensions: ET.Element, key: str, value: Mapping[str, object]) -> None:
    """`<flowdesk:assignee kind="role" role="x"/>`, a list of users as `<flowdesk:user>`
    children; a value the element cannot spell exactly goes in a flowdesk:option."""
    attributes: dict[str, str] = {}
    users: list[str] = []
    for name, item in value.items():
        if isinstance(item, str) and name not in _NUMBERS:
            attributes[name] = item
        elif name in _NUMBERS and isinstance(item, int) and not isinstance(item, bool):
            attributes[name] = str(item)
        elif name == "users" and isinstance(item, list) and all(isinstance(u, str) for u in item):
            users = list(item)
        else:
            _option(extensions, key, value)
            return
    element = ET.SubElement(extensions, q(FLOWDESK, key), attributes)
    for user in users:
        ET.SubElement(element, q(FLOWDESK, "user")).text = user


def _option(extensions: ET.Element, key: str, value: object) -> None:
    option = ET.SubElement(extensions, q(FLOWDESK, "option"), {"key": key})
    option.text = json.dumps(value, ensure_ascii=False, sort_keys=True)


def _write_flow(process: ET.Element, flow: Flow, element_id: str) -> None:
    element = ET.SubElement(
        process,
        q(MODEL, "sequenceFlow"),
        {"id": element_id, "sourceRef": flow.source, "targetRef": flow.target},
    )
    extra = {k: v for k, v in flow.to_dict().items() if k not in _FLOW_KEYS}
    if extra:
        extensions = ET.SubElement(element, q(MODEL, "extensionElements"))
        for key, value in extra.items():
            _option(extensions, key, value)
    if flow.condition is not None:
        element.set("name", flow.condition)
        expression = ET.SubElement(
            element,
            q(MODEL, "conditionExpression"),
            {q(XSI, "type"): "bpmn:tFormalExpression", "language": FLOWDESK_EXPRESSION},
        )
        expression.text = flow.condition


def _write_diagram(
    definitions: ET.Element,
    spec: ProcessSpec,
    process_id: str,
    diagram: Diagram,
    element_ids: Mapping[str, str],
    ids: _Ids,
) -> None:
    root = ET.SubElement(
        definitions, q(BPMNDI, "BPMNDiagram"), {"id": ids.fresh(f"Diagram_{process_id}")}
    )
    plane = ET.SubElement(
        root,
        q(BPMNDI, "BPMNPlane"),
        {"id": ids.fresh(f"Plane_{process_id}"), "bpmnElement": process_id},
    )
    for node in spec.nodes.values():
        x, y, width, height = diagram.shapes[node.id]
        attributes = {"id": ids.fresh(f"{node.id}_di"), "bpmnElement": node.id}
        if node.type == "exclusive_gateway":
            attributes["isMarkerVisible"] = "true"
        if node.type == "sub_process":
            attributes["isExpanded"] = "true"
        shape = ET.SubElement(plane, q(BPMNDI, "BPMNShape"), attributes)
        ET.SubElement(
            shape,
            q(DC, "Bounds"),
            {"x": _number(x), "y": _number(y), "width": _number(width), "height": _number(height)},
        )
    for flow in spec.flows:
        element_id = element_ids[flow.id]
        edge = ET.SubElement(
            plane,
            q(BPMNDI, "BPMNEdge"),
            {"id": ids.fresh(f"{element_id}_di"), "bpmnElement": element_id},
        )
        for px, py in diagram.edges[flow.id]:
            ET.SubElement(edge, q(DI, "waypoint"), {"x": _number(px), "y": _number(py)})


def _number(value: float) -> str:
    rounded = round(value, 2)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)
