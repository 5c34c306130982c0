"""BPMN 2.0 XML -> the plain process definition `parse_process` checks, plus warnings.

Pure: text in, data out. The reader is liberal in what it accepts (any prefix for any
namespace, collaborations and pools, lanes, annotations, diagrams or none, the
extension elements of Camunda 7/8, Flowable, Signavio, Trisotech...) and strict in
what it lets run: every element flowdesk cannot execute is refused with an error whose
path names the element id, all of them in one report, and everything read but not
used comes back as a warning naming the element. The definition it produces goes
through the same `parse_process` checks as an app's YAML, so there is one set of
rules; `BpmnImport.locate` rewrites those checks' paths (`process.nodes[3]`) to the
BPMN element ids (`bpmn[Task_Legal]`) the builder sees in the modeler.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

from ..parse import parse_process
from ..spec import ProcessSpec, default_flow_id
from . import conditions, events
from .assignees import consumed_attributes, vendor_notation
from .calls import read_vendor_call
from .diagram import Bounds, Diagram, Point, coordinate
from .ids import implicit_flow_element_id
from .loops import read_loop
from .namespaces import (
    BPMNDI,
    CAMUNDA,
    DC,
    DI,
    FLOWABLE,
    FLOWDESK,
    MODEL_URIS,
    TOOL_METADATA,
    XML,
    XSI,
    ZEEBE,
    q,
    split,
)
from .xml_input import parse_xml, refuse

# BPMN element -> flowdesk node type
NODE_TYPES: dict[str, str] = {
    "startEvent": "start",
    "endEvent": "end",
    "userTask": "user_task",
    "exclusiveGateway": "exclusive_gateway",
    "parallelGateway": "parallel_gateway",
    "inclusiveGateway": "inclusive_gateway",  # ADR 0022
    "subProcess": "sub_process",  # embedded: its children are read with its id as scope
    "eventBasedGateway": "event_gateway",  # ADR 0035: the first catch event after it wins
}
# Tasks with no engine behaviour of their own, read as user tasks (with a warning).
READ_AS_USER_TASK = {"task": "task (no type)", "manualTask": "manual task"}
# What flowdesk cannot run yet; each is refused by element id.
REFUSED: dict[str, str] = {
    "serviceTask": "a service task without a flowdesk webhook",  # with one: webhook_task
    "scriptTask": "a script task",
    "sendTask": "a send task",
    "receiveTask": "a receive task",
    "businessRuleTask": "a business rule task",
    "callActivity": "a call activity without calledElement",  # with one: call_activity
    "subProcess": "an event sub-process (triggeredByEvent)",
    "transaction": "a transaction sub-process",
    "adHocSubProcess": "an ad-hoc sub-process",
    "complexGateway": "a complex gateway",
    "eventBasedGateway": "an event-based gateway that starts the process or waits for all",
    "intermediateCatchEvent": "an intermediate catch event",
    "intermediateThrowEvent": "an intermediate throw event",
    "boundaryEvent": "a boundary event",
    "choreographyTask": "a choreography task",
    "subChoreography": "a sub-choreography",
    "callChoreography": "a call choreography",
    "implicitThrowEvent": "an implicit throw event",
}
# What a start event of another kind would need, and what flowdesk offers (ADR 0035).
_START_EVENTS: dict[str, str] = {
    kind: f"flowdesk starts a ticket when a person files it (a plain start event) or when a "
    f"message arrives (a message start event), not on a {kind} start event"
    for kind in ("signal", "conditional", "escalation", "error", "compensate", "referenced")
}
_START_EVENTS["timer"] = (
    "flowdesk does not file tickets on a schedule (a timer start event): file them from "
    "the scheduler through POST /api/v1/tickets, or send a message to a message start event"
)
# An element of the model namespace not listed above is refused if its name says it is
# a step (a newer or vendor-specific task, event or gateway), else ignored with a warning.
_FLOW_NODE_ENDINGS = ("Task", "Event", "Gateway", "Process", "Activity", "Choreography")
# Read without a word: layout and commentary with no behaviour.
QUIET = {
    "laneSet",
    "documentation",
    "textAnnotation",
    "association",
    "group",
    "extensionElements",
    "auditing",
    "monitoring",
    "incoming",
    "outgoing",
    "category",
}
# Data: flowdesk keeps data in the form, so these are ignored with a warning.
DATA = {
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "dataStore",
    "property",
    "ioSpecification",
    "dataInputAssociation",
    "dataOutputAssociation",
    "ioBinding",
}
LOOPS = {
    "multiInstanceLoopCharacteristics": "multi-instance",
    "standardLoopCharacteristics": "a loop",
}
_ASSIGNEE_ELEMENTS = {"humanPerformer", "performer", "potentialOwner", "resourceRole", "rendering"}
_SHORT_NAMES = {
    CAMUNDA: "camunda",
    ZEEBE: "zeebe",
    FLOWABLE: "flowable",
    "http://activiti.org/bpmn": "activiti",
    "http://www.signavio.com": "signavio",
    "http://www.trisotech.com/2015/triso/modeling": "triso",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f]")
_FLOWDESK_ELEMENTS = {"name", "assignee", "editable", "field", "approval", "option"}
# attributes of flowdesk:assignee and flowdesk:approval that hold whole numbers
_NUMBERS = {"level", "pass_count", "pass_percent"}
_FORBIDDEN_OPTIONS = {"id", "name", "editable", "fields", "from", "to"}
MAX_OPTION_CHARS = 10_000
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class BpmnImport:
    """A BPMN file read into flowdesk's plain process definition.

    `process` is what `parse_process` takes; `warnings` what was read but not used (or
    mapped from a vendor notation); `diagram` the drawn geometry of the imported
    nodes and flows; `nodes`/`flows` the BPMN element id of each entry of
    `process["nodes"]`/`process["flows"]`, in order, for `locate`.
    """

    process: dict[str, object]
    warnings: tuple[ErrorDetail, ...]
    diagram: Diagram
    process_id: str
    nodes: tuple[str, ...]
    flows: tuple[str, ...]

    def locate(self, error: ErrorDetail, prefix: str = "process") -> ErrorDetail:
        """`error` with a plain-definition path (`process.flows[2].condition`) rewritten
        to the BPMN element it came from (`bpmn[Flow_Large].conditionExpression`)."""
        return ErrorDetail(self.locate_path(error.path, prefix), error.code, error.message)

    def locate_path(self, path: str, prefix: str = "process") -> str:
        match = re.fullmatch(rf"{re.escape(prefix)}\.(nodes|flows)\[(\d+)\](.*)", path)
        if match is None:
            if path == prefix or path.startswith(f"{prefix}."):
                return f"bpmn[{self.process_id}]"
            return path
        kind, index, rest = match.group(1), int(match.group(2)), match.group(3)
        ids = self.nodes if kind == "nodes" else self.flows
        if index >= len(ids):
            return path
        return f"bpmn[{ids[index]}]{_bpmn_rest(rest)}"

    def spec(self) -> ProcessSpec:
        """The checked spec; DefinitionInvalid with BPMN paths if the process is not sound.

        Branch conditions are only type-checked where the form is known (the app layer).
        """
        try:
            return parse_process(self.process)
        except DefinitionInvalid as exc:
            raise DefinitionInvalid([self.locate(error) for error in exc.errors]) from None


def _bpmn_rest(rest: str) -> str:
    for plain, bpmn in (
        (".condition", ".conditionExpression"),
        (".from", ".sourceRef"),
        (".to", ".targetRef"),
    ):
        if rest == plain or rest.startswith(plain + "."):
            return bpmn + rest[len(plain) :]
    if rest in (".id", ".type"):
        return ""
    return rest


def read_bpmn(
    data: str | bytes, *, base: ProcessSpec | None = None, process_id: str | None = None
) -> BpmnImport:
    """Read a BPMN 2.0 file; raise DefinitionInvalid listing every element refused.

    `base` is the process the import replaces: a user task the file gives no assignee
    keeps the settings of the base's node with the same id (a modeler dropped the
    flowdesk extension), else takes the assignee of the one base user task with the
    same name, else the applicant's manager, each with a warning. `process_id` picks
    one process of several.
    """
    root = parse_xml(data)
    model, local = split(root.tag)
    if local != "definitions" or (model not in MODEL_URIS and model != ""):
        shown = f"{{{model}}}{local}" if model else local
        raise refuse(
            "not_bpmn",
            f"The root element is <{shown}>, not BPMN 2.0 <definitions> ({MODEL_URIS[0]})",
        )
    return _Reader(root, model, base).read(process_id)


@dataclass
class _Reader:
    root: Element
    model: str
    base: ProcessSpec | None
    errors: list[ErrorDetail] = field(default_factory=list)
    warnings: list[ErrorDetail] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.model == "":
            self.warn("bpmn", "no_namespace", f"The file has no namespace; read as {MODEL_URIS[0]}")
        self.language = self.root.get("expressionLanguage")

    def tag(self, local: str) -> str:
        return q(self.model, local) if self.model else local

    def error(self, path: str, code: str, message: str) -> None:
        self.errors.append(ErrorDetail(path, code, message))

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(ErrorDetail(path, code, message))

    # --- which process --------------------------------------------------------------

    def read(self, process_id: str | None) -> BpmnImport:
        process = self._choose(process_id)
        pid = process.get("id") or "process"
        self._vendor_warnings(process, f"bpmn[{pid}]", set())
        nodes, node_ids, flows, flow_ids = self._contents(process, pid)
        # process-wide settings (once_per_ticket); parse_process refuses any other
        settings = self._flowdesk_settings(process, f"bpmn[{pid}]")
        self._message_flows(set(node_ids))
        if self.errors:
            raise DefinitionInvalid(self.errors)
        # the diagram is keyed by spec ids, which differ for implicit flow ids (ids.py)
        spec_ids = {element: str(flow["id"]) for element, flow in zip(flow_ids, flows, strict=True)}
        drawn = self._diagram(pid)
        edges = {spec_ids[key]: points for key, points in drawn.edges.items() if key in spec_ids}
        diagram = Diagram(drawn.shapes, edges).restricted(node_ids, list(spec_ids.values()))
        return BpmnImport(
            process={"nodes": nodes, "flows": flows, **settings},
            warnings=tuple(self.warnings),
            diagram=diagram,
            process_id=pid,
            nodes=tuple(node_ids),
            flows=tuple(flow_ids),
        )

    def _participants(self) -> dict[str, str]:
        """processRef -> participant id, over every collaboration."""
        found: dict[str, str] = {}
        for collaboration in self.root.iter(self.tag("collaboration")):
            for participant in collaboration.iter(self.tag("participant")):
                ref = participant.get("processRef")
                if ref:
                    found[_local_ref(ref)] = participant.get("id", "")
        return found

    def _choose(self, process_id: str | None) -> Element:
        processes = self.root.findall(self.tag("process"))
        if not processes:
            raise refuse(
                "no_process",
                "The file has no <process>; flowdesk imports a process (a pool with its "
                "flow), not only a collaboration, choreography or diagram",
            )
        ids = [p.get("id", "") for p in processes]
        if process_id is not None:
            for process in processes:
                if process.get("id") == process_id:
                    return process
            raise refuse(
                "unknown_process",
                f"No process has the id '{process_id}'; the file has: {', '.join(ids)}",
            )
        candidates = [p for p in processes if any(self._is_flow_element(c) for c in p)]
        if not candidates:
            raise refuse("empty_process", "The file's process has no start event, task or flow")
        chosen: Element | None = None
        if len(candidates) == 1:
            chosen = candidates[0]
        else:
            executable = [p for p in candidates if p.get("isExecutable", "").strip() == "true"]
            named = self._participants()
            if len(executable) == 1:
                chosen = executable[0]
            else:
                pool = executable or candidates
                in_pools = [p for p in pool if p.get("id") in named]
                if len(in_pools) == 1:
                    chosen = in_pools[0]
        if chosen is None:
            raise refuse(
                "ambiguous_process",
                "The file has several processes and none is the only executable one: "
                f"{', '.join(p.get('id', '?') for p in candidates)}; name one "
                "(flowdesk app import --process ID)",
            )
        for other in candidates:
            if other is not chosen:
                self.warn(
                    f"bpmn[{other.get('id', '?')}]",
                    "process_ignored",
                    f"Only process '{chosen.get('id')}' is imported; this one is ignored",
                )
        return chosen

    def _is_flow_element(self, child: Element) -> bool:
        if not isinstance(child.tag, str):
            return False
        uri, local = split(child.tag)
        return uri == self.model and (
            local in NODE_TYPES
            or local in READ_AS_USER_TASK
            or local in REFUSED
            or local == "sequenceFlow"
        )

    def _message_flows(self, node_ids: set[str]) -> None:
        for flow in self.root.iter(self.tag("messageFlow")):
            ends = {_local_ref(flow.get("sourceRef", "")), _local_ref(flow.get("targetRef", ""))}
            if ends & node_ids:
                self.warn(
                    f"bpmn[{flow.get('id', '?')}]",
                    "message_flow_ignored",
                    "Message flows between pools are not run by flowdesk; ignored",
                )

    # --- the process's elements -----------------------------------------------------

    def _contents(
        self, process: Element, pid: str
    ) -> tuple[list[dict[str, object]], list[str], list[dict[str, object]], list[str]]:
        nodes: list[dict[str, object]] = []
        node_ids: list[str] = []
        flow_elements: list[Element] = []
        refused: set[str] = set()
        data_ids: list[str] = []
        scopes: dict[str, str] = {}
        for position, child, scope in events.walk_elements(process, self.model):
            if not isinstance(child.tag, str):
                continue  # a comment or processing instruction
            uri, local = split(child.tag)
            element_id = child.get("id") or ""
            path = f"bpmn[{element_id}]" if element_id else f"bpmn[{pid}]/{local}[{position}]"
            if scope and element_id:  # inside an embedded sub-process (ADR 0022)
                scopes[element_id] = scope
            if uri != self.model:
                self.warn(
                    path,
                    "vendor_extension_ignored",
                    f"Ignored (flowdesk does not use it): {_show(child.tag)}",
                )
            elif local == "sequenceFlow":
                flow_elements.append(child)
            elif local == "intermediateThrowEvent" and not _definitions(child):
                # a "none" intermediate event (a milestone) does nothing when a token
                # passes: the same as a gateway with one way in and one way out
                if not element_id:
                    self.error(path, "missing_id", f"A <{local}> needs an id")
                    continue
                self.warn(
                    path,
                    "read_as_pass_through",
                    "An intermediate event without a definition does nothing; read as a "
                    "pass-through (exported as an exclusive gateway)",
                )
                passing: dict[str, object] = {"id": element_id, "type": "exclusive_gateway"}
                settings = self._flowdesk_settings(child, path)
                given = settings.pop("name", {})
                names = self._names(child, given if isinstance(given, dict) else {})
                if names:
                    passing["name"] = names
                passing.update(settings)
                self._vendor_warnings(child, path, set())
                nodes.append(passing)
                node_ids.append(element_id)
            elif _is_wait(child, local) and element_id:  # timers and messages (ADR 0023)
                wait = self._wait_node(child, local, path)
                if wait is None:
                    refused.add(element_id)
                else:
                    nodes.append(wait)
                    node_ids.append(element_id)
            elif local == "boundaryEvent" and events.is_error_boundary(child) and element_id:
                boundary = events.boundary_node(self.root, self.model, child)
                names = self._names(child, {})
                if names:
                    boundary["name"] = names
                self._vendor_warnings(child, path, {"attachedToRef", "cancelActivity"})
                nodes.append(boundary)
                node_ids.append(element_id)
            elif (
                local in NODE_TYPES
                or local in READ_AS_USER_TASK
                or _cc_send_task(child, local)
                or _webhook_task(child, local)
            ) and (events.refusal(child, local) is None):
                if not element_id:
                    self.error(path, "missing_id", f"A <{local}> needs an id")
                    continue
                node = self._node(child, local, path)
                if node is None:
                    refused.add(element_id)
                else:
                    nodes.append(node)
                    node_ids.append(element_id)
            elif local == "callActivity" and element_id and _called(child):
                nodes.append(self._call_node(child, path))  # ADR 0033
                node_ids.append(element_id)
            elif local in REFUSED:
                refused.add(element_id)
                self.error(
                    path,
                    "unsupported_element",
                    f"flowdesk cannot run {REFUSED[local]}{_definitions(child)} yet "
                    f"(<{local}>{_named(child)})",
                )
            elif local in DATA:
                data_ids.append(element_id or local)
            elif local.endswith(_FLOW_NODE_ENDINGS):
                refused.add(element_id)
                self.error(
                    path, "unsupported_element", f"flowdesk cannot run a <{local}>{_named(child)}"
                )
            elif local not in QUIET:
                # a BPMN element that is no step of the flow (a process-level performer,
                # correlation subscription, ...): it cannot change how a ticket runs here
                self.warn(path, "element_ignored", f"Ignored (flowdesk does not use it): <{local}>")
        for node in nodes:
            if node["id"] in scopes:
                node["scope"] = scopes[str(node["id"])]
        if data_ids:
            self.warn(
                f"bpmn[{pid}]",
                "data_ignored",
                "Data objects and stores are ignored (flowdesk keeps data in the app's "
                f"form): {', '.join(data_ids)}",
            )
        defaults = self._defaults(process)
        types = dict(zip(node_ids, (str(node["type"]) for node in nodes), strict=True))
        flows: list[dict[str, object]] = []
        flow_ids: list[str] = []
        for child in flow_elements:
            flow = self._flow(child, refused, defaults, types, pid)
            if flow is not None:
                flows.append(flow)
                flow_ids.append(child.get("id", ""))
        self._implicit_defaults(flows, flow_ids, types)
        return nodes, node_ids, flows, flow_ids

    def _implicit_defaults(
        self, flows: list[dict[str, object]], flow_ids: list[str], types: Mapping[str, str]
    ) -> None:
        """An exclusive gateway's one exit without a condition, last in the file, is its
        default flow: engines that take the first exit whose condition holds (Camunda,
        Flowable) count a missing condition as true, so there it is taken exactly when
        no earlier condition holds. Anywhere else it stays an error (condition_required)."""
        exits: dict[str, list[int]] = {}
        for i, flow in enumerate(flows):
            if types.get(str(flow["from"])) == "exclusive_gateway":
                exits.setdefault(str(flow["from"]), []).append(i)
        for indexes in exits.values():
            if len(indexes) < 2 or any(flows[i].get("default") for i in indexes):
                continue
            bare = [i for i in indexes if "condition" not in flows[i]]
            if bare == [indexes[-1]]:
                flows[bare[0]]["default"] = True
                self.warn(
                    f"bpmn[{flow_ids[bare[0]]}]",
                    "read_as_default",
                    "The gateway's last exit has no condition: read as its default flow "
                    "(taken when no other condition holds)",
                )

    def _node(self, element: Element, local: str, path: str) -> dict[str, object] | None:
        element_id = element.get("id", "")
        refused = False
        ends_as = events.end_type(element) if local == "endEvent" else None  # ADR 0022
        if local in ("startEvent", "endEvent") and ends_as is None:
            for child in element:
                child_local = split(child.tag)[1] if isinstance(child.tag, str) else ""
                if child_local.endswith("EventDefinition") or child_local == "eventDefinitionRef":
                    kind = child_local.removesuffix("EventDefinition") or "referenced"
                    event = "start" if local == "startEvent" else "end"
                    self.error(
                        path,
                        "unsupported_event",
                        _START_EVENTS.get(
                            kind, f"flowdesk runs only plain start events, not a {kind} one"
                        )
                        if event == "start"
                        else f"flowdesk runs only plain {event} events, not a {kind} {event} event",
                    )
                    refused = True
        if local == "eventBasedGateway" and (
            element.get("instantiate", "").strip() == "true"
            or element.get("eventGatewayType", "").strip() == "Parallel"
        ):  # ADR 0035: only the gateway that waits for the first of its events
            self.error(
                path,
                "unsupported_element",
                "flowdesk runs an event-based gateway that waits inside a ticket for the "
                "first of its events, not one that starts the process (instantiate) or "
                "waits for all of them (eventGatewayType Parallel)",
            )
            refused = True
        if element.get("isForCompensation", "").strip() == "true":
            self.error(path, "unsupported_element", "flowdesk cannot run compensation")
            refused = True
        data = False
        loop: Element | None = None
        for child in element:
            if not isinstance(child.tag, str):
                continue
            uri, child_local = split(child.tag)
            if uri != self.model:
                continue
            if child_local == "multiInstanceLoopCharacteristics" and local == "userTask":
                loop = child
            elif child_local in LOOPS:
                self.error(
                    path,
                    "unsupported_loop",
                    f"flowdesk cannot run {LOOPS[child_local]} tasks yet (<{child_local}>)",
                )
                refused = True
            elif child_local in DATA:
                data = True
        if data:
            self.warn(path, "data_ignored", "Data inputs and outputs are ignored")
        settings = self._flowdesk_settings(element, path)
        if loop is not None and "approval" not in settings:
            reading = read_loop(loop, self.model)
            if reading.approval is None:
                self.error(
                    path,
                    "unsupported_loop",
                    f"flowdesk cannot run this multi-instance task ({reading.explanation}); "
                    "set the approval mode with flowdesk:approval",
                )
                refused = True
            else:
                settings["approval"] = reading.approval
                self._vendor_warnings(loop, path, set())  # camunda:collection and the like
                self.warn(
                    path,
                    "multi_instance_mapped",
                    f"Multi-instance read as {reading.explanation}; the approvers are the "
                    "people the assignee rule names",
                )
        if refused:
            return None
        if local == "serviceTask":  # only webhook service tasks get here (_webhook_task)
            node_type = "service_task"
        else:
            node_type = ends_as or NODE_TYPES.get(local, "user_task")
        if local in READ_AS_USER_TASK and "type" not in settings:
            self.warn(
                path,
                "read_as_user_task",
                f"A {READ_AS_USER_TASK[local]} is read as a user task (an approval step)",
            )
        node: dict[str, object] = {"id": element_id, "type": node_type}
        if ends_as == "error_end" and events.error_code(self.root, self.model, element):
            node["error_code"] = events.error_code(self.root, self.model, element)
        given = settings.pop("name", {})
        names = self._names(element, given if isinstance(given, dict) else {})
        if names:
            node["name"] = names
        explicit = "assignee" in settings
        node.update(settings)
        if node.get("type") == "user_task" and not explicit:
            node.update(self._fallback_assignee(element, path, names))
        # the assignee notations are read (mapped or warned about) on user tasks only
        consumed = consumed_attributes() if node.get("type") == "user_task" else set()
        self._vendor_warnings(element, path, consumed)
        return node

    def _call_node(self, element: Element, path: str) -> dict[str, object]:
        """A call activity (ADR 0033): `calledElement` (or Zeebe's calledElement processId)
        names the app by its key; the version and the mappings in and out come from
        <flowdesk:option key="call">{"version": …, "inputs": {...}, "outputs": {...}}
        </flowdesk:option>, else from Camunda's and Zeebe's own notations (bpmn/calls.py)."""
        settings = self._flowdesk_settings(element, path)
        given = settings.pop("name", {})
        names = self._names(element, given if isinstance(given, dict) else {})
        option = settings.pop("call", None)
        call: dict[str, object] = dict(option) if isinstance(option, dict) else {}
        extensions = element.find(self.tag("extensionElements"))
        vendor = read_vendor_call(element, extensions, path, self.error, self.warn)
        call["app"] = (element.get("calledElement") or "").strip() or vendor.app
        for key, value in (
            ("version", vendor.version),
            ("inputs", vendor.inputs),
            ("outputs", vendor.outputs),
        ):
            if value and key not in call:
                call[key] = value
        loop = element.find(self.tag("multiInstanceLoopCharacteristics"))
        if loop is not None and "each" not in call:  # never dropped in silence (ADR 0035)
            self.error(
                path,
                "unsupported_loop",
                "A multi-instance call activity names its list and item in flowdesk's "
                'option: <flowdesk:option key="call">{"each": "<list field>", "as": '
                '"<child field>", "order": "parallel|sequential"}</flowdesk:option>',
            )
        elif loop is not None:
            self._vendor_warnings(loop, path, set())  # camunda:collection and the like
        node: dict[str, object] = {"id": element.get("id", ""), "type": "call_activity"}
        if names:
            node["name"] = names
        node["call"] = call
        node.update(settings)
        self._vendor_warnings(element, path, {"calledElement", *vendor.consumed})
        return node

    def _wait_node(self, element: Element, local: str, path: str) -> dict[str, object] | None:
        """A boundary timer, a timer or message catch event, or a receive task (ADR 0023).
        What BPMN cannot say (a timer's action, working time, a message's correlation
        field) comes from <flowdesk:option key="timer"> / key="message"; a flowdesk
        export writes the whole timer there, which then wins over the definition."""
        settings = self._flowdesk_settings(element, path)
        given = settings.pop("name", {})
        names = self._names(element, given if isinstance(given, dict) else {})
        node: dict[str, object] = {"id": element.get("id", "")}
        boundary = local == "boundaryEvent"
        if boundary:
            node["attached_to"] = (element.get("attachedToRef") or "").strip().rpartition(":")[2]
            if element.get("cancelActivity", "").strip() == "false":
                node["interrupting"] = False
        if local != "receiveTask" and events.is_timer(element):
            node["type"] = "boundary_timer" if boundary else "timer_catch"
            option = settings.pop("timer", None)
            timer, problem = events.read_timer(element)
            if isinstance(option, dict) and ("after" in option or "at" in option):
                timer = option
            elif problem:
                self.error(path, "unsupported_timer", problem)
                return None
            elif isinstance(option, dict):
                timer = {**option, **timer}
            node["timer"] = timer
        else:  # a message catch event, a receive task, a message boundary (ADR 0035)
            node["type"] = (
                "start"
                if local == "startEvent"
                else "boundary_message"
                if boundary
                else "message_catch"
            )
            option = settings.pop("message", None)
            ref = events.message_ref(element, local)
            name = events.message_name(self.root, self.model, ref) if ref else ""
            message: dict[str, object] = {"name": name} if name else {}
            if isinstance(option, dict):
                message.update(option)
            if "name" not in message:
                self.error(
                    path,
                    "unsupported_message",
                    "A message event or receive task names the <message> it waits for (messageRef)",
                )
                return None
            if "key" not in message and ref:  # Camunda 8: the message's zeebe:subscription
                found = events.zeebe_correlation(self.root, self.model, ref)
                if found:
                    message["key"] = found
                    self.warn(
                        path,
                        "message_key_from_zeebe",
                        f"Correlated by form field '{found}' (zeebe:subscription correlationKey)",
                    )
            if "key" not in message and node["type"] != "start":
                self.error(
                    path,
                    "message_key_required",
                    "Say which form field's value the message's key must equal: "
                    '<flowdesk:option key="message">{"key": "order_no"}</flowdesk:option>',
                )
                return None
            node["message"] = message
        if names:
            node["name"] = names
        node.update(settings)
        self._vendor_warnings(element, path, {"attachedToRef", "cancelActivity", "messageRef"})
        return node

    def _names(self, element: Element, given: Mapping[str, str]) -> dict[str, str]:
        """Locale -> text: the flowdesk:name elements, and the BPMN name attribute for
        its language (Chinese script -> zh, else en) unless it repeats one of them."""
        names = dict(given)
        label = " ".join((element.get("name") or "").split())
        if any(len(text) > MAX_NAME_CHARS for text in (label, *names.values())):
            self.error(
                f"bpmn[{element.get('id', '')}].name",
                "too_long",
                f"A name has at most {MAX_NAME_CHARS} characters",
            )
            return {}
        if label and label not in {" ".join(text.split()) for text in names.values()}:
            names["zh" if _CJK.search(label) else "en"] = label
        return names

    def _flowdesk_settings(self, element: Element, path: str) -> dict[str, object]:
        """The flowdesk: extension elements of `element`, as plain-definition keys."""
        settings: dict[str, object] = {}
        for name in element.attrib:
            if split(name)[0] == FLOWDESK:
                self.error(
                    f"{path}.{split(name)[1]}",
                    "unknown_extension",
                    "flowdesk settings are elements inside <extensionElements>, "
                    "not attributes (docs/bpmn.md)",
                )
        extensions = element.find(self.tag("extensionElements"))
        if extensions is None:
            return settings
        names: dict[str, str] = {}
        editable: list[str] = []
        access: dict[str, str] = {}  # <flowdesk:field key="amount" access="hidden"/>
        for child in extensions:
            if not isinstance(child.tag, str):
                continue
            uri, local = split(child.tag)
            if uri != FLOWDESK:
                continue
            if local not in _FLOWDESK_ELEMENTS:
                self.error(
                    f"{path}.{local}",
                    "unknown_extension",
                    f"Unknown flowdesk setting <flowdesk:{local}>; expected one of: "
                    f"{', '.join(sorted(_FLOWDESK_ELEMENTS))}",
                )
            elif local == "name":
                lang = child.get("lang") or child.get(q(XML, "lang")) or ""
                # verbatim but for the ends (a hand-written file indents it)
                names[lang.strip().lower()] = "".join(child.itertext()).strip()
            elif local in ("assignee", "approval"):
                values: dict[str, object] = {
                    key: int(value.strip())
                    if key in _NUMBERS and value.strip().isdigit() and len(value.strip()) < 6
                    else value
                    for key, value in child.attrib.items()
                }
                users = [
                    "".join(user.itertext()).strip() for user in child.findall(q(FLOWDESK, "user"))
                ]
                if users:
                    values["users"] = users
                settings[local] = values
            elif local == "editable":
                editable.append(child.get("field", ""))
            elif local == "field":
                access[child.get("key", "")] = child.get("access", "")
            else:
                self._option(child, path, settings)
        if names:
            settings["name"] = names
        if editable:
            settings["editable"] = editable
        if access:
            settings["fields"] = access
        return settings

    def _option(self, child: Element, path: str, settings: dict[str, object]) -> None:
        """`<flowdesk:option key="mode">"all"</flowdesk:option>`: a setting as JSON."""
        key = (child.get("key") or "").strip()
        text = "".join(child.itertext()).strip()
        where = f"{path}.{key or 'option'}"
        if not key or key in _FORBIDDEN_OPTIONS:
            self.error(
                where,
                "invalid_option",
                "A flowdesk:option needs a key other than "
                f"{', '.join(sorted(_FORBIDDEN_OPTIONS))} (those have their own elements)",
            )
            return
        if len(text) > MAX_OPTION_CHARS:
            self.error(where, "invalid_option", f"At most {MAX_OPTION_CHARS:,} characters")
            return
        try:
            settings[key] = json.loads(text)
        except (ValueError, RecursionError):
            self.error(where, "invalid_option", 'The option\'s value must be JSON, e.g. "all"')

    def _fallback_assignee(
        self, element: Element, path: str, names: Mapping[str, str]
    ) -> dict[str, object]:
        """The assignee of a user task with no flowdesk:assignee (see `read_bpmn`)."""
        notation = vendor_notation(element, self.model)
        if notation is not None and notation.rule is not None:
            self.warn(
                path,
                "vendor_assignee_mapped",
                f"{notation.described} read as flowdesk assignee "
                f"{json.dumps(notation.rule, ensure_ascii=False)}",
            )
            return {"assignee": notation.rule}
        if notation is not None:
            self.warn(
                path,
                "vendor_assignee_ignored",
                f"{notation.described} cannot be mapped to one flowdesk assignee rule "
                "(an expression, or several names); set flowdesk:assignee",
            )
        element_id = element.get("id", "")
        if self.base is not None:
            kept = self.base.nodes.get(element_id)
            if kept is not None and kept.type == "user_task":
                settings = {
                    key: value
                    for key, value in kept.to_dict().items()
                    if key not in ("id", "type", "name")
                }
                self.warn(
                    path,
                    "assignee_from_current_version",
                    "No flowdesk:assignee; the settings of the current version's node "
                    f"'{element_id}' are kept",
                )
                return settings
            labels = {text.casefold() for text in names.values()}
            same_name = [
                node
                for node in self.base.user_tasks()
                if labels & {text.casefold() for text in node.name.values()}
            ]
            if len(same_name) == 1 and same_name[0].assignee is not None:
                self.warn(
                    path,
                    "assignee_from_current_version",
                    "No flowdesk:assignee; the assignee of the current version's task "
                    f"'{same_name[0].id}' (same name) is used",
                )
                return {"assignee": same_name[0].assignee.to_dict()}
        self.warn(
            path,
            "default_assignee",
            "No assignee in the file; the applicant's manager is assigned "
            "(set flowdesk:assignee to choose another)",
        )
        return {"assignee": {"kind": "applicant_manager"}}

    def _vendor_warnings(self, element: Element, path: str, consumed: set[str]) -> None:
        ignored: list[str] = []
        for name in element.attrib:
            uri = split(name)[0]
            if uri in ("", FLOWDESK, XSI, XML, *TOOL_METADATA) or name in consumed:
                continue
            ignored.append(_show(name))
        extensions = element.find(self.tag("extensionElements"))
        if extensions is not None:
            for child in extensions:
                if not isinstance(child.tag, str) or split(child.tag)[0] == FLOWDESK:
                    continue
                if child.tag == q(ZEEBE, "assignmentDefinition") and consumed:
                    continue
                if child.tag in consumed:  # read by the caller (a call's mappings)
                    continue
                ignored.append(_show(child.tag))
        if ignored:
            self.warn(
                path,
                "vendor_extension_ignored",
                f"Ignored (flowdesk does not use them): {', '.join(dict.fromkeys(ignored))}",
            )

    # --- sequence flows -------------------------------------------------------------

    def _defaults(self, process: Element) -> dict[str, str]:
        """default flow id -> its gateway's id."""
        found: dict[str, str] = {}
        for _, child, _ in events.walk_elements(process, self.model):
            if isinstance(child.tag, str) and child.get("default"):
                found[_local_ref(child.get("default", ""))] = child.get("id", "")
        return found

    def _flow(
        self,
        element: Element,
        refused: set[str],
        defaults: Mapping[str, str],
        types: Mapping[str, str],
        pid: str,
    ) -> dict[str, object] | None:
        flow_id = element.get("id") or ""
        path = f"bpmn[{flow_id}]" if flow_id else f"bpmn[{pid}]/sequenceFlow"
        if not flow_id:
            self.error(path, "missing_id", "A <sequenceFlow> needs an id")
            return None
        source = _local_ref(element.get("sourceRef") or "")
        target = _local_ref(element.get("targetRef") or "")
        if source in refused or target in refused:
            return None  # the refused element's own error says enough
        flow: dict[str, object] = {"id": flow_id, "from": source, "to": target}
        if flow_id == implicit_flow_element_id(source, target):
            flow["id"] = default_flow_id(source, target)
        settings = self._flowdesk_settings(element, path)
        settings.pop("name", None)  # flows carry no names in flowdesk
        condition = self._condition(element, path)
        source_type = types.get(source)
        is_default = defaults.get(flow_id) == source and source != ""
        if condition is not None and is_default:
            self.warn(
                f"{path}.conditionExpression",
                "condition_dropped",
                "The default flow's condition is never evaluated (BPMN); ignored",
            )
            condition = None
        if condition is not None and source_type == "parallel_gateway":
            self.warn(
                f"{path}.conditionExpression",
                "condition_dropped",
                "A parallel gateway takes every flow; the condition is ignored (as in BPMN)",
            )
            condition = None
        if condition is not None:
            flow["condition"] = condition
        if is_default and source_type in ("exclusive_gateway", "inclusive_gateway"):
            flow["default"] = True
        flow.update(settings)
        self._vendor_warnings(element, path, set())
        return flow

    def _condition(self, element: Element, path: str) -> str | None:
        expression = element.find(self.tag("conditionExpression"))
        if expression is None:
            return None
        where = f"{path}.conditionExpression"
        resource = next(
            (v for k, v in expression.attrib.items() if split(k)[1] == "resource"), None
        )
        if resource is not None:
            self.error(
                where,
                "unsupported_condition",
                f"A condition read from an external script ({resource!r}) cannot run",
            )
            return None
        language = expression.get("language") or self.language
        converted = conditions.convert("".join(expression.itertext()))
        if converted.text is None:
            return None  # an empty condition is no condition (bpmn.io writes them)
        if not conditions.known_language(language):
            self.warn(
                where,
                "condition_language",
                f"A condition in {language!r} is read as a flowdesk expression",
            )
        elif converted.note:
            self.warn(where, "condition_dialect", converted.note)
        return converted.text

    # --- diagram ----------------------------------------------------------------------

    def _diagram(self, pid: str) -> Diagram:
        diagrams = self.root.findall(q(BPMNDI, "BPMNDiagram"))
        owners = {pid}
        for collaboration in self.root.iter(self.tag("collaboration")):
            if any(
                _local_ref(p.get("processRef", "")) == pid
                for p in collaboration.iter(self.tag("participant"))
            ):
                owners.add(collaboration.get("id", ""))
        chosen = None
        for candidate in diagrams:
            plane = candidate.find(q(BPMNDI, "BPMNPlane"))
            if plane is not None and _local_ref(plane.get("bpmnElement", "")) in owners:
                chosen = plane
                break
        if chosen is None and len(diagrams) == 1:
            chosen = diagrams[0].find(q(BPMNDI, "BPMNPlane"))
        if chosen is None:
            return Diagram()
        shapes: dict[str, Bounds] = {}
        edges: dict[str, tuple[Point, ...]] = {}
        for shape in chosen.iter(q(BPMNDI, "BPMNShape")):
            bounds = shape.find(q(DC, "Bounds"))
            if bounds is None:
                continue
            numbers = [coordinate(bounds.get(key)) for key in ("x", "y", "width", "height")]
            if all(number is not None for number in numbers):
                x, y, w, h = (float(n or 0) for n in numbers)
                shapes[_local_ref(shape.get("bpmnElement", ""))] = (x, y, w, h)
        for edge in chosen.iter(q(BPMNDI, "BPMNEdge")):
            points: list[Point] = []
            for waypoint in edge.findall(q(DI, "waypoint")):
                x_value, y_value = coordinate(waypoint.get("x")), coordinate(waypoint.get("y"))
                if x_value is not None and y_value is not None:
                    points.append((x_value, y_value))
            if 2 <= len(points) <= 100:
                edges[_local_ref(edge.get("bpmnElement", ""))] = tuple(points)
        return Diagram(shapes, edges)


def _is_wait(element: Element, local: str) -> bool:
    """A timer or message event flowdesk runs, or a receive task (ADR 0023, 0035)."""
    if local == "boundaryEvent":
        return events.is_timer(element) or events.is_message(element)
    if local == "intermediateCatchEvent":
        return events.is_timer(element) or events.is_message(element)
    if local == "startEvent":  # a message start event files a ticket (ADR 0035)
        return events.is_message(element)
    return local == "receiveTask"


def _called(element: Element) -> bool:
    """A call activity names what it calls: calledElement, or Zeebe's calledElement."""
    if (element.get("calledElement") or "").strip():
        return True
    return any(True for _ in element.iter(q(ZEEBE, "calledElement")))


def _cc_send_task(element: Element, local: str) -> bool:
    """A <sendTask> that flowdesk wrote for a CC node (抄送): its flowdesk:option type
    is "cc" (docs/bpmn.md). Any other send task is refused (flowdesk sends no messages)."""
    if local != "sendTask":
        return False
    for option in element.iter(q(FLOWDESK, "option")):
        if (option.get("key") or "").strip() == "type":
            return "".join(option.itertext()).strip() == '"cc"'
    return False


def _webhook_task(element: Element, local: str) -> bool:
    """A <serviceTask> calling a webhook: its flowdesk:option webhook says what it calls
    (docs/bpmn.md, ADR 0024). Any other service task (a Java class, a Zeebe job type) is
    refused: flowdesk runs no code of its own for it."""
    if local != "serviceTask":
        return False
    return any(
        (option.get("key") or "").strip() == "webhook"
        for option in element.iter(q(FLOWDESK, "option"))
    )


def _definitions(element: Element) -> str:
    """' (timer)' for an event with a timer definition, '' for none."""
    kinds = [
        split(child.tag)[1].removesuffix("EventDefinition")
        for child in element
        if isinstance(child.tag, str) and split(child.tag)[1].endswith("EventDefinition")
    ]
    return f" ({', '.join(kinds)})" if kinds else ""


def _named(element: Element) -> str:
    name = " ".join((element.get("name") or "").split())
    return f" '{name[:60]}'" if name else ""


def _local_ref(ref: str) -> str:
    """An id reference without a namespace prefix some tools put on it (`tns:Task_1`)."""
    ref = ref.strip()
    return ref.rpartition(":")[2] if ":" in ref else ref


def _show(name: str) -> str:
    uri, local = split(name)
    if not uri:
        return local
    short = _SHORT_NAMES.get(uri)
    return f"{short}:{local}" if short else f"{{{uri}}}{local}"
