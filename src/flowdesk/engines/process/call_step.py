"""The parent's side of a call activity in the pure step (ADR 0033): its child ended."""

from __future__ import annotations

from flowdesk.kernel.errors import ValidationFailed

from .calls import CALL_ERRORS, CALL_OUTCOMES, ChildEnded, call_stale
from .commands import FinishCall
from .effects import Effect, InstanceFinished, NodePassed
from .spec import ProcessSpec
from .state import InstanceState
from .timers import _kept
from .walk import Context, StepResult, Walk, cancelled


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
    if command.outcome == "approved":
        effects: list[Effect] = [ChildEnded(wait.wait_id, node.id, "approved")]
        flows = spec.index.outgoing[node.id]
    else:
        caught = catcher(spec, node.id, command.outcome)
        effects = [ChildEnded(wait.wait_id, node.id, command.outcome, caught)]
        if not caught:  # nothing catches it: the parent ends rejected, every task closes
            for task in state.tasks.values():
                effects.append(cancelled(task, "ticket_rejected", ""))
            effects.append(InstanceFinished("rejected"))
            return StepResult(InstanceState("rejected", state.starter), tuple(effects))
        effects.append(NodePassed(caught, "boundary_error"))
        flows = spec.index.outgoing[caught]
    walk = Walk(
        spec,
        ctx,
        state.starter,
        dict(state.tasks),
        dict(state.joins),
        dict(state.activations),
        effects,
        waits,
    )
    walk.advance(command.values, flows)
    return _kept(state, walk.result(state.passed))
