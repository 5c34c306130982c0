"""委派 (per-task delegation, ADR 0034) through the services, on SQLite and PostgreSQL: the
owner's task waits while the delegate works it, the delegate resolves it (never decides
it), the owner decides the same task afterwards (no second task, Flowable #3932), and
who may be delegated to; 待办, 已办, the timeline, the audit and the notifications say so.
Golden scenario: APPROVALS.md edge case 29."""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import select

from flowdesk.kernel.errors import Conflict, Forbidden, ValidationFailed
from flowdesk.services import audit, delegate_task, jobs, org, tickets, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification

SMALL = "20000.00"  # branch review by the applicant's manager (li.na), then disbursement


def _inbox(desk: Desk, who: str, *, done: bool = False) -> list[views.TaskView]:
    query = parse_list_query({}, default_limit=100)
    return list(views.task_list(desk.ctx, desk.actors[who], query, done=done).items)


def _notices(desk: Desk, kind: str) -> list[str]:
    jobs.run_due(desk.ctx, owner="worker")
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    table = Notification.__table__
    with desk.ctx.db.read() as conn:
        rows = conn.execute(select(table.c.user_id).where(table.c.kind == kind))
        return sorted(names[user] for (user,) in rows)


def _audit(desk: Desk, action: str) -> list[dict[str, Any]]:
    with desk.ctx.db.read() as conn:
        return [e.details for e in audit_store.entries(conn) if e.action == action]


def _delegate(desk: Desk, who: str, task_id: str, to: str, **kw: Any) -> tickets.StepOutcome:
    return delegate_task.delegate(desk.ctx, actor=desk.actors[who], task_id=task_id, to=to, **kw)


def test_the_delegate_resolves_and_the_owner_decides_edge_29(desk: Desk) -> None:
    ticket_id = desk.submit(SMALL)
    task = desk.task(ticket_id, "branch_review")
    outcome = _delegate(desk, "li.na", task.id, "huang.lei", comment="请核实收入证明")
    [theirs] = outcome.opened_task_ids
    # 待办: the delegate sees the task marked as li.na's; li.na's own waits
    [row] = [t for t in _inbox(desk, "huang.lei") if t.ticket_id == ticket_id]
    assert row.id == theirs
    assert row.delegated_by is not None and row.delegated_by.id == desk.actors["li.na"].user_id
    view = desk.view(ticket_id)
    owner = next(t for t in view.tasks if t.id == task.id)
    assert owner.state == "open" and owner.waiting
    assert owner.delegated_to is not None
    assert owner.delegated_to.id == desk.actors["huang.lei"].user_id
    # neither of them decides while it is delegated
    for outcome_name in ("approve", "reject"):
        with pytest.raises(Conflict) as refused:
            getattr(tickets, outcome_name)(
                desk.ctx, actor=desk.actors["li.na"], task_id=task.id, comment="x"
            )
        assert refused.value.code == "task_delegated"
        with pytest.raises(Conflict) as refused:
            getattr(tickets, outcome_name)(
                desk.ctx, actor=desk.actors["huang.lei"], task_id=theirs, comment="x"
            )
        assert refused.value.code == "delegated_task_resolve"
    delegate_task.resolve(
        desk.ctx,
        actor=desk.actors["huang.lei"],
        task_id=theirs,
        comment="收入证明属实",
        opinion="approve",
    )
    with pytest.raises(Conflict) as twice:
        delegate_task.resolve(desk.ctx, actor=desk.actors["huang.lei"], task_id=theirs)
    assert twice.value.code == "task_not_open"
    assert [t.state for t in _inbox(desk, "huang.lei", done=True)] == ["resolved"]
    back = desk.view(ticket_id)
    assert [t.id for t in back.open_tasks] == [task.id]  # the same task, none added
    assert not back.open_tasks[0].waiting
    tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id)
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["disburse"]
    timeline = desk.view(ticket_id).timeline
    [delegated] = [e for e in timeline if e.kind == "task_delegated"]
    assert delegated.comment == "请核实收入证明"
    assert delegated.data == {"to": desk.actors["huang.lei"].user_id}
    [resolved] = [e for e in timeline if e.kind == "task_resolved"]
    assert resolved.actor is not None and resolved.actor.id == desk.actors["huang.lei"].user_id
    assert resolved.comment == "收入证明属实"
    assert resolved.data == {"owner": desk.actors["li.na"].user_id, "opinion": "approve"}
    [entry] = _audit(desk, "task.delegate")
    assert entry["to"] == "huang.lei" and entry["reason"] == "请核实收入证明"
    [entry] = _audit(desk, "task.resolve")
    assert entry["owner"] == "li.na" and entry["opinion"] == "approve"
    assert _notices(desk, delegate_task.DELEGATED_NOTICE) == ["huang.lei"]
    assert _notices(desk, delegate_task.RESOLVED_NOTICE) == ["li.na"]
    assert audit.verify(desk.ctx).ok


@pytest.mark.parametrize(
    ("to", "error", "code"),
    [
        ("li.na", ValidationFailed, "delegate_to_self"),
        ("nobody.here", ValidationFailed, "unknown_user"),
        ("", ValidationFailed, "delegate_target_required"),
        ("zhang.wei", Forbidden, "self_approval"),  # the applicant
    ],
)
def test_refused_delegations_change_nothing(
    desk: Desk, to: str, error: type[Exception], code: str
) -> None:
    ticket_id = desk.submit(SMALL)
    task = desk.task(ticket_id, "branch_review")
    before = desk.view(ticket_id)
    with pytest.raises(error) as refused:
        _delegate(desk, "li.na", task.id, to)
    assert getattr(refused.value, "code", None) == code
    after = desk.view(ticket_id)
    assert [(t.id, t.state) for t in after.tasks] == [(t.id, t.state) for t in before.tasks]
    assert len(after.timeline) == len(before.timeline)
    assert _audit(desk, "task.delegate") == []


def test_an_inactive_person_is_refused_and_a_plain_task_is_not_resolved(desk: Desk) -> None:
    org.set_active(desk.ctx, desk.actors["admin"], "huang.lei", False)
    ticket_id = desk.submit(SMALL)
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(ValidationFailed) as inactive:
        _delegate(desk, "li.na", task.id, "huang.lei")
    assert inactive.value.code == "user_inactive"
    with pytest.raises(Conflict) as plain:
        delegate_task.resolve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id)
    assert plain.value.code == "task_not_delegated"
