"""The parent's side of a call activity in the pure step (ADR 0033): its child ended."""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.kernel.errors import ValidationFailed

from .calls import CALL_ERRORS, CALL_OUTCOMES, ChildEnded, call_stale
from .commands import FinishCall
from .effects import Effect, InstanceFinished, NodePassed
from .spec import Node, ProcessSpec
from .state import InstanceState, Wait
from .timers import _kept
from .walk import Context, StepResult, Walk, call_child, cancelled


def catcher(spec: ProcessSpec, node_id: str, outcome: str) -> str:
    """The boundary_error on call activity `node_id` that catches a child ending with
    `outcome`: one for its code first, then one for any code; "" if none."""
    code = CALL_ERRORS.get(outcome, "")
    boundaries = [
        n for n in spec.nodes.values() if n.type == "boundary_error" and n.attached_to == node_id
    ]
    for boundary in boundaries:
        if boundary.error_code == code:
            return boundary.id
    for boundary in boundaries:
        if not boundary.error_code:
            return boundary.id
    return ""


def finish_call(
    spec: ProcessSpec, state: InstanceState | None, command: FinishCall, ctx: Context
) -> StepResult:
    """The token waiting for the child goes on: by the call activity's flow when the
    child was approved, by a catching boundary_error when it was not, else the parent
    ends rejected. A wait that is gone (the parent was cancelled, terminated, moved on)
    raises `call_stale` and changes nothing."""
    if command.outcome not in CALL_OUTCOMES:
        raise ValidationFailed(
            "A child ends approved, rejected or cancelled", code="invalid_outcome"
        )
    if state is None or state.status != "running":
        raise call_stale()
    wait = state.waits.get(command.wait_id)
    node = spec.nodes.get(wait.node_id) if wait is not None else None
    if wait is None or node is None or node.call is None:
        raise call_stale()
    waits = {k: w for k, w in state.waits.items() if k != wait.wait_id}
    siblings = [w for w in waits.values() if w.group and w.node_id == node.id]
    if command.outcome == "approved":
        effects: list[Effect] = [ChildEnded(wait.wait_id, node.id, "approved")]
        flows = spec.index.outgoing[node.id]
        if node.call.each and (siblings or _next_item(node, wait, command.values)):
            return _one_of_many(spec, state, ctx, node, wait, waits, effects, command)
    else:
        for other in siblings:  # a multi-instance call's other children are not awaited
            del waits[other.wait_id]
        caught = catcher(spec, node.id, command.outcome)
        effects = [ChildEnded(wait.wait_id, node.id, command.outcome, caught)]
        if not caught:  # nothing catches it: the parent ends rejected, every task closes
            for task in state.tasks.values():
                effects.append(cancelled(task, "ticket_rejected", ""))
            effects.append(InstanceFinished("rejected"))
            return StepResult(InstanceState("rejected", state.starter), tuple(effects))
        effects.append(NodePassed(caught, "boundary_error"))
        flows = spec.index.outgoing[caught]
    walk = _walk(spec, ctx, state, effects, waits)
    walk.advance(command.values, flows)
    return _kept(state, walk.result(state.passed))


def _next_item(node: Node, wait: Wait, values: Mapping[str, object]) -> str:
    """The item after `wait`'s in a sequential multi-instance call ("" when it was the
    last, or the call is parallel)."""
    call = node.call
    assert call is not None
    if call.order != "sequential" or not wait.group.startswith("#"):
        return ""
    position = int(wait.group[1:]) + 1
    items = call.items(values)
    return items[position] if position < len(items) else ""


def _one_of_many(
    spec: ProcessSpec,
    state: InstanceState,
    ctx: Context,
    node: Node,
    wait: Wait,
    waits: dict[str, Wait],
    effects: list[Effect],
    command: FinishCall,
) -> StepResult:
    """A child of a multi-instance call was approved and the call is not done (ADR 0035):
    a parallel call waits for its other children; a sequential one files the next."""
    walk = _walk(spec, ctx, state, effects, waits)
    item = _next_item(node, wait, command.values)
    if item:
        position = int(wait.group[1:]) + 1
        call_child(walk, node, command.values, item, f"#{position}")
    return _kept(state, walk.result(state.passed))


def _walk(
    spec: ProcessSpec,
    ctx: Context,
    state: InstanceState,
    effects: list[Effect],
    waits: dict[str, Wait],
) -> Walk:
    """A walk from `state` with the step's own copy of its waits."""
    return Walk(
        spec,
        ctx,
        state.starter,
        dict(state.tasks),
        dict(state.joins),
        dict(state.activations),
        effects,
        waits,
    )
