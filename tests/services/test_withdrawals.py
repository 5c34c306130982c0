"""撤回 and 撤销 through the services, on SQLite and PostgreSQL (ADR 0019): the applicant's
withdraw and cancel, an approver's withdraw of their approval (APPROVALS.md edge cases
24-27), the app's and the step's settings, what the timeline, the audit, the lists and
the notifications say, and a withdraw racing an approval."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import select
from test_concurrency import Racers

from approval_apps import CONTRACT_STEPS, Step, line_app, yaml_of
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound
from flowdesk.services import apps, jobs, task_returns, tickets, views, withdrawals
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification


def _contract(desk: Desk, **top: Any) -> str:
    """会签 review (wang.fang, liu.yang, ma.li), then 或签 deputies (chen.jing, yang.guang)."""
    apps.publish_yaml(desk.ctx, yaml_of(line_app("contract", CONTRACT_STEPS, **top)))
    return tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id


def _open(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    return _open_people(desk, ticket_id)


def _open_people(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(
        (t.node_id, ",".join(names[p.id] for p in t.assignees))
        for t in desk.view(ticket_id).open_tasks
    )


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


def _withdraw(desk: Desk, ticket_id: str, who: str = "zhang.wei", **kw: Any) -> Any:
    return withdrawals.withdraw_ticket(desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, **kw)


def _cancel(desk: Desk, ticket_id: str, who: str = "zhang.wei", **kw: Any) -> Any:
    return withdrawals.cancel_ticket(desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, **kw)


def _approved_task(desk: Desk, ticket_id: str, node_id: str, who: str) -> str:
    user_id = desk.actors[who].user_id
    return next(
        t.id
        for t in reversed(desk.view(ticket_id).tasks)
        if t.node_id == node_id and t.state == "approved" and t.completed_by
        if t.completed_by.id == user_id
    )


def _retract(desk: Desk, ticket_id: str, node_id: str, who: str) -> Any:
    task_id = _approved_task(desk, ticket_id, node_id, who)
    return withdrawals.retract_decision(desk.ctx, actor=desk.actors[who], task_id=task_id)


def _approve(desk: Desk, who: str, ticket_id: str, node_id: str) -> None:
    """Approve `who`'s own open task at `node_id` (会签 and 或签 hold one each)."""
    actor = desk.actors[who]
    task_id = next(
        t.id
        for t in desk.view(ticket_id).open_tasks
        if t.node_id == node_id and actor.user_id in {p.id for p in t.assignees}
    )
    tickets.approve(desk.ctx, actor=actor, task_id=task_id)


def _approve_review(desk: Desk, ticket_id: str, *who: str) -> None:
    for name in who:
        _approve(desk, name, ticket_id, "review")


def _cancelled_reasons(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    return [
        (e.node_id or "", str((e.data or {}).get("reason")))
        for e in desk.view(ticket_id).timeline
        if e.kind == "task_cancelled"
    ]


def test_the_applicant_withdraws_before_anyone_acted_and_resubmits(desk: Desk) -> None:
    ticket_id = _contract(desk)
    options = withdrawals.options(desk.actors["zhang.wei"], desk.view(ticket_id))
    assert (options.withdraw, options.cancel, options.retract_task_id) == (True, True, None)
    outcome = _withdraw(desk, ticket_id, comment="金额填错了")
    assert outcome.status == "running"
    assert _open_people(desk, ticket_id) == [("start", "zhang.wei")]
    assert _cancelled_reasons(desk, ticket_id) == [("review", "withdrawn")] * 3
    view = desk.view(ticket_id)
    [event] = [e for e in view.timeline if e.kind == "ticket_withdrawn"]
    assert event.actor is not None and event.actor.id == desk.actors["zhang.wei"].user_id
    assert event.comment == "金额填错了"
    assert _audit(desk, "ticket.withdraw")[0]["cancelled"] == ["review"] * 3
    assert _notices(desk, "ticket_withdrawn") == ["liu.yang", "ma.li", "wang.fang"]
    # it rests with the applicant exactly as after a return: she edits and resubmits
    assert task_returns.returned_task_id(desk.actors["zhang.wei"], desk.view(ticket_id))
    again = withdrawals.options(desk.actors["zhang.wei"], desk.view(ticket_id))
    assert (again.withdraw, again.cancel) == (False, True)
    with pytest.raises(Conflict) as refused:
        _withdraw(desk, ticket_id)
    assert refused.value.code == "ticket_returned"
    task_returns.resubmit(
        desk.ctx,
        actor=desk.actors["zhang.wei"],
        ticket_id=ticket_id,
        values={"amount": "80000.00"},
    )
    assert [n for n, _ in _open_people(desk, ticket_id)] == ["review"] * 3
    # nobody has acted since the resubmission: she may withdraw again
    assert withdrawals.options(desk.actors["zhang.wei"], desk.view(ticket_id)).withdraw


def test_edge_case_27_after_an_approval_withdraw_is_refused_cancel_allowed(desk: Desk) -> None:
    ticket_id = _contract(desk)
    _approve_review(desk, ticket_id, "wang.fang")  # one of three countersigners acted
    with pytest.raises(Conflict) as refused:
        _withdraw(desk, ticket_id)
    assert (refused.value.status, refused.value.code) == (409, "already_processed")
    assert not withdrawals.options(desk.actors["zhang.wei"], desk.view(ticket_id)).withdraw
    outcome = _cancel(desk, ticket_id, comment="不再需要")
    assert outcome.status == "cancelled"
    view = desk.view(ticket_id)
    assert view.status == "cancelled" and not view.open_tasks
    assert _cancelled_reasons(desk, ticket_id) == [("review", "cancelled")] * 2
    [event] = [e for e in view.timeline if e.kind == "ticket_cancelled"]
    assert event.actor is not None and event.comment == "不再需要"
    assert _audit(desk, "ticket.cancel")[0]["status"] == "cancelled"
    # the holders of the cancelled tasks hear of it; the applicant, who did it, does not
    assert _notices(desk, "ticket_cancelled") == ["liu.yang", "ma.li"]
    # a finished ticket: nothing more
    for action in (_withdraw, _cancel):
        with pytest.raises(Conflict) as refused:
            action(desk, ticket_id)
        assert refused.value.code == "ticket_not_running"
    # the lists know the new final status
    page = views.ticket_list(
        desk.ctx,
        desk.actors["zhang.wei"],
        parse_list_query({"status": "cancelled"}, default_limit=20),
        scope="mine",
    )
    assert [t.id for t in page.items] == [ticket_id]


def test_only_the_applicant_withdraws_or_cancels(desk: Desk) -> None:
    ticket_id = _contract(desk)
    for action in (_withdraw, _cancel):
        with pytest.raises(Forbidden) as refused:
            action(desk, ticket_id, "wang.fang")  # holds a task: may read, may not withdraw
        assert refused.value.code == "not_applicant"
        with pytest.raises(NotFound):
            action(desk, ticket_id, "zhao.lei")  # may not even see it
    assert [n for n, _ in _open(desk, ticket_id)] == ["review"] * 3


def test_the_app_can_switch_withdraw_and_cancel_off(desk: Desk) -> None:
    ticket_id = _contract(desk, withdraw={"applicant": False, "cancel": False})
    options = withdrawals.options(desk.actors["zhang.wei"], desk.view(ticket_id))
    assert (options.withdraw, options.cancel) == (False, False)
    for action, code in ((_withdraw, "withdraw_not_allowed"), (_cancel, "cancel_not_allowed")):
        with pytest.raises(Conflict) as refused:
            action(desk, ticket_id)
        assert refused.value.code == code
    assert _audit(desk, "ticket.withdraw") == [] and _audit(desk, "ticket.cancel") == []


def test_edge_case_25_a_countersigner_withdraws_only_their_own_approval(desk: Desk) -> None:
    ticket_id = _contract(desk)
    _approve_review(desk, ticket_id, "wang.fang")
    first = _approved_task(desk, ticket_id, "review", "wang.fang")
    options = withdrawals.options(desk.actors["wang.fang"], desk.view(ticket_id))
    assert options.retract_task_id == first
    _retract(desk, ticket_id, "review", "wang.fang")
    assert _open_people(desk, ticket_id) == [
        ("review", "liu.yang"),
        ("review", "ma.li"),
        ("review", "wang.fang"),
    ]
    view = desk.view(ticket_id)
    assert first not in {t.id for t in view.open_tasks}  # a new task, the old one stays approved
    [event] = [e for e in view.timeline if e.kind == "decision_withdrawn"]
    assert event.task_id == first and event.actor is not None
    assert _audit(desk, "task.withdraw") == [
        {
            "task": first,
            "node": "review",
            "cancelled": [],
            "status": "running",
            "opened": ["review"],
        }
    ]
    with pytest.raises(Conflict) as refused:  # taken back once: nothing more to take back
        withdrawals.retract_decision(desk.ctx, actor=desk.actors["wang.fang"], task_id=first)
    assert refused.value.code == "already_processed"


def test_edge_case_24_the_last_approver_withdraws_before_the_next_step_acts(desk: Desk) -> None:
    ticket_id = _contract(desk)
    _approve_review(desk, ticket_id, "wang.fang", "liu.yang", "ma.li")
    assert [n for n, _ in _open(desk, ticket_id)] == ["deputies", "deputies"]
    # liu.yang's approval did not decide the step: the step moved on, it stands
    with pytest.raises(Conflict) as refused:
        _retract(desk, ticket_id, "review", "liu.yang")
    assert refused.value.code == "already_processed"
    _retract(desk, ticket_id, "review", "ma.li")
    assert _open_people(desk, ticket_id) == [("review", "ma.li")]
    assert _cancelled_reasons(desk, ticket_id) == [("deputies", "withdrawn")] * 2
    assert _notices(desk, "ticket_withdrawn") == ["chen.jing", "yang.guang"]
    _approve(desk, "ma.li", ticket_id, "review")
    _approve(desk, "chen.jing", ticket_id, "deputies")  # 或签: the next step acted
    assert desk.view(ticket_id).status == "approved"
    with pytest.raises(Conflict) as refused:
        _retract(desk, ticket_id, "review", "ma.li")
    assert refused.value.code == "ticket_not_running"


def test_edge_case_24_refused_once_anyone_at_the_next_step_acted(desk: Desk) -> None:
    apps.publish_yaml(
        desk.ctx,
        yaml_of(
            line_app(
                "contract",
                (Step("check", ("wang.fang",)), Step("review", ("liu.yang", "ma.li"), "all")),
            )
        ),
    )
    ticket_id = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id
    desk.approve("wang.fang", ticket_id, "check")
    _approve_review(desk, ticket_id, "liu.yang")  # one of the countersigners acted
    assert (
        withdrawals.options(desk.actors["wang.fang"], desk.view(ticket_id)).retract_task_id is None
    )
    with pytest.raises(Conflict) as refused:
        _retract(desk, ticket_id, "check", "wang.fang")
    assert (refused.value.status, refused.value.code) == (409, "already_processed")
    assert _open_people(desk, ticket_id) == [("review", "ma.li")]


def test_who_may_withdraw_an_approval(desk: Desk) -> None:
    ticket_id = _contract(desk)
    _approve_review(desk, ticket_id, "wang.fang")
    task_id = _approved_task(desk, ticket_id, "review", "wang.fang")
    with pytest.raises(Forbidden) as refused:
        withdrawals.retract_decision(desk.ctx, actor=desk.actors["liu.yang"], task_id=task_id)
    assert refused.value.code == "not_decider"
    with pytest.raises(NotFound):
        withdrawals.retract_decision(desk.ctx, actor=desk.actors["zhao.lei"], task_id=task_id)
    open_task = next(t for t in desk.view(ticket_id).open_tasks if t.assignees[0].id)
    holder = next(n for n, a in desk.actors.items() if a.user_id == open_task.assignees[0].id)
    with pytest.raises(Conflict) as refused:  # an open task was approved by nobody
        withdrawals.retract_decision(desk.ctx, actor=desk.actors[holder], task_id=open_task.id)
    assert refused.value.code == "not_approved"


def test_a_step_can_forbid_withdrawing_its_approvals(desk: Desk) -> None:
    steps = (
        Step("review", ("wang.fang",), extra={"withdraw": False}),
        Step("deputies", ("chen.jing",)),
    )
    apps.publish_yaml(desk.ctx, yaml_of(line_app("contract", steps)))
    ticket_id = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id
    desk.approve("wang.fang", ticket_id, "review")
    assert (
        withdrawals.options(desk.actors["wang.fang"], desk.view(ticket_id)).retract_task_id is None
    )
    with pytest.raises(Conflict) as refused:
        _retract(desk, ticket_id, "review", "wang.fang")
    assert refused.value.code == "withdraw_not_allowed"
    assert _audit(desk, "task.withdraw") == []


def test_edge_case_26_an_approval_that_completed_a_join_stands(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")  # the loan's parallel legal and finance reviews
    desk.approve("wang.fang", ticket_id, "legal_review")
    _retract(desk, ticket_id, "legal_review", "wang.fang")  # the join only held its arrival
    assert sorted(n for n, _ in _open(desk, ticket_id)) == ["finance_review", "legal_review"]
    desk.approve("ma.li", ticket_id, "finance_review")
    desk.approve("wang.fang", ticket_id, "legal_review")  # completes the join
    assert [n for n, _ in _open(desk, ticket_id)] == ["committee"]
    with pytest.raises(Conflict) as refused:
        _retract(desk, ticket_id, "legal_review", "wang.fang")
    assert refused.value.code == "decision_completed_join"
    with pytest.raises(Conflict) as refused:
        _retract(desk, ticket_id, "finance_review", "ma.li")
    assert refused.value.code == "already_processed"


def test_a_withdraw_racing_an_approval_has_one_winner(desk: Desk) -> None:
    apps.publish_yaml(desk.ctx, yaml_of(line_app("contract", CONTRACT_STEPS)))
    racers = Racers(2)
    applicant = desk.actors["zhang.wei"]
    for _ in range(10):
        ticket_id = tickets.submit(
            desk.ctx, actor=applicant, app_key="contract", values=loan_values()
        ).ticket_id
        task_id = next(
            t.id
            for t in desk.view(ticket_id).open_tasks
            if t.assignees[0].id == desk.actors["wang.fang"].user_id
        )
        results = racers.race(
            [
                partial(tickets.approve, desk.ctx, actor=desk.actors["wang.fang"], task_id=task_id),
                partial(
                    withdrawals.withdraw_ticket, desk.ctx, actor=applicant, ticket_id=ticket_id
                ),
            ]
        )
        winners = [r for r in results if isinstance(r, tickets.StepOutcome)]
        [loser] = [r for r in results if not isinstance(r, tickets.StepOutcome)]
        assert len(winners) == 1, results
        assert isinstance(loser, Conflict), repr(loser)
        assert loser.code in ("task_not_open", "already_processed")
        states = {t.state for t in desk.view(ticket_id).tasks if t.id == task_id}
        if loser.code == "task_not_open":  # the withdraw won: the ticket rests at the applicant
            assert states == {"cancelled"}
            assert [n for n, _ in _open(desk, ticket_id)] == ["start"]
        else:
            assert states == {"approved"}
            assert [n for n, _ in _open(desk, ticket_id)] == ["review", "review"]


def test_an_approver_withdraw_racing_the_next_steps_approval_has_one_winner(desk: Desk) -> None:
    apps.publish_yaml(
        desk.ctx,
        yaml_of(
            line_app(
                "contract",
                (
                    Step("check", ("wang.fang",)),
                    Step("next", ("ma.li",)),
                    Step("final", ("chen.jing",)),
                ),
            )
        ),
    )
    racers = Racers(2)
    for _ in range(10):
        ticket_id = tickets.submit(
            desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
        ).ticket_id
        desk.approve("wang.fang", ticket_id, "check")
        mine = _approved_task(desk, ticket_id, "check", "wang.fang")
        nxt = desk.task(ticket_id, "next").id
        results = racers.race(
            [
                partial(tickets.approve, desk.ctx, actor=desk.actors["ma.li"], task_id=nxt),
                partial(
                    withdrawals.retract_decision,
                    desk.ctx,
                    actor=desk.actors["wang.fang"],
                    task_id=mine,
                ),
            ]
        )
        winners = [r for r in results if isinstance(r, tickets.StepOutcome)]
        [loser] = [r for r in results if not isinstance(r, tickets.StepOutcome)]
        assert len(winners) == 1, results
        assert isinstance(loser, Conflict), repr(loser)
        view = desk.view(ticket_id)
        if loser.code == "task_not_open":  # the withdraw won
            assert [n for n, _ in _open(desk, ticket_id)] == ["check"]
        else:
            assert loser.code == "already_processed"
            assert [n for n, _ in _open(desk, ticket_id)] == ["final"]
            assert view.status == "running"
