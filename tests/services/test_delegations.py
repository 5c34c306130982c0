"""代理 (out-of-office substitutes) through the services, on SQLite and PostgreSQL: a
task created while the principal is away goes to their delegate and says on whose
behalf; outside the period, in another app, after a revoke or with an inactive delegate
it does not; and the rules' own refusals (APPROVALS.md edge case 30)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from loan_desk import Desk, loan_values

from approval_apps import REVIEWERS, Step, line_app, yaml_of
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import apps, audit, delegations, org, tickets

SMALL = "20000.00"  # branch review by the applicant's manager li.na


@pytest.fixture
def clock(desk: Desk) -> FrozenClock:
    frozen = FrozenClock(datetime.now(UTC))
    desk.ctx.clock = frozen
    return frozen


def _away(desk: Desk, clock: FrozenClock, who: str, to: str, **kw: object) -> str:
    start = kw.pop("starts_at", clock.now() - timedelta(hours=1))
    end = kw.pop("ends_at", clock.now() + timedelta(days=7))
    view = delegations.create(
        desk.ctx,
        actor=desk.actors[kw.pop("by", who)],  # type: ignore[index]
        principal=who,
        delegate=to,
        starts_at=start,  # type: ignore[arg-type]
        ends_at=end,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return view.id


def _holder(desk: Desk, ticket_id: str, node_id: str) -> list[str]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(names[p.id] for p in desk.task(ticket_id, node_id).assignees)


def test_a_task_created_while_away_goes_to_the_substitute_on_their_behalf(
    desk: Desk, clock: FrozenClock
) -> None:
    _away(desk, clock, "li.na", "huang.lei", note="年假")
    ticket_id = desk.submit(SMALL)
    assert _holder(desk, ticket_id, "branch_review") == ["huang.lei"]
    [opened] = [e for e in desk.view(ticket_id).timeline if e.kind == "task_opened"]
    assert opened.data is not None
    assert opened.data["on_behalf_of"] == {
        desk.actors["huang.lei"].user_id: desk.actors["li.na"].user_id
    }
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(desk.ctx, actor=desk.actors["huang.lei"], task_id=task.id)
    assert desk.task(ticket_id, "disburse")
    assert audit.verify(desk.ctx).ok


def test_outside_the_period_in_another_app_or_after_a_revoke_the_principal_decides(
    desk: Desk, clock: FrozenClock
) -> None:
    _away(desk, clock, "li.na", "huang.lei", starts_at=clock.now() + timedelta(days=1))
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["li.na"]  # not yet
    clock.advance(timedelta(days=1, minutes=1))
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["huang.lei"]
    clock.advance(timedelta(days=8))
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["li.na"]  # over

    scoped = _away(desk, clock, "li.na", "yu.hong", app_key="loan")
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["yu.hong"]
    delegations.revoke(desk.ctx, actor=desk.actors["li.na"], delegation_id=scoped)
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["li.na"]
    with pytest.raises(Conflict) as again:
        delegations.revoke(desk.ctx, actor=desk.actors["li.na"], delegation_id=scoped)
    assert again.value.code == "delegation_revoked"


def test_a_rule_for_another_app_does_not_apply(desk: Desk, clock: FrozenClock) -> None:
    apps.publish_yaml(desk.ctx, yaml_of(line_app("other", (Step("check", ("li.na",)),))))
    _away(desk, clock, "li.na", "huang.lei", app_key="other")
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["li.na"]
    filed = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="other", values=loan_values()
    )
    assert _holder(desk, filed.ticket_id, "check") == ["huang.lei"]


def test_a_substitute_who_already_approves_at_the_step_does_not_stand_in(
    desk: Desk, clock: FrozenClock
) -> None:
    """会签 of wang.fang, liu.yang and ma.li: wang.fang's substitute liu.yang would decide
    twice, so wang.fang keeps her task and the step still needs three approvals."""
    apps.publish_yaml(desk.ctx, yaml_of(line_app("contract", (Step("review", REVIEWERS, "all"),))))
    _away(desk, clock, "wang.fang", "liu.yang")
    filed = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="contract", values=loan_values()
    )
    holders = sorted(
        name
        for t in desk.view(filed.ticket_id).open_tasks
        for name, a in desk.actors.items()
        if any(p.id == a.user_id for p in t.assignees)
    )
    assert holders == sorted(REVIEWERS)


def test_an_inactive_substitute_stands_in_for_nobody(desk: Desk, clock: FrozenClock) -> None:
    _away(desk, clock, "li.na", "huang.lei")
    org.set_active(desk.ctx, desk.actors["admin"], "huang.lei", False)
    assert _holder(desk, desk.submit(SMALL), "branch_review") == ["li.na"]


@pytest.mark.parametrize(
    ("to", "kw", "error", "code"),
    [
        ("li.na", {}, ValidationFailed, "delegate_is_principal"),
        ("nobody.here", {}, ValidationFailed, "unknown_user"),
        ("huang.lei", {"ends_at_offset": -2}, ValidationFailed, "invalid_delegation"),
        ("huang.lei", {"app_key": "no_such_app"}, ValidationFailed, "unknown_app"),
        ("huang.lei", {"by": "zhang.wei"}, Forbidden, "not_your_delegation"),
    ],
)
def test_refused_rules(
    desk: Desk,
    clock: FrozenClock,
    to: str,
    kw: dict[str, object],
    error: type[Exception],
    code: str,
) -> None:
    options = dict(kw)
    offset = options.pop("ends_at_offset", None)
    if offset is not None:
        options["ends_at"] = clock.now() + timedelta(hours=float(offset))  # type: ignore[arg-type]
    with pytest.raises(error) as refused:
        _away(desk, clock, "li.na", to, **options)
    assert getattr(refused.value, "code", None) == code
    assert delegations.mine(desk.ctx, desk.actors["li.na"]) == []


def test_overlaps_and_chains_are_refused_and_administrators_set_rules_for_others(
    desk: Desk, clock: FrozenClock
) -> None:
    _away(desk, clock, "li.na", "huang.lei", by="admin")  # an administrator, for her
    with pytest.raises(Conflict) as overlap:
        _away(desk, clock, "li.na", "yu.hong", starts_at=clock.now() + timedelta(days=3))
    assert overlap.value.code == "delegation_overlaps"
    with pytest.raises(Conflict) as chain:  # li.na is away: she cannot stand in for anyone
        _away(desk, clock, "yu.hong", "li.na")
    assert chain.value.code == "delegate_away"
    [rule] = delegations.mine(desk.ctx, desk.actors["huang.lei"])  # the delegate sees it
    assert rule.principal == "li.na" and rule.delegate == "huang.lei"
    with pytest.raises(Forbidden):  # only the one away, or an administrator, ends it
        delegations.revoke(desk.ctx, actor=desk.actors["huang.lei"], delegation_id=rule.id)
    with pytest.raises(NotFound):
        delegations.revoke(desk.ctx, actor=desk.actors["zhang.wei"], delegation_id=rule.id)
