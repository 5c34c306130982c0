"""转交 and the hand-over of a leaver's tasks through the services, on SQLite and
PostgreSQL: who may hand what to whom, what the new holder, 待办/已办, the timeline, the
audit and the notifications show, a transfer racing an approval, and a hand-over that
moves what it can and reports what it cannot."""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import select
from test_concurrency import Racers

from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import audit, jobs, org, tickets, transfers, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification

SMALL = "20000.00"  # branch review by the applicant's manager (li.na), then disbursement
LARGE = "120000.00"  # legal and finance review in parallel, committee, disbursement


def _transfer(desk: Desk, who: str, task_id: str, to: str, **kw: Any) -> tickets.StepOutcome:
    return transfers.transfer(desk.ctx, actor=desk.actors[who], task_id=task_id, to=to, **kw)


def _inbox(desk: Desk, who: str, *, done: bool = False) -> list[tuple[str, str]]:
    query = parse_list_query({}, default_limit=100)
    page = views.task_list(desk.ctx, desk.actors[who], query, done=done)
    return [(t.ticket_id, t.state) for t in page.items]


def _holders(desk: Desk, task: views.TaskView) -> list[str]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(names[p.id] for p in task.assignees)


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


def test_a_transferred_task_is_the_new_holders_to_decide(desk: Desk) -> None:
    ticket_id = desk.submit(SMALL)
    task = desk.task(ticket_id, "branch_review")
    outcome = _transfer(desk, "li.na", task.id, "huang.lei", comment="出差一周，请代为审批")
    assert outcome.status == "running" and len(outcome.opened_task_ids) == 1
    moved = desk.task(ticket_id, "branch_review")
    assert _holders(desk, moved) == ["huang.lei"]
    assert (ticket_id, "open") not in _inbox(desk, "li.na")
    assert (ticket_id, "transferred") in _inbox(desk, "li.na", done=True)  # her 已办
    assert (ticket_id, "open") in _inbox(desk, "huang.lei")
    # The old holder can no longer act; the new one moves the ticket on.
    with pytest.raises(Conflict) as closed:
        tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id)
    assert closed.value.code == "task_not_open"
    tickets.approve(desk.ctx, actor=desk.actors["huang.lei"], task_id=moved.id)
    assert desk.task(ticket_id, "disburse")
    [event] = [e for e in desk.view(ticket_id).timeline if e.kind == "task_transferred"]
    assert event.actor is not None and event.actor.id == desk.actors["li.na"].user_id
    assert event.comment == "出差一周，请代为审批"
    assert event.data == {"to": desk.actors["huang.lei"].user_id}
    [entry] = _audit(desk, "task.transfer")
    assert entry["to"] == "huang.lei" and entry["node"] == "branch_review"
    assert entry["opened"] == ["branch_review"]
    assert _notices(desk, transfers.TRANSFERRED_NOTICE) == ["huang.lei"]
    assert audit.verify(desk.ctx).ok


def test_a_shared_task_keeps_its_other_holders(desk: Desk) -> None:
    """Finance review is one task shared by the finance reviewers: liu.yang hands over his
    part to gao.feng; ma.li still holds it, and either of them decides."""
    ticket_id = desk.submit(LARGE)
    task = desk.task(ticket_id, "finance_review")
    _transfer(desk, "liu.yang", task.id, "gao.feng")
    moved = desk.task(ticket_id, "finance_review")
    assert _holders(desk, moved) == ["gao.feng", "ma.li"]
    tickets.approve(desk.ctx, actor=desk.actors["ma.li"], task_id=moved.id)
    assert not [t for t in desk.view(ticket_id).open_tasks if t.node_id == "finance_review"]


@pytest.mark.parametrize(
    ("who", "to", "error", "code"),
    [
        ("li.na", "li.na", ValidationFailed, "transfer_to_self"),
        ("li.na", "nobody.here", ValidationFailed, "unknown_user"),
        ("li.na", "", ValidationFailed, "transfer_target_required"),
        ("admin", "huang.lei", Forbidden, "not_assignee"),  # sees the ticket, holds no task
        ("xie.ting", "huang.lei", NotFound, "task_not_found"),  # cannot see the ticket
    ],
)
def test_refused_transfers_change_nothing(
    desk: Desk, who: str, to: str, error: type[Exception], code: str
) -> None:
    ticket_id = desk.submit(SMALL)
    task = desk.task(ticket_id, "branch_review")
    before = desk.view(ticket_id)
    with pytest.raises(error) as refused:
        _transfer(desk, who, task.id, to)
    assert getattr(refused.value, "code", None) == code
    after = desk.view(ticket_id)
    assert [(t.id, t.state) for t in after.tasks] == [(t.id, t.state) for t in before.tasks]
    assert len(after.timeline) == len(before.timeline)
    assert _audit(desk, "task.transfer") == []


def test_an_inactive_person_and_an_approver_of_the_step_are_refused(desk: Desk) -> None:
    org.set_active(desk.ctx, desk.actors["admin"], "huang.lei", False)
    ticket_id = desk.submit(SMALL)
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(ValidationFailed) as inactive:
        _transfer(desk, "li.na", task.id, "huang.lei")
    assert inactive.value.code == "user_inactive"
    assert inactive.value.errors[0].path == "to"
    large = desk.submit(LARGE)
    finance = desk.task(large, "finance_review")
    with pytest.raises(Conflict) as twice:  # edge case 38: ma.li already holds this step
        _transfer(desk, "liu.yang", finance.id, "ma.li")
    assert twice.value.code == "already_approver"


def test_a_transfer_racing_the_other_holders_approval(desk: Desk) -> None:
    """liu.yang hands the shared finance task to gao.feng while ma.li approves it: one of
    them wins, the other is a 409, and the ticket never has two finance tasks."""
    for _ in range(8):
        ticket_id = desk.submit(LARGE)
        task = desk.task(ticket_id, "finance_review")
        results = Racers(2).race(
            [
                lambda t=task.id: _transfer(desk, "liu.yang", t, "gao.feng"),
                lambda t=task.id: tickets.approve(desk.ctx, actor=desk.actors["ma.li"], task_id=t),
            ]
        )
        won = [r for r in results if isinstance(r, tickets.StepOutcome)]
        lost = [r for r in results if not isinstance(r, tickets.StepOutcome)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], Conflict) and lost[0].code == "task_not_open", results
        finance = [t for t in desk.view(ticket_id).open_tasks if t.node_id == "finance_review"]
        if results[0] is won[0]:  # transferred: one task, held by gao.feng and ma.li
            assert [_holders(desk, t) for t in finance] == [["gao.feng", "ma.li"]]
        else:  # approved by ma.li: finance review is done
            assert finance == []
    assert audit.verify(desk.ctx).ok


def test_a_hand_over_moves_a_leavers_tasks_to_their_manager(desk: Desk) -> None:
    filed = [desk.submit(SMALL) for _ in range(3)]
    result = transfers.hand_over(desk.ctx, actor=desk.actors["admin"], username="li.na")
    assert result.to_username == "zhou.hang"  # li.na's manager
    assert len(result.moved) == 3 and result.left == ()
    assert _inbox(desk, "li.na") == []
    assert sorted(t for t, state in _inbox(desk, "zhou.hang") if state == "open") == sorted(filed)
    entries = _audit(desk, "task.hand_over")
    assert len(entries) == 3 and all(e["to"] == "zhou.hang" and e["hand_over"] for e in entries)
    [event] = [e for e in desk.view(filed[0]).timeline if e.kind == "task_transferred"]
    assert (
        event.actor is not None and event.actor.id == desk.actors["li.na"].user_id
    )  # whose task it was
    assert event.data is not None and event.data["by"] == desk.actors["admin"].user_id
    assert audit.verify(desk.ctx).ok


def test_a_hand_over_reports_the_tasks_it_cannot_move(desk: Desk) -> None:
    """liu.yang's finance tasks cannot go to ma.li, who already holds them (edge 38): they
    stay with liu.yang and are listed, while his other task moves."""
    large = desk.submit(LARGE)
    small = desk.submit(SMALL)
    _transfer(desk, "li.na", desk.task(small, "branch_review").id, "liu.yang")
    result = transfers.hand_over(
        desk.ctx, actor=desk.actors["admin"], username="liu.yang", to="ma.li"
    )
    finance = desk.task(large, "finance_review")
    assert result.left == ((finance.id, "already_approver"),)
    assert len(result.moved) == 1
    assert _holders(desk, desk.task(small, "branch_review")) == ["ma.li"]


def test_only_administrators_hand_over_and_a_target_is_needed(desk: Desk) -> None:
    with pytest.raises(Forbidden):
        transfers.hand_over(desk.ctx, actor=desk.actors["li.na"], username="zhang.wei")
    with pytest.raises(ValidationFailed) as no_manager:  # the president has no manager
        transfers.hand_over(desk.ctx, actor=desk.actors["admin"], username="zhou.hang")
    assert no_manager.value.code == "no_handover_target"
    with pytest.raises(NotFound):
        transfers.hand_over(desk.ctx, actor=desk.actors["admin"], username="nobody.here")


def test_deactivating_a_person_hands_their_open_tasks_to_their_manager(desk: Desk) -> None:
    """Seed 003: a leaver's work goes to their direct manager, with nothing to remember."""
    ticket_id = desk.submit(SMALL)
    org.set_active(desk.ctx, desk.actors["admin"], "li.na", False)
    assert _holders(desk, desk.task(ticket_id, "branch_review")) == ["zhou.hang"]
    [entry] = _audit(desk, "task.hand_over")
    assert entry["to"] == "zhou.hang"


def test_a_leaver_without_an_active_manager_keeps_their_tasks_for_an_administrator(
    desk: Desk,
) -> None:
    ticket_id = desk.submit(SMALL)
    org.set_active(desk.ctx, desk.actors["admin"], "zhou.hang", False)  # li.na's manager
    org.set_active(desk.ctx, desk.actors["admin"], "li.na", False)
    task = desk.task(ticket_id, "branch_review")
    assert _holders(desk, task) == ["li.na"]  # never silently dropped
    result = transfers.hand_over(
        desk.ctx, actor=desk.actors["admin"], username="li.na", to="huang.lei"
    )
    assert result.moved == (task.id,)
    assert _holders(desk, desk.task(ticket_id, "branch_review")) == ["huang.lei"]


def test_a_hand_over_gives_the_leavers_own_tickets_to_the_new_owner(desk: Desk) -> None:
    """ADR 0034: zhang.wei leaves; his running tickets go to huang.lei, who then owns them
    (我发起, 撤回, 催办, resubmit after a return); the timeline and the audit say so."""
    from flowdesk.services import task_returns, ticket_actions, withdrawals

    fresh = desk.submit(SMALL)
    returned = desk.submit(SMALL)
    task_returns.return_task(
        desk.ctx,
        actor=desk.actors["li.na"],
        task_id=desk.task(returned, "branch_review").id,
        target=task_returns.APPLICANT,
        comment="请补充材料",
    )
    result = transfers.hand_over(
        desk.ctx, actor=desk.actors["admin"], username="zhang.wei", to="huang.lei"
    )
    assert sorted(result.tickets_moved) == sorted([fresh, returned])
    assert result.tickets_left == ()
    new_owner = desk.actors["huang.lei"]
    for ticket_id in (fresh, returned):
        assert desk.view(ticket_id).requester.id == new_owner.user_id
    [event] = [e for e in desk.view(fresh).timeline if e.kind == "ticket_owner_changed"]
    assert event.data is not None
    assert event.data["from"] == desk.actors["zhang.wei"].user_id
    assert event.data["to"] == new_owner.user_id
    entries = _audit(desk, "ticket.hand_over")
    assert len(entries) == 2 and all(
        e["from"] == "zhang.wei" and e["to"] == "huang.lei" for e in entries
    )
    # the new owner acts as the applicant: urges one, resubmits the returned one
    ticket_actions.urge(desk.ctx, actor=new_owner, ticket_id=fresh)
    [start] = [t for t in desk.view(returned).open_tasks if t.node_id == "start"]
    assert [p.id for p in start.assignees] == [new_owner.user_id]
    assert _notices(desk, transfers.OWNED_NOTICE) == ["huang.lei", "huang.lei"]
    withdrawals.withdraw_ticket(desk.ctx, actor=new_owner, ticket_id=fresh)
    assert audit.verify(desk.ctx).ok


def test_an_owned_ticket_whose_step_the_new_owner_decides_stays(desk: Desk) -> None:
    """By default the tickets go to the leaver's manager, li.na, who decides their branch
    review: maker-checker keeps them with zhang.wei, reported as self_approval."""
    ticket_id = desk.submit(SMALL)
    result = transfers.hand_over(desk.ctx, actor=desk.actors["admin"], username="zhang.wei")
    assert result.to_username == "li.na"
    assert result.tickets_left == ((ticket_id, "self_approval"),)
    assert desk.view(ticket_id).requester.id == desk.actors["zhang.wei"].user_id
    assert _audit(desk, "ticket.hand_over") == []
