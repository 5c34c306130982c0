"""The token game's moves for inclusive gateways, sub-processes, terminate and error
ends (ADR 0022), called by soundness.py, so graphs that use them are judged before
publishing like any other: every combination of an inclusive gateway's exits is tried,
an OR-join fires once no waiting token can reach it, a sub-process is left when its
last token ends, and an error or terminate sweeps its scope."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

from .control import CONTROL_TYPES
from .spec import Flow, ProcessSpec

# (user tasks holding a token, join flows a token came through, flows still to move)
Pending = tuple[frozenset[str], frozenset[str], tuple[Flow, ...]]
Problem = Callable[[str, str, str], None]
MAX_CONDITIONS = 10  # past it, the exits' combinations are too many to try one by one


def handles(spec: ProcessSpec, target: str) -> bool:
    """Whether a token arriving at `target` moves by this module's rules."""
    node = spec.nodes[target]
    return node.type in CONTROL_TYPES or (node.type == "end" and bool(node.scope))


def exits(spec: ProcessSpec, gateway: str) -> list[tuple[Flow, ...]]:
    """Each set of exits an inclusive gateway can take (none holding and no default is
    the step's error, not a marking)."""
    branches = spec.index.branches[gateway]
    always = tuple(out for condition, out in branches.conditional if condition is None)
    maybe = [out for condition, out in branches.conditional if condition is not None]
    if len(maybe) > MAX_CONDITIONS:
        maybe = maybe[:MAX_CONDITIONS]  # a sample: the budget would be spent anyway
    found: list[tuple[Flow, ...]] = []
    for size in range(len(maybe) + 1):
        for chosen in combinations(maybe, size):
            taken = always + chosen
            if taken:
                found.append(taken)
            elif branches.default is not None:
                found.append((branches.default,))
    return found


def _inside(
    spec: ProcessSpec,
    scope: str,
    tasks: frozenset[str],
    arrivals: frozenset[str],
    rest: tuple[Flow, ...],
) -> bool:
    inside = spec.index.control.inside[scope]
    targets = spec.index.control.flow_targets
    return (
        any(t in inside for t in tasks)
        or any(targets[a] in inside for a in arrivals)
        or any(f.target in inside for f in rest)
    )


def _without(
    spec: ProcessSpec,
    scope: str,
    tasks: frozenset[str],
    arrivals: frozenset[str],
    rest: tuple[Flow, ...],
) -> Pending:
    inside = spec.index.control.inside[scope]
    targets = spec.index.control.flow_targets
    return (
        frozenset(t for t in tasks if t not in inside),
        frozenset(a for a in arrivals if targets[a] not in inside),
        tuple(f for f in rest if f.target not in inside),
    )


def move(
    spec: ProcessSpec,
    tasks: frozenset[str],
    arrivals: frozenset[str],
    flow: Flow,
    rest: tuple[Flow, ...],
    problem: Problem,
) -> list[Pending]:
    """The markings a token coming through `flow` leads to (empty: a modelling fault
    reported through `problem`, or the instance ended)."""
    target = flow.target
    node = spec.nodes[target]
    control = spec.index.control
    if node.type == "inclusive_gateway":
        if target in control.or_joins:
            if flow.id in arrivals:
                problem(
                    target,
                    "parallel_tokens_merge",
                    f"Inclusive join '{target}' can receive two tokens through flow "
                    f"'{flow.id}' before it fires; join the branches first",
                )
                return []
            return [(tasks, arrivals | {flow.id}, rest)]
        return [(tasks, arrivals, rest + taken) for taken in exits(spec, target)]
    if node.type == "sub_process":
        if _inside(spec, target, tasks, arrivals, rest):
            problem(
                target,
                "parallel_tokens_merge",
                f"Sub-process '{target}' can be entered by two parallel branches at once; "
                "join them with a gateway first",
            )
            return []
        return [(tasks, arrivals, rest + spec.outgoing(control.starts[target]))]
    if node.type == "end":  # inside a sub-process: the last token out leaves it
        if _inside(spec, node.scope, tasks, arrivals, rest):
            return [(tasks, arrivals, rest)]
        return [(tasks, arrivals, rest + spec.outgoing(node.scope))]
    if node.type == "terminate_end" and node.scope:
        left, came, moving = _without(spec, node.scope, tasks, arrivals, rest)
        return [(left, came, moving + spec.outgoing(node.scope))]
    if node.type == "error_end":
        catcher = control.catchers.get(target, "")
        if catcher:
            attached = spec.nodes[catcher].attached_to or ""
            left, came, moving = _without(spec, attached, tasks, arrivals, rest)
            return [(left, came, moving + spec.outgoing(catcher))]
    return [(frozenset(), frozenset(), ())]  # terminate or uncaught error: the ticket ends


def settle(
    spec: ProcessSpec, tasks: frozenset[str], arrivals: frozenset[str], problem: Problem
) -> list[Pending]:
    """Once the tokens rest: fire the first OR-join no resting token can reach (each
    set of its exits is a marking); none when nothing fires."""
    control = spec.index.control
    if not control.or_joins or not arrivals:
        return []
    targets = control.flow_targets
    waiting = {targets[a] for a in arrivals}
    here = tasks | waiting
    for join_id in waiting:
        upstream = control.or_joins.get(join_id)
        if upstream is None or any(n in upstream for n in here if n != join_id):
            continue
        left = frozenset(a for a in arrivals if targets[a] != join_id)
        return [(tasks, left, taken) for taken in exits(spec, join_id)]
    if not tasks:
        for join_id in sorted(waiting & set(control.or_joins)):
            problem(
                join_id,
                "join_unbalanced",
                f"Inclusive join '{join_id}' can wait forever: it waits for a join that "
                "waits for it",
            )
    return []
