"""通过后撤销 at engine level: APPROVALS.md edge case 28 (ADR 0042). An approved ticket is
revoked within N days of its approval, only when the app allowed it when it was approved,
with the consent of everyone who approved it; one rejection leaves it approved as it was.
The clock is the command's `now` (the services pass theirs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from process_fakes import FakeContext

from flowdesk.engines.process import (
    CompleteTask,
    InstanceState,
    RequestRevoke,
    Start,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.engines.process.revoke import REVOKE_NODE, recorded
from flowdesk.kernel.errors import FlowdeskError

SPEC = parse_process(
    {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "n1", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "n2", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "n1"},
            {"from": "n1", "to": "n2"},
            {"from": "n2", "to": "end"},
        ],
    }
)
APPROVED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _approved(ctx: FakeContext, days: int) -> InstanceState:
    """alice's ticket approved by bob then carol, with the app's revoke_days then."""
    state = step(SPEC, None, Start("alice", {}), ctx).state
    for person in ("bob", "carol"):
        task = next(iter(state.tasks.values()))
        state = step(SPEC, state, CompleteTask(task.task_id, person, "approve"), ctx).state
    assert state.status == "approved"
    # the services record the terms with the approved state; it is stored and read back
    return load_state(dump_state(recorded(state, days, APPROVED_AT)))


def _refused(state: InstanceState, command: RequestRevoke, code: str, status: int = 409) -> None:
    with pytest.raises(FlowdeskError) as refused:
        step(SPEC, state, command, FakeContext())
    assert (refused.value.code, refused.value.status) == (code, status)


def test_edge_case_28_all_approvers_agree_and_the_ticket_is_revoked() -> None:
    ctx = FakeContext()
    state = _approved(ctx, 7)
    asked = step(SPEC, state, RequestRevoke("alice", ("bob", "carol"), APPROVED_AT), ctx)
    state = load_state(dump_state(asked.state))
    assert state.status == "running"  # in approval again: the revocation round
    opened = [e for e in asked.effects if e.kind == "task_opened"]
    assert [(e.node_id, e.assignees) for e in opened] == [
        (REVOKE_NODE, ("bob",)),
        (REVOKE_NODE, ("carol",)),
    ]
    assert len({t.activation_id for t in state.tasks.values()}) == 1  # one node instance
    first = step(SPEC, state, CompleteTask(opened[0].task_id, "bob", "approve"), ctx)
    assert first.state.status == "running"
    with pytest.raises(FlowdeskError) as wrong:
        step(SPEC, first.state, CompleteTask(opened[1].task_id, "bob", "approve"), ctx)
    assert wrong.value.code == "not_assignee"
    last = step(SPEC, first.state, CompleteTask(opened[1].task_id, "carol", "approve"), ctx)
    assert last.state.status == "revoked"
    assert last.effects[-1].to_dict() == {"kind": "instance_finished", "status": "revoked"}
    assert load_state(dump_state(last.state)).status == "revoked"


def test_edge_case_28_one_rejection_leaves_the_ticket_approved_as_it_was() -> None:
    ctx = FakeContext()
    state = _approved(ctx, 7)
    asked = step(SPEC, state, RequestRevoke("alice", ("bob", "carol"), APPROVED_AT), ctx)
    bob, carol = asked.state.tasks
    back = step(SPEC, asked.state, CompleteTask(carol, "carol", "reject", "keep it"), ctx)
    assert back.state == state  # approved, with the same terms
    kinds = [(e.kind, getattr(e, "task_id", None)) for e in back.effects]
    assert kinds[:2] == [("task_closed", carol), ("task_closed", bob)]
    assert back.effects[1].reason == "revoke_rejected"
    assert back.effects[-1].to_dict() == {"kind": "instance_finished", "status": "approved"}
    # the window still counts from the first approval; asking again inside it is fine
    again = step(SPEC, back.state, RequestRevoke("alice", ("bob",), APPROVED_AT), ctx)
    assert again.state.status == "running"


def test_edge_case_28_refused_after_n_days_by_others_and_when_off_at_approval() -> None:
    state = _approved(FakeContext(), 7)
    late = APPROVED_AT + timedelta(days=7, seconds=1)
    _refused(state, RequestRevoke("alice", ("bob",), late), "revoke_window_passed")
    step(SPEC, state, RequestRevoke("alice", ("bob",), late - timedelta(seconds=1)), FakeContext())
    _refused(state, RequestRevoke("bob", ("bob",), APPROVED_AT), "not_applicant", 403)
    off = _approved(FakeContext(), 0)  # the setting was off when it was approved
    assert off.revoke is None and "revoke" not in dump_state(off)
    _refused(off, RequestRevoke("alice", ("bob",), APPROVED_AT), "revoke_off")


def test_edge_case_28_only_an_approved_ticket_and_nothing_else_during_the_round() -> None:
    ctx = FakeContext()
    running = step(SPEC, None, Start("alice", {}), ctx).state
    _refused(running, RequestRevoke("alice", (), APPROVED_AT), "ticket_not_approved")
    state = _approved(ctx, 3)
    asked = step(SPEC, state, RequestRevoke("alice", ("bob", "carol"), APPROVED_AT), ctx)
    _refused(asked.state, RequestRevoke("alice", ("bob",), APPROVED_AT), "ticket_not_approved")
    with pytest.raises(FlowdeskError) as pending:  # the round takes approve/reject only
        step(SPEC, asked.state, Start("alice", {}), ctx)
    assert pending.value.code == "revoke_pending"
    # nobody approved it (automatic approvals): it is revoked at once
    alone = step(SPEC, state, RequestRevoke("alice", (), APPROVED_AT), ctx)
    assert alone.state.status == "revoked"
