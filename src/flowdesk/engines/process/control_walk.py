"""Walk.advance's hooks for inclusive gateways, sub-processes, terminate and error ends
(ADR 0022); part of the pure step.

A token arriving at one of these nodes is handled by `move`. What depends on every
other token (whether an OR-join may fire, whether a sub-process is done, what a
terminate or an error sweeps away) is decided by `settle` once the step's tokens have
all come to rest, so tokens moving in the same step never race each other: each time
Walk.advance has moved every token it was given, `settle` does the first thing that is
due and advances again from there, until nothing is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .effects import CloseReason, ErrorThrown, NodePassed
from .spec import Flow, Node

if TYPE_CHECKING:
    from .walk import Walk


class Pending:
    """What `settle` still has to look at in this step: sub-processes an end was reached
    in, and the terminate and error ends reached (in order)."""

    __slots__ = ("scopes", "sweeps")

    def __init__(self) -> None:
        self.scopes: list[str] = []
        self.sweeps: list[Node] = []


def _pending(walk: Walk) -> Pending:
    if walk.pending is None:
        walk.pending = Pending()
    return walk.pending


def move(
    walk: Walk, node: Node, flow: Flow, values: Mapping[str, object], queue: list[Flow]
) -> None:
    """A token came through `flow` to `node` (an inclusive gateway, a sub-process, a
    terminate or an error end)."""
    node_type = node.type
    node_id = node.id
    index = walk.spec.index
    if node_type == "inclusive_gateway":
        if node_id in index.control.or_joins:  # wait; settle fires it when nothing can come
            walk.joins[node_id] = walk.joins.get(node_id, frozenset()) | {flow.id}
            return
        walk.effects.append(NodePassed(node_id, node_type))
        queue.extend(inclusive_exits(walk, node, values))
    elif node_type == "sub_process":  # enter: the token goes on from its own start
        start = index.control.starts[node_id]
        walk.effects.append(NodePassed(node_id, node_type))
        walk.effects.append(NodePassed(start, "start"))
        queue.extend(index.outgoing[start])
    else:  # terminate_end, error_end: they sweep once every token of the step rests
        walk.effects.append(NodePassed(node_id, node_type))
        _pending(walk).sweeps.append(node)


def scope_ended(walk: Walk, scope: str) -> None:
    """A token was consumed by a plain end inside sub-process `scope`."""
    pending = _pending(walk)
    if scope not in pending.scopes:
        pending.scopes.append(scope)


def inclusive_exits(walk: Walk, node: Node, values: Mapping[str, object]) -> list[Flow]:
    """Every exit whose condition holds (an exit without one always), else the default;
    none at all is the step's error, as at an exclusive gateway."""
    from .walk import StepFailed  # walk imports this module

    branches = walk.spec.index.branches[node.id]
    evaluate = walk.ctx.evaluate
    taken = [
        out
        for condition, out in branches.conditional
        if condition is None or evaluate(condition, values)
    ]
    if taken:
        return taken
    if branches.default is None:
        raise StepFailed(
            walk.spec,
            node.id,
            "no_branch_taken",
            f"No condition leaving '{node.id}' holds and it has no default flow",
        )
    return [branches.default]


def resting(walk: Walk) -> set[str]:
    """The nodes where the instance's tokens rest between steps: a user task's node
    instance (the start node's, for a ticket back with its applicant), a join whose
    waiting arrivals rest at it, and a timer or message catch event a token waits at
    (ADR 0023). The one list of where tokens rest that OR-joins and sub-processes are
    judged by. A boundary timer needs no entry: its user task rests, and the task leads
    to the timer (control.extra_links), so what the timer can reach counts as upstream."""
    found = {activation.node_id for activation in walk.activations.values()}
    found.update(walk.joins)
    found.update(w.node_id for w in walk.waits.values())
    return found


def settle(walk: Walk, values: Mapping[str, object]) -> None:
    """Do what became due now that every token of the step rests: first the sweeps of
    terminate and error ends, then an OR-join nothing more can reach, then a
    sub-process nothing rests in any more; each advances the walk again."""
    control = walk.spec.index.control
    pending = walk.pending
    if pending is not None and pending.sweeps:
        node = pending.sweeps.pop(0)
        if walk.ended:
            return
        flows = _sweep(walk, node)
        if walk.ended:
            walk.pending = None
            return
        if flows:
            walk.advance(values, tuple(flows))
        else:
            settle(walk, values)
        return
    if walk.joins and control.or_joins:
        here = resting(walk)
        for join_id in tuple(walk.joins):
            upstream = control.or_joins.get(join_id)
            if upstream is None or any(n in upstream for n in here if n != join_id):
                continue
            del walk.joins[join_id]
            join = walk.spec.nodes[join_id]
            walk.effects.append(NodePassed(join_id, join.type))
            walk.advance(values, tuple(inclusive_exits(walk, join, values)))
            return
    if pending is not None and pending.scopes:
        here = resting(walk)
        for scope in tuple(pending.scopes):
            inside = control.inside[scope]
            if any(n in inside for n in here):
                pending.scopes.remove(scope)  # still busy: a later end looks again
                continue
            pending.scopes.remove(scope)
            _leave(walk, scope, values)
            return
    if pending is not None and not pending.scopes and not pending.sweeps:
        walk.pending = None


def _leave(walk: Walk, scope: str, values: Mapping[str, object]) -> None:
    """Sub-process `scope` is done: its token goes on along its own outgoing flows (an
    end inside a nested sub-process leaves the inner one only)."""
    node = walk.spec.nodes[scope]
    flows = walk.spec.index.outgoing[scope]
    if flows:
        walk.advance(values, flows)
    elif node.scope:  # unreachable for a parsed spec: a sub-process has an outgoing flow
        scope_ended(walk, node.scope)


def _sweep(walk: Walk, node: Node) -> list[Flow]:
    """A terminate or error end: end the scope it is in (the whole ticket at top level,
    or the sub-process an error's boundary event is attached to) and return the flows
    the token goes on by."""
    control = walk.spec.index.control
    if node.type == "terminate_end":
        if not node.scope:
            _clear(walk, None, "terminated")
            walk.ended = "approved"
            return []
        _clear(walk, control.inside[node.scope], "terminated")
        return list(walk.spec.index.outgoing[node.scope])
    catcher = control.catchers.get(node.id, "")
    walk.effects.append(ErrorThrown(node.id, node.error_code, catcher))
    if not catcher:  # nobody catches it: the ticket ends, rejected, with the code recorded
        _clear(walk, None, "error_thrown")
        walk.ended = "rejected"
        return []
    boundary = walk.spec.nodes[catcher]
    assert boundary.attached_to is not None  # parse guarantees it
    _clear(walk, control.inside[boundary.attached_to], "error_thrown")
    walk.effects.append(NodePassed(catcher, boundary.type))
    return list(walk.spec.index.outgoing[catcher])


def _clear(walk: Walk, inside: frozenset[str] | None, reason: CloseReason) -> None:
    """Cancel the open tasks, node instances, join arrivals and pending ends within
    `inside` (None: all of them), each task closed with `reason`."""
    from .walk import cancelled  # walk imports this module

    by = walk.approver
    for task in tuple(walk.tasks.values()):
        if inside is None or task.node_id in inside:
            del walk.tasks[task.task_id]
            walk.effects.append(cancelled(task, reason, by))
    for key, activation in tuple(walk.activations.items()):
        if inside is None or activation.node_id in inside:
            del walk.activations[key]
    for join_id in tuple(walk.joins):
        if inside is None or join_id in inside:
            del walk.joins[join_id]
    for wait_id, wait in tuple(walk.waits.items()):  # their rows go stale (ADR 0023)
        if inside is None or wait.node_id in inside:
            del walk.waits[wait_id]
    pending = walk.pending
    if pending is not None:
        pending.scopes = [s for s in pending.scopes if inside is not None and s not in inside]
        pending.sweeps = [n for n in pending.sweeps if inside is not None and n.id not in inside]
