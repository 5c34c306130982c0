"""Look-up tables for control flow beyond plain gateways (ADR 0022), built once per spec.

Inclusive joins (OR-joins), embedded sub-processes and error events need to know more
than a node's flows: which nodes can still send a token to an OR-join, which nodes lie
inside a sub-process, where an error thrown at an end event is caught. All of it is
computed here when the spec is built, so a step only does set look-ups.

Sub-processes are flattened: every node names the sub-process it lies in (`scope`, ""
at top level) and a sub-process has its own start node (with that scope) and ends. A
token entering a sub-process goes to its start; the sub-process is left when no token
rests inside it any more. The "effective" successors of a node are its flows' targets
plus those jumps: a sub-process enters at its start, an end inside a sub-process
leaves it, and an error end jumps to the boundary event that catches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec import Flow, Node

# node types handled by control_walk.move (the rest of Walk.advance never sees them)
CONTROL_TYPES = frozenset({"inclusive_gateway", "terminate_end", "sub_process", "error_end"})
# every kind of end event: no outgoing flow, consumes the token
END_TYPES = frozenset({"end", "terminate_end", "error_end"})
BOUNDARY_TYPES = frozenset({"boundary_error", "boundary_timer", "boundary_message"})
# where a token waits for a timer or a message (timers.py, ADR 0023)
WAIT_TYPES = frozenset({"timer_catch", "message_catch", "call_activity"})  # + ADR 0033


@dataclass(frozen=True, slots=True)
class ControlIndex:
    """`or_joins`: each inclusive gateway with several incoming flows -> the nodes from
    which a token can reach it without passing through it (a token resting at one of
    them keeps the join waiting). `starts`: sub-process -> its own start node.
    `inside`: sub-process -> every node within it, nested ones too. `catchers`: error
    end -> the boundary event that catches its error ("" when nothing does: the ticket
    ends rejected). `successors`: the effective successors of every node (see above).
    `flow_targets`: flow id -> target node, for join arrivals."""

    or_joins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    starts: Mapping[str, str] = field(default_factory=dict)
    inside: Mapping[str, frozenset[str]] = field(default_factory=dict)
    catchers: Mapping[str, str] = field(default_factory=dict)
    successors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    flow_targets: Mapping[str, str] = field(default_factory=dict)


EMPTY_CONTROL = ControlIndex()


def scopes_of(nodes: Mapping[str, Node], node_id: str) -> tuple[str, ...]:
    """The sub-processes around `node_id`, innermost first (a scope cycle, refused by
    parse, is cut where it repeats)."""
    found: list[str] = []
    scope = nodes[node_id].scope
    while scope and scope in nodes and scope not in found:
        found.append(scope)
        scope = nodes[scope].scope
    return tuple(found)


def catcher_of(nodes: Mapping[str, Node], error_end: str) -> str:
    """The boundary_error that catches what `error_end` throws: on the innermost
    sub-process around it with one for its code (or one for any code); "" if none."""
    code = nodes[error_end].error_code
    boundaries = [n for n in nodes.values() if n.type in BOUNDARY_TYPES]
    for scope in scopes_of(nodes, error_end):
        attached = [b for b in boundaries if b.attached_to == scope]
        for boundary in attached:
            if boundary.error_code == code:
                return boundary.id
        for boundary in attached:
            if not boundary.error_code:
                return boundary.id
    return ""


def extra_links(nodes: Mapping[str, Node]) -> dict[str, list[str]]:
    """The jumps that are no flow: sub-process -> its start, an end inside a
    sub-process -> the sub-process (whose own flows lead on), error end -> catcher, user
    task -> the boundary timers on it (a token resting at the task may leave by them)."""
    links: dict[str, list[str]] = {}
    for node in nodes.values():
        if (
            node.type in ("boundary_timer", "boundary_message")
            and node.attached_to
            and node.attached_to in nodes
        ):
            links.setdefault(node.attached_to, []).append(node.id)
        if (  # a failed child leaves its call activity by the error boundary (ADR 0033)
            node.type == "boundary_error"
            and node.attached_to
            and node.attached_to in nodes
            and nodes[node.attached_to].type == "call_activity"
        ):
            links.setdefault(node.attached_to, []).append(node.id)
        if node.type == "start" and node.scope in nodes:
            links.setdefault(node.scope, []).append(node.id)
        if node.type == "error_end":
            catcher = catcher_of(nodes, node.id)
            if catcher:
                links.setdefault(node.id, []).append(catcher)
                continue
        if node.type in END_TYPES and node.scope in nodes:
            links.setdefault(node.id, []).append(node.scope)
    return links


def control_index(
    nodes: Mapping[str, Node],
    outgoing: Mapping[str, list[Flow]],
    incoming: Mapping[str, list[Flow]],
) -> ControlIndex:
    types = {node.type for node in nodes.values()}
    if not types & (CONTROL_TYPES | BOUNDARY_TYPES):
        return EMPTY_CONTROL  # the common spec: nothing to compute
    links = extra_links(nodes)
    successors: dict[str, tuple[str, ...]] = {}
    for node_id in nodes:
        found = [flow.target for flow in outgoing[node_id]]
        successors[node_id] = tuple(dict.fromkeys([*found, *links.get(node_id, ())]))
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for node_id, targets in successors.items():
        for target in targets:
            predecessors[target].append(node_id)
    or_joins = {
        node_id: _upstream(node_id, predecessors)
        for node_id, node in nodes.items()
        if node.type == "inclusive_gateway" and len(incoming[node_id]) > 1
    }
    starts = {
        node.scope: node.id
        for node in nodes.values()
        if node.type == "start" and node.scope and node.scope in nodes
    }
    inside: dict[str, set[str]] = {
        node_id: set() for node_id, node in nodes.items() if node.type == "sub_process"
    }
    for node_id in nodes:
        for scope in scopes_of(nodes, node_id):
            if scope in inside:
                inside[scope].add(node_id)
    catchers = {
        node_id: catcher_of(nodes, node_id)
        for node_id, node in nodes.items()
        if node.type == "error_end"
    }
    return ControlIndex(
        or_joins=or_joins,
        starts=starts,
        inside={key: frozenset(value) for key, value in inside.items()},
        catchers=catchers,
        successors=successors,
        flow_targets={flow.id: flow.target for flows in outgoing.values() for flow in flows},
    )


def _upstream(join_id: str, predecessors: Mapping[str, list[str]]) -> frozenset[str]:
    """Every node with a path to `join_id` that does not pass through it."""
    seen: set[str] = set()
    todo = [join_id]
    while todo:
        for before in predecessors[todo.pop()]:
            if before != join_id and before not in seen:
                seen.add(before)
                todo.append(before)
    return frozenset(seen)
