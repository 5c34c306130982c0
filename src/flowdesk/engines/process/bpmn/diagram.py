"""A process diagram's geometry (BPMNDI), kept beside the spec so an export keeps the
coordinates a builder drew, and a simple layered layout for processes never drawn.

The geometry is cosmetic: it never changes how a ticket runs, so entries for nodes or
flows the process no longer has are dropped rather than refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from flowdesk.kernel.errors import ErrorDetail

from ..spec import Flow, ProcessSpec

Bounds = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]
MAX_COORDINATE = 1_000_000.0
MAX_WAYPOINTS = 100

# BPMN's customary sizes, as bpmn.io draws them
SIZES: dict[str, tuple[float, float]] = {
    "start": (36, 36),
    "end": (36, 36),
    "exclusive_gateway": (50, 50),
    "parallel_gateway": (50, 50),
    "inclusive_gateway": (50, 50),
    "terminate_end": (36, 36),
    "error_end": (36, 36),
    "boundary_error": (36, 36),
    "boundary_timer": (36, 36),
    "boundary_message": (36, 36),
    "event_gateway": (50, 50),
    "timer_catch": (36, 36),
    "message_catch": (36, 36),
}
TASK_SIZE = (100.0, 80.0)
COLUMN = 170.0
ROW = 130.0
ORIGIN = (160.0, 100.0)


@dataclass(frozen=True)
class Diagram:
    """Shape bounds per node id and edge waypoints per flow id."""

    shapes: Mapping[str, Bounds] = field(default_factory=dict, hash=False)
    edges: Mapping[str, tuple[Point, ...]] = field(default_factory=dict, hash=False)

    def __bool__(self) -> bool:
        return bool(self.shapes or self.edges)

    def restricted(self, nodes: Sequence[str], flows: Sequence[str]) -> Diagram:
        """Only the entries of these nodes and flows, in their order."""
        return Diagram(
            shapes={key: self.shapes[key] for key in nodes if key in self.shapes},
            edges={key: self.edges[key] for key in flows if key in self.edges},
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "shapes": {key: [_tidy(v) for v in bounds] for key, bounds in self.shapes.items()},
            "edges": {
                key: [[_tidy(x), _tidy(y)] for x, y in points] for key, points in self.edges.items()
            },
        }


def _tidy(value: float) -> float | int:
    """Whole numbers as ints, the rest to two decimals: a stable, readable YAML form."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def coordinate(value: object) -> float | None:
    """A finite coordinate within bounds, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number) or abs(number) > MAX_COORDINATE:
        return None
    return number


def parse_diagram(data: object, path: str = "diagram") -> tuple[Diagram, list[ErrorDetail]]:
    """A diagram from its plain form (`Diagram.to_dict`), with every problem found."""
    errors: list[ErrorDetail] = []
    if not isinstance(data, Mapping):
        return Diagram(), [ErrorDetail(path, "wrong_type", "A diagram maps shapes and edges")]
    for key in data:
        if key not in ("shapes", "edges"):
            errors.append(ErrorDetail(f"{path}.{key}", "unknown_key", "Expected shapes or edges"))
    shapes: dict[str, Bounds] = {}
    raw_shapes = data.get("shapes", {})
    if not isinstance(raw_shapes, Mapping):
        errors.append(ErrorDetail(f"{path}.shapes", "wrong_type", "Maps node ids to bounds"))
        raw_shapes = {}
    for key, raw in cast(Mapping[object, object], raw_shapes).items():
        numbers = _numbers(raw, 4)
        if numbers is None or numbers[2] < 0 or numbers[3] < 0:
            errors.append(
                ErrorDetail(
                    f"{path}.shapes.{key}", "invalid_bounds", "Bounds are [x, y, width, height]"
                )
            )
            continue
        shapes[str(key)] = (numbers[0], numbers[1], numbers[2], numbers[3])
    edges: dict[str, tuple[Point, ...]] = {}
    raw_edges = data.get("edges", {})
    if not isinstance(raw_edges, Mapping):
        errors.append(ErrorDetail(f"{path}.edges", "wrong_type", "Maps flow ids to waypoints"))
        raw_edges = {}
    for key, raw in cast(Mapping[object, object], raw_edges).items():
        points = _points(raw)
        if points is None:
            errors.append(
                ErrorDetail(
                    f"{path}.edges.{key}",
                    "invalid_waypoints",
                    f"Waypoints are 2 to {MAX_WAYPOINTS} points [x, y]",
                )
            )
            continue
        edges[str(key)] = points
    return Diagram(shapes, edges), errors


def _numbers(raw: object, size: int) -> list[float] | None:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) != size:
        return None
    numbers = [coordinate(value) for value in raw]
    if any(number is None for number in numbers):
        return None
    return cast(list[float], numbers)


def _points(raw: object) -> tuple[Point, ...] | None:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return None
    if not 2 <= len(raw) <= MAX_WAYPOINTS:
        return None
    points: list[Point] = []
    for item in raw:
        numbers = _numbers(item, 2)
        if numbers is None:
            return None
        points.append((numbers[0], numbers[1]))
    return tuple(points)


def layout(spec: ProcessSpec, keep: Diagram | None = None) -> Diagram:
    """Bounds for every node and waypoints for every flow; `keep`'s entries win.

    Nodes are placed in layers left to right by their longest distance from the start
    along forward flows (flows that close a loop are left out of the layering), one
    row per node within a layer. A flow keeps its drawn waypoints only when both its
    ends kept their drawn shapes; otherwise it is redrawn as an orthogonal elbow.
    """
    keep = keep or Diagram()
    if spec.index.control.starts and not set(spec.nodes) <= set(keep.shapes):
        from .scoped_layout import scoped_layout  # it builds on this module

        return scoped_layout(spec)  # sub-processes as boxes around their nodes (ADR 0022)
    attached = _boundaries(spec)
    layers = _layers(spec, attached)
    rows: dict[int, int] = {}
    shapes: dict[str, Bounds] = {}
    for node_id, node in spec.nodes.items():
        if node_id in keep.shapes:
            shapes[node_id] = keep.shapes[node_id]
            continue
        if node.attached_to in spec.nodes:
            continue  # a boundary event sits on its activity's edge, placed below
        layer = layers.get(node_id, 0)
        row = rows.get(layer, 0)
        rows[layer] = row + 1
        width, height = SIZES.get(node.type, TASK_SIZE)
        centre_x = ORIGIN[0] + layer * COLUMN
        centre_y = ORIGIN[1] + row * ROW
        shapes[node_id] = (centre_x - width / 2, centre_y - height / 2, width, height)
    for host, boundaries in attached.items():
        x, y, w, h = shapes[host]
        for i, boundary in enumerate(b for b in boundaries if b not in keep.shapes):
            size = SIZES["boundary_error"][0]
            left = x + w * max(0.75 - 0.3 * i, 0.1) - size / 2
            shapes[boundary] = (left, y + h - size / 2, size, size)
    edges: dict[str, tuple[Point, ...]] = {}
    for flow in spec.flows:
        kept = keep.edges.get(flow.id)
        if kept is not None and flow.source in keep.shapes and flow.target in keep.shapes:
            edges[flow.id] = kept
            continue
        edges[flow.id] = _elbow(shapes[flow.source], shapes[flow.target])
    return Diagram(shapes, edges)


def _boundaries(spec: ProcessSpec) -> dict[str, list[str]]:
    """Activity -> the boundary events attached to it, in definition order."""
    found: dict[str, list[str]] = {}
    for node_id, node in spec.nodes.items():
        if node.attached_to is not None and node.attached_to in spec.nodes:
            found.setdefault(node.attached_to, []).append(node_id)
    return found


def _exits(spec: ProcessSpec, node_id: str, attached: Mapping[str, list[str]]) -> list[Flow]:
    """A node's flows and those of the boundary events on it: a boundary's path lies
    after its activity."""
    flows = list(spec.outgoing(node_id))
    for boundary in attached.get(node_id, ()):
        flows.extend(spec.outgoing(boundary))
    return flows


def _layers(spec: ProcessSpec, attached: Mapping[str, list[str]]) -> dict[str, int]:
    """Longest-path layer of each node over the flows that do not close a loop."""
    back: set[str] = set()
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done
    order: list[str] = []
    stack: list[tuple[str, int]] = [(spec.start.id, 0)]
    state[spec.start.id] = 1
    while stack:  # iterative DFS: no recursion limit on long processes
        node_id, i = stack.pop()
        exits = _exits(spec, node_id, attached)
        if i < len(exits):
            stack.append((node_id, i + 1))
            flow = exits[i]
            seen = state.get(flow.target)
            if seen == 1:
                back.add(flow.id)
            elif seen is None:
                state[flow.target] = 1
                stack.append((flow.target, 0))
        else:
            state[node_id] = 2
            order.append(node_id)
    layers = dict.fromkeys(spec.nodes, 0)
    for node_id in reversed(order):  # reverse post-order: a topological order
        for flow in _exits(spec, node_id, attached):
            if flow.id not in back:
                layers[flow.target] = max(layers[flow.target], layers[node_id] + 1)
    return layers


def _elbow(source: Bounds, target: Bounds) -> tuple[Point, ...]:
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    start = (sx + sw, sy + sh / 2)
    end = (tx, ty + th / 2)
    if start[1] == end[1]:
        return (start, end)
    if end[0] <= start[0]:  # a loop back: leave from below, come in from below
        below = max(sy + sh, ty + th) + 30
        return (
            (sx + sw / 2, sy + sh),
            (sx + sw / 2, below),
            (tx + tw / 2, below),
            (tx + tw / 2, ty + th),
        )
    middle = (start[0] + end[0]) / 2
    return (start, (middle, start[1]), (middle, end[1]), end)
