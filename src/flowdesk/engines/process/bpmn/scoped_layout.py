"""A layout for processes with embedded sub-processes (ADR 0022): each sub-process is
drawn expanded, as a box holding its own nodes laid out left to right, and sized to
them; a boundary event sits on the lower edge of its sub-process.

Used by `diagram.layout` when a process has sub-processes and some node was never
drawn: mixing a builder's coordinates with boxes computed around them would overlap,
so then every node is placed afresh (a file drawn completely keeps all it drew).
"""

from __future__ import annotations

from ..control import BOUNDARY_TYPES
from ..spec import ProcessSpec
from .diagram import ORIGIN, SIZES, TASK_SIZE, Bounds, Diagram
from .diagram import _elbow as elbow

GAP_X = 70.0
GAP_Y = 50.0
PAD = 30.0  # around a sub-process's contents
EVENT = 36.0


def scoped_layout(spec: ProcessSpec) -> Diagram:
    members: dict[str, list[str]] = {}
    for node_id, node in spec.nodes.items():
        if node.type not in BOUNDARY_TYPES:
            members.setdefault(node.scope, []).append(node_id)
    sizes: dict[str, tuple[float, float]] = {}
    relative: dict[str, tuple[float, float]] = {}  # top-left within the scope's contents
    for scope in _inner_first(spec, members):
        width, height = _arrange(spec, scope, members.get(scope, []), sizes, relative)
        if scope:
            sizes[scope] = (width + 2 * PAD, height + 2 * PAD)
    shapes: dict[str, Bounds] = {}
    origin = (ORIGIN[0] - TASK_SIZE[0] / 2, ORIGIN[1] - TASK_SIZE[1] / 2)
    _place(spec, "", origin, members, sizes, relative, shapes)
    for node_id, node in spec.nodes.items():
        if node.type in BOUNDARY_TYPES:
            x, y, w, h = shapes.get(node.attached_to or "", (*origin, *TASK_SIZE))
            shapes[node_id] = (x + w * 0.7 - EVENT / 2, y + h - EVENT / 2, EVENT, EVENT)
    shapes = {node_id: shapes[node_id] for node_id in spec.nodes}
    edges = {flow.id: elbow(shapes[flow.source], shapes[flow.target]) for flow in spec.flows}
    return Diagram(shapes, edges)


def _inner_first(spec: ProcessSpec, members: dict[str, list[str]]) -> list[str]:
    def depth(scope: str) -> int:
        found, seen = 0, set()
        while scope and scope not in seen:
            seen.add(scope)
            found += 1
            scope = spec.nodes[scope].scope
        return found

    return sorted(set(members) | {""}, key=depth, reverse=True)


def _arrange(
    spec: ProcessSpec,
    scope: str,
    ids: list[str],
    sizes: dict[str, tuple[float, float]],
    relative: dict[str, tuple[float, float]],
) -> tuple[float, float]:
    """Place `ids` in columns by their longest flow distance from the scope's first
    nodes; returns the contents' width and height."""
    inside = set(ids)
    layer = dict.fromkeys(ids, 0)
    # a boundary event's flows leave from its activity, for the layering
    links: dict[str, list[str]] = {n: [f.target for f in spec.outgoing(n)] for n in ids}
    for node in spec.nodes.values():
        if node.type in BOUNDARY_TYPES and node.attached_to in links:
            links[node.attached_to].extend(f.target for f in spec.outgoing(node.id))
    for _ in range(len(ids)):  # longest path, flows that close a loop ignored by the cap
        changed = False
        for node_id in ids:
            for target in links[node_id]:
                if target in inside and layer[target] < layer[node_id] + 1 <= len(ids):
                    if _loops_back(spec, target, node_id, inside):
                        continue
                    layer[target] = layer[node_id] + 1
                    changed = True
        if not changed:
            break
    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(layer[node_id], []).append(node_id)
    x = 0.0
    height = 0.0
    for index in sorted(columns):
        column = columns[index]
        dims = [sizes.get(n) or SIZES.get(spec.nodes[n].type, TASK_SIZE) for n in column]
        width = max(w for w, _ in dims)
        y = 0.0
        for node_id, (w, h) in zip(column, dims, strict=True):
            relative[node_id] = (x + (width - w) / 2, y)
            y += h + GAP_Y
        height = max(height, y - GAP_Y)
        x += width + GAP_X
    return max(x - GAP_X, 0.0), height


def _loops_back(spec: ProcessSpec, target: str, source: str, inside: set[str]) -> bool:
    """Whether `target` reaches `source` (the flow closes a loop)."""
    seen = {target}
    todo = [target]
    while todo:
        for flow in spec.outgoing(todo.pop()):
            if flow.target == source:
                return True
            if flow.target in inside and flow.target not in seen:
                seen.add(flow.target)
                todo.append(flow.target)
    return False


def _place(
    spec: ProcessSpec,
    scope: str,
    origin: tuple[float, float],
    members: dict[str, list[str]],
    sizes: dict[str, tuple[float, float]],
    relative: dict[str, tuple[float, float]],
    shapes: dict[str, Bounds],
) -> None:
    for node_id in members.get(scope, []):
        rx, ry = relative[node_id]
        w, h = sizes.get(node_id) or SIZES.get(spec.nodes[node_id].type, TASK_SIZE)
        x, y = origin[0] + rx, origin[1] + ry
        shapes[node_id] = (x, y, w, h)
        if node_id in sizes:
            _place(spec, node_id, (x + PAD, y + PAD), members, sizes, relative, shapes)
