"""APPROVALS.md edge cases that involve org data, on SQLite and PostgreSQL: the
approver who is the requester (edge case 32), approvers who all left (edge case 33) and
an out-of-office substitute who is the applicant (edge case 30). docs/approvals-coverage.md
maps every edge case to its tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import text

from approval_apps import Step, line_app, yaml_of
from flowdesk.engines.process import StepFailed
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import apps, audit, delegations, org, tickets

AUDITORS = {"kind": "role", "role": "auditor"}  # sun.li only
REVIEWERS = {"kind": "role", "role": "contract_reviewer"}  # xu.ming, liu.yang, hu.bin


def _publish(desk: Desk, **check: Any) -> None:
    """App `audit`: one step `check` (settings `check`), then the disbursement clerk."""
    steps = (Step("check", ("nobody",), extra=check), Step("pay", ("zhao.lei",)))
    apps.publish_yaml(desk.ctx, yaml_of(line_app("audit", steps)))


def _submit(desk: Desk, who: str) -> str:
    filed = tickets.submit(desk.ctx, actor=desk.actors[who], app_key="audit", values=loan_values())
    return filed.ticket_id


def _open(desk: Desk, ticket_id: str) -> list[tuple[str, list[str]]]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return [
        (t.node_id, sorted(names[p.id] for p in t.assignees))
        for t in desk.view(ticket_id).open_tasks
    ]


def _skipped(desk: Desk, ticket_id: str) -> list[tuple[str | None, object]]:
    return [
        (e.node_id, (e.data or {}).get("reason"))
        for e in desk.view(ticket_id).timeline
        if e.kind == "node_skipped"
    ]


def _tickets(desk: Desk) -> int:
    with desk.ctx.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM tickets")).scalar_one())


def test_edge_case_32_a_role_naming_only_the_requester_is_skipped_or_goes_to_the_leader(
    desk: Desk,
) -> None:
    """The auditor role is sun.li alone and sun.li files: maker-checker leaves her out
    before the empty rule is asked, so the step is skipped (on_empty skip, Lark's
    SKIP) or goes to her department head (on_empty assign applicant_manager, Lark's
    TRANSFER_DEPT_LEADER). Another applicant's ticket goes to sun.li as usual."""
    _publish(desk, assignee=AUDITORS, on_empty={"action": "skip"})
    own = _submit(desk, "sun.li")
    assert _open(desk, own) == [("pay", ["zhao.lei"])]
    assert _skipped(desk, own) == [("check", "no_assignee")]
    assert _open(desk, _submit(desk, "zhang.wei")) == [("check", ["sun.li"])]

    leader = {"action": "assign", "assignee": {"kind": "applicant_manager"}}
    _publish(desk, assignee=AUDITORS, on_empty=leader)
    assert _open(desk, _submit(desk, "sun.li")) == [("check", ["lin.tao"])]


def test_edge_case_32_no_leader_goes_up_the_chain_then_is_refused_not_approved(
    desk: Desk,
) -> None:
    """An inactive department head is passed over for the next manager up (zhou.hang).
    Where flowdesk differs: with no active manager at all the fallback names nobody and
    the submit is refused with no_assignee (nothing filed); APPROVALS.md (after yudao's
    TRANSFER_DEPT_LEADER) would auto-approve the step."""
    leader = {"action": "assign", "assignee": {"kind": "applicant_manager"}}
    _publish(desk, assignee=AUDITORS, on_empty=leader)
    org.set_active(desk.ctx, desk.actors["admin"], "lin.tao", False)
    assert _open(desk, _submit(desk, "sun.li")) == [("check", ["zhou.hang"])]
    org.set_active(desk.ctx, desk.actors["admin"], "zhou.hang", False)
    before = _tickets(desk)
    with pytest.raises(StepFailed) as refused:
        _submit(desk, "sun.li")
    assert (refused.value.status, refused.value.code) == (422, "no_assignee")
    assert _tickets(desk) == before
    assert audit.verify(desk.ctx).ok


def test_edge_case_33_everyone_left_goes_to_the_fallback_and_never_hangs(desk: Desk) -> None:
    """Every contract reviewer has left: the empty rule gives the step to the fallback
    person. When the fallback person has left too the submit is refused with
    no_assignee and nothing is filed, never a task nobody holds. APPROVALS.md would
    then go to the process admin; flowdesk goes there only when the fallback rule
    names that role (on_empty assign role process_admin)."""
    for person in ("xu.ming", "liu.yang", "hu.bin"):
        org.set_active(desk.ctx, desk.actors["admin"], person, False)
    fallback = {"action": "assign", "assignee": {"kind": "user", "user": "qian.yu"}}
    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"}, on_empty=fallback)
    assert _open(desk, _submit(desk, "zhang.wei")) == [("check", ["qian.yu"])]

    org.set_active(desk.ctx, desk.actors["admin"], "qian.yu", False)
    before = _tickets(desk)
    with pytest.raises(StepFailed) as refused:
        _submit(desk, "zhang.wei")
    assert (refused.value.status, refused.value.code) == (422, "no_assignee")
    assert _tickets(desk) == before

    skip = {"action": "skip"}  # or the empty rule's "auto-approve": the step passes
    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"}, on_empty=skip)
    passed = _submit(desk, "zhang.wei")
    assert _skipped(desk, passed) == [("check", "no_assignee")]
    assert _open(desk, passed) == [("pay", ["zhao.lei"])]


def test_edge_case_30_the_applicant_never_stands_in_on_their_own_ticket(desk: Desk) -> None:
    """li.na is away with huang.lei as her substitute. huang.lei's own ticket at li.na's
    step stays with li.na (the self-approval check sees the principal's task would come
    back to its applicant); anyone else's ticket goes to huang.lei on li.na's behalf."""
    clock = FrozenClock(datetime.now(UTC))
    desk.ctx.clock = clock
    delegations.create(
        desk.ctx,
        actor=desk.actors["li.na"],
        principal="li.na",
        delegate="huang.lei",
        starts_at=clock.now() - timedelta(hours=1),
        ends_at=clock.now() + timedelta(days=7),
    )
    _publish(desk, assignee={"kind": "user", "user": "li.na"})
    assert _open(desk, _submit(desk, "huang.lei")) == [("check", ["li.na"])]
    other = _submit(desk, "zhang.wei")
    assert _open(desk, other) == [("check", ["huang.lei"])]
    [opened] = [e for e in desk.view(other).timeline if e.kind == "task_opened"]
    assert opened.data is not None
    assert opened.data["on_behalf_of"] == {
        desk.actors["huang.lei"].user_id: desk.actors["li.na"].user_id
    }
