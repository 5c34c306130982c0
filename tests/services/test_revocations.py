"""通过后撤销 through the services, on SQLite and PostgreSQL (APPROVALS.md edge case 28, ADR
0042): the applicant revokes an approved ticket with the consent of everyone who approved
it, within the app's `withdraw.revoke_days` in force when it was approved; what the
timeline, the audit and the lists say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loan_desk import Desk, loan_values

from approval_apps import CONTRACT_STEPS, line_app, yaml_of
from flowdesk.engines.process.revoke import REVOKE_NODE
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import Conflict, Forbidden
from flowdesk.services import apps, revocations, tickets, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store

APPROVERS = ["chen.jing", "liu.yang", "ma.li", "wang.fang"]  # the 会签 three, one deputy


def _publish(desk: Desk, revoke_days: int) -> None:
    withdraw = {"revoke_days": revoke_days} if revoke_days else {}
    definition = line_app(
        "contract", CONTRACT_STEPS, **({"withdraw": withdraw} if withdraw else {})
    )
    apps.publish_yaml(desk.ctx, yaml_of(definition))


def _approved(desk: Desk) -> str:
    ticket_id = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    ).ticket_id
    for who in ("wang.fang", "liu.yang", "ma.li", "chen.jing"):
        _decide(desk, ticket_id, who, "approve")
    assert desk.view(ticket_id).status == "approved"
    return ticket_id


def _decide(desk: Desk, ticket_id: str, who: str, outcome: str) -> None:
    actor = desk.actors[who]
    task_id = next(
        t.id
        for t in desk.view(ticket_id).open_tasks
        if actor.user_id in {p.id for p in t.assignees}
    )
    tickets.complete_task(desk.ctx, actor=actor, task_id=task_id, outcome=outcome)  # type: ignore[arg-type]


def _revoke(desk: Desk, ticket_id: str, who: str = "zhang.wei", **kw: Any) -> Any:
    return revocations.revoke_ticket(desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, **kw)


def _refused(desk: Desk, ticket_id: str, code: str) -> None:
    with pytest.raises(Conflict) as refused:
        _revoke(desk, ticket_id)
    assert refused.value.code == code


@pytest.fixture
def clock(desk: Desk) -> FrozenClock:
    frozen = FrozenClock(datetime.now(UTC))
    desk.ctx.clock = frozen
    return frozen


def test_every_approver_agrees_and_the_ticket_is_revoked(desk: Desk, clock: FrozenClock) -> None:
    _publish(desk, 7)
    ticket_id = _approved(desk)
    applicant = desk.actors["zhang.wei"]
    assert revocations.may_revoke(desk.ctx, applicant, desk.view(ticket_id))
    assert not revocations.may_revoke(desk.ctx, desk.actors["ma.li"], desk.view(ticket_id))
    outcome = _revoke(desk, ticket_id, comment="项目取消")
    assert outcome.status == "running"
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    view = desk.view(ticket_id)
    assert view.status == "running"
    revocation = [t for t in view.open_tasks if t.node_id == REVOKE_NODE]
    assert sorted(names[p.id] for t in revocation for p in t.assignees) == APPROVERS
    assert {t.name["zh"] for t in revocation} == {"撤销审批"}
    [asked] = [e for e in view.timeline if e.kind == "revoke_requested"]
    assert asked.comment == "项目取消" and asked.actor is not None
    assert asked.actor.id == applicant.user_id
    with pytest.raises(Forbidden):  # the applicant does not decide her own revocation
        tickets.approve(desk.ctx, actor=applicant, task_id=revocation[0].id)
    for who in APPROVERS:
        _decide(desk, ticket_id, who, "approve")
    view = desk.view(ticket_id)
    assert view.status == "revoked" and not view.open_tasks
    assert view.timeline[-1].kind == "ticket_revoked"
    with desk.ctx.db.read() as conn:
        audit = [e for e in audit_store.entries(conn) if e.action == "ticket.revoke"]
    assert [e.details["approvers"] for e in audit] == [
        sorted(desk.actors[n].user_id for n in APPROVERS)
    ]
    page = views.ticket_list(
        desk.ctx, applicant, parse_list_query({"status": "revoked"}, default_limit=20), scope="mine"
    )
    assert [t.id for t in page.items] == [ticket_id]
    _refused(desk, ticket_id, "ticket_not_approved")


def test_one_rejection_leaves_the_ticket_approved(desk: Desk, clock: FrozenClock) -> None:
    _publish(desk, 7)
    ticket_id = _approved(desk)
    _revoke(desk, ticket_id)
    _decide(desk, ticket_id, "wang.fang", "approve")
    _decide(desk, ticket_id, "ma.li", "reject")
    view = desk.view(ticket_id)
    assert view.status == "approved" and not view.open_tasks
    reasons = [
        (e.data or {}).get("reason")
        for e in view.timeline
        if e.kind == "task_cancelled" and e.node_id == REVOKE_NODE
    ]
    assert reasons == ["revoke_rejected"] * 2
    # the window counts from the first approval: day 8 is too late, even after a retry
    clock.advance(timedelta(days=7, minutes=1))
    _refused(desk, ticket_id, "revoke_window_passed")


def test_refused_when_off_at_approval_and_after_the_window(desk: Desk, clock: FrozenClock) -> None:
    _publish(desk, 0)
    old = _approved(desk)
    _refused(desk, old, "revoke_off")
    _publish(desk, 3)  # a later version turns it on: the old ticket stays closed to it
    _refused(desk, old, "revoke_off")
    recent = _approved(desk)
    with pytest.raises(Forbidden) as other:
        _revoke(desk, recent, who="ma.li")
    assert other.value.code == "not_applicant"
    clock.advance(timedelta(days=3, seconds=1))
    _refused(desk, recent, "revoke_window_passed")
    assert desk.view(recent).status == "approved"
