"""The definition checks of sub-processes, boundary events and error ends (ADR 0022),
called by parse.py; each problem names the element and the key at fault."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .control import BOUNDARY_TYPES, END_TYPES, extra_links, scopes_of
from .spec import Flow, Node

Add = Callable[[str, str, str], None]
CONTROL_KEYS = frozenset({"scope", "attached_to", "interrupting", "error_code"})
MAX_ERROR_CODE = 100


def parse_control_fields(
    raw: Mapping[str, object], node_type: str | None, path: str, add: Add
) -> tuple[str, str | None, bool, str]:
    """A node's `scope`, `attached_to`, `interrupting` and `error_code`."""
    scope = ""
    if "scope" in raw:
        value = raw["scope"]
        if isinstance(value, str) and value.strip():
            scope = value
        else:
            add(
                f"{path}.scope", "wrong_type", "scope is the id of the sub_process the node lies in"
            )
    attached_to: str | None = None
    boundary = node_type in BOUNDARY_TYPES
    if "attached_to" in raw:
        value = raw["attached_to"]
        if node_type is not None and not boundary:
            add(f"{path}.attached_to", "attached_to_not_allowed", "Only boundary events attach")
        elif isinstance(value, str) and value.strip():
            attached_to = value
        else:
            add(f"{path}.attached_to", "wrong_type", "attached_to is the id of an activity")
    elif boundary:
        add(
            f"{path}.attached_to",
            "required",
            "A boundary event names the activity it is attached to",
        )
    interrupting = True
    if "interrupting" in raw:
        value = raw["interrupting"]
        if node_type is not None and not boundary:
            add(f"{path}.interrupting", "interrupting_not_allowed", "Only boundary events")
        elif not isinstance(value, bool):
            add(f"{path}.interrupting", "wrong_type", "true or false")
        elif node_type == "boundary_error" and not value:
            add(
                f"{path}.interrupting",
                "error_boundary_interrupts",
                "An error boundary event always interrupts the activity it is attached to",
            )
        else:
            interrupting = value
    error_code = ""
    if "error_code" in raw:
        value = raw["error_code"]
        if node_type is not None and node_type not in ("error_end", "boundary_error"):
            add(
                f"{path}.error_code",
                "error_code_not_allowed",
                "Only error end events and error boundary events have an error code",
            )
        elif not isinstance(value, str) or not value.strip() or len(value) > MAX_ERROR_CODE:
            add(
                f"{path}.error_code",
                "wrong_type",
                f"An error code is non-empty text of at most {MAX_ERROR_CODE} characters",
            )
        else:
            error_code = value
    elif node_type == "error_end":
        add(f"{path}.error_code", "required", "An error end event throws an error code")
    return scope, attached_to, interrupting, error_code


def check_control(
    nodes: Mapping[str, Node],
    node_paths: Mapping[str, str],
    flows: Sequence[Flow],
    flow_paths: Sequence[str],
    add: Add,
) -> None:
    """Scopes name sub-processes and do not nest in a circle; every sub-process has one
    start of its own; flows stay inside their scope; boundary events sit on a
    sub-process, have no incoming flow and one outgoing; no two catch the same code."""
    for node_id, node in nodes.items():
        path = node_paths[node_id]
        if node.scope:
            owner = nodes.get(node.scope)
            if owner is None or owner.type != "sub_process":
                add(
                    f"{path}.scope",
                    "unknown_scope",
                    f"No sub_process has the id '{node.scope}'",
                )
            elif node_id in scopes_of(nodes, node_id):
                add(
                    f"{path}.scope",
                    "scope_cycle",
                    "Sub-processes cannot lie inside each other in a circle",
                )
        if node.type in ("boundary_timer", "boundary_message") and node.attached_to is not None:
            target = nodes.get(node.attached_to)
            kind = "timer" if node.type == "boundary_timer" else "message"
            if target is None or target.type != "user_task":
                add(
                    f"{path}.attached_to",
                    "boundary_target",
                    f"A boundary {kind} is attached to a user task; '{node.attached_to}' is none",
                )
            elif node.scope != target.scope:
                add(
                    f"{path}.scope",
                    "boundary_scope",
                    f"A boundary event lies where its activity '{target.id}' lies "
                    f"(scope '{target.scope}')",
                )
        elif node.type in BOUNDARY_TYPES and node.attached_to is not None:
            target = nodes.get(node.attached_to)
            if target is None or target.type not in ("sub_process", "call_activity"):
                add(
                    f"{path}.attached_to",
                    "boundary_target",
                    f"An error boundary event is attached to a sub_process or a call "
                    f"activity; "
                    f"'{node.attached_to}' is none",
                )
            elif node.scope != target.scope:
                add(
                    f"{path}.scope",
                    "boundary_scope",
                    f"A boundary event lies where its activity '{target.id}' lies "
                    f"(scope '{target.scope}')",
                )
    starts: dict[str, list[str]] = {}
    for node in nodes.values():
        if node.type == "start" and node.scope and node.message is not None:
            add(
                f"{node_paths[node.id]}.message",
                "message_start_in_scope",
                "Only the process's own start is started by a message, not a sub-process's",
            )
        if node.type == "start" and node.scope:
            starts.setdefault(node.scope, []).append(node.id)
    for node_id, node in nodes.items():
        if node.type != "sub_process":
            continue
        own = starts.get(node_id, [])
        if len(own) != 1:
            add(
                node_paths[node_id],
                "sub_process_start",
                f"Sub-process '{node_id}' needs exactly one start node inside it "
                f"(scope: {node_id}); it has {len(own)}",
            )
        if not any(n.type in END_TYPES and n.scope == node_id for n in nodes.values()):
            add(
                node_paths[node_id],
                "sub_process_end",
                f"Sub-process '{node_id}' needs an end node inside it",
            )
    caught: dict[tuple[str, str], str] = {}
    for node_id, node in nodes.items():
        if node.type == "boundary_error" and node.attached_to is not None:
            key = (node.attached_to, node.error_code)
            if key in caught:
                add(
                    f"{node_paths[node_id]}.error_code",
                    "duplicate_boundary",
                    f"'{caught[key]}' already catches this error on '{node.attached_to}'",
                )
            caught.setdefault(key, node_id)
    for flow, flow_path in zip(flows, flow_paths, strict=True):
        source, target = nodes[flow.source], nodes[flow.target]
        if source.scope != target.scope:
            add(
                flow_path,
                "flow_crosses_scope",
                f"A flow stays inside one sub-process: '{flow.source}' lies in "
                f"'{source.scope or 'the process'}', '{flow.target}' in "
                f"'{target.scope or 'the process'}'",
            )
        if target.type in BOUNDARY_TYPES:
            add(
                f"{flow_path}.to",
                "boundary_has_incoming",
                "No flow leads into a boundary event; it starts when its activity's "
                "error is thrown",
            )
    for node_id, node in nodes.items():
        if node.type in BOUNDARY_TYPES:
            exits = [flow for flow in flows if flow.source == node_id]
            if len(exits) > 1:
                add(
                    node_paths[node_id],
                    "too_many_outgoing",
                    "A boundary event has exactly one outgoing flow; branch with a gateway",
                )


EVENT_TARGETS = frozenset({"timer_catch", "message_catch"})


def check_event_gateways(
    nodes: Mapping[str, Node],
    node_paths: Mapping[str, str],
    flows: Sequence[Flow],
    flow_paths: Sequence[str],
    add: Add,
) -> None:
    """An event-based gateway (ADR 0035) leads to two or more timer or message catch
    events, each reached by that flow only, so the first to happen can cancel the others."""
    gateways = [node_id for node_id, node in nodes.items() if node.type == "event_gateway"]
    if not gateways:
        return
    into: dict[str, int] = {}
    for flow in flows:
        into[flow.target] = into.get(flow.target, 0) + 1
    for gateway in gateways:
        exits = [(f, p) for f, p in zip(flows, flow_paths, strict=True) if f.source == gateway]
        if len(exits) < 2:
            add(
                node_paths[gateway],
                "event_gateway_exits",
                "An event-based gateway leads to two or more catch events (timer or message)",
            )
        for flow, flow_path in exits:
            target = nodes[flow.target]
            if target.type not in EVENT_TARGETS:
                add(
                    f"{flow_path}.to",
                    "event_gateway_target",
                    f"After an event-based gateway comes a timer or message catch event; "
                    f"'{target.id}' is a {target.type}",
                )
            elif into.get(target.id, 0) != 1:
                add(
                    f"{flow_path}.to",
                    "event_gateway_target_shared",
                    f"'{target.id}' is reached only from the event-based gateway, so it can "
                    "be cancelled when another event happens first",
                )


def control_closures(
    nodes: Mapping[str, Node], outgoing: Mapping[str, list[Flow]], start: str
) -> tuple[set[str], list[str], set[str]]:
    """(nodes reached from `start`, the final ends, nodes from which a final end is
    reached), over flows and the jumps of sub-processes and error ends. A final end is
    an end event with nowhere to go on to: at top level, or an error nothing catches."""
    links = extra_links(nodes)
    successors = {
        node_id: [*(flow.target for flow in outgoing[node_id]), *links.get(node_id, ())]
        for node_id in nodes
    }
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for node_id, targets in successors.items():
        for target in targets:
            predecessors[target].append(node_id)
    ends = [n for n, node in nodes.items() if node.type in END_TYPES and not successors[n]]
    return _reach([start], successors), ends, _reach(ends, predecessors)


def _reach(roots: list[str], links: Mapping[str, list[str]]) -> set[str]:
    seen = set(roots)
    todo = list(roots)
    while todo:
        for nxt in links[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
