"""APPROVALS.md edge cases through the services, on SQLite and PostgreSQL: an 或签
rejection and the other holder's 已办 (edge case 2), a role that gains a member while
its 会签 is open (edge case 4), an added signer's transfer in the history (edge case
10), a rejection while a branch's child ticket runs (edge case
23), an out-of-office substitute and de-duplication by the principal (edge case 30),
de-duplication at any earlier step and on a 会签 (edge case 31), the approver who is
the requester (edge case 32) and approvers who all left (edge case 33).
docs/approvals-coverage.md maps every edge case to its tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import text

from approval_apps import DEPUTIES, Step, line_app, yaml_of
from call_apps import INPUTS, child_app
from flowdesk.engines.process import StepFailed
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import (
    add_signs,
    apps,
    audit,
    calls,
    delegations,
    org,
    tickets,
    transfers,
    views,
)
from flowdesk.services.list_query import parse_list_query

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


def _refused_nothing_filed(desk: Desk, who: str) -> None:
    """`who`'s submit names nobody for the step: 422 no_assignee, no ticket, audit intact."""
    before = _tickets(desk)
    with pytest.raises(StepFailed) as refused:
        _submit(desk, who)
    assert (refused.value.status, refused.value.code) == (422, "no_assignee")
    assert _tickets(desk) == before
    assert audit.verify(desk.ctx).ok


def _task_id(desk: Desk, ticket_id: str, who: str) -> str:
    user_id = desk.actors[who].user_id
    (task,) = [
        t for t in desk.view(ticket_id).open_tasks if any(p.id == user_id for p in t.assignees)
    ]
    return task.id


def _decide(desk: Desk, ticket_id: str, who: str, outcome: str = "approve") -> str:
    """`who` decides their own open task of the ticket; its id."""
    task_id = _task_id(desk, ticket_id, who)
    decide = tickets.approve if outcome == "approve" else tickets.reject
    decide(desk.ctx, actor=desk.actors[who], task_id=task_id, comment="意见")
    return task_id


def _done(desk: Desk, who: str) -> list[str]:
    query = parse_list_query({}, default_limit=100)
    return [t.id for t in views.task_list(desk.ctx, desk.actors[who], query, done=True).items]


def _li_na_away(desk: Desk) -> None:
    """li.na is away this week; huang.lei stands in for her."""
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


def test_edge_case_2_an_or_sign_rejection_is_not_the_other_holders_action(desk: Desk) -> None:
    """或签 of two deputy heads: chen.jing rejects; the ticket is rejected at once, and
    yang.guang's task is cancelled by her decision, in nobody's 已办 but hers."""
    apps.publish_yaml(desk.ctx, yaml_of(line_app("deputies", (Step("sign", DEPUTIES, "any"),))))
    filed = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="deputies", values=loan_values()
    )
    rejected = _decide(desk, filed.ticket_id, "chen.jing", "reject")
    other = next(t.id for t in desk.view(filed.ticket_id).tasks if t.id != rejected)
    view = desk.view(filed.ticket_id)
    assert view.status == "rejected" and view.open_tasks == ()
    assert {t.id: t.state for t in view.tasks} == {rejected: "rejected", other: "cancelled"}
    assert _done(desk, "chen.jing") == [rejected]
    assert _done(desk, "yang.guang") == []
    (closed,) = [e for e in view.timeline if e.kind == "task_cancelled"]
    assert closed.actor is None
    assert closed.data == {"reason": "node_decided", "decided_by": desk.actors["chen.jing"].user_id}


def test_edge_case_4_a_role_gaining_a_member_leaves_the_open_countersign_alone(
    desk: Desk,
) -> None:
    """A 会签 of the contract reviewer role (xu.ming, liu.yang, hu.bin) is open when
    guo.qing joins the role: she gets no task, and the three approvals still decide.
    The next ticket's 会签 includes her."""
    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"})
    ticket_id = _submit(desk, "zhang.wei")
    org.save_user(desk.ctx, desk.actors["admin"], "guo.qing", {"roles": ["contract_reviewer"]})
    assert _open(desk, ticket_id) == [
        ("check", ["xu.ming"]),
        ("check", ["liu.yang"]),
        ("check", ["hu.bin"]),
    ]
    for who in ("xu.ming", "liu.yang", "hu.bin"):
        _decide(desk, ticket_id, who)
    assert _open(desk, ticket_id) == [("pay", ["zhao.lei"])]
    assert ("check", ["guo.qing"]) in _open(desk, _submit(desk, "zhang.wei"))


def test_edge_case_10_an_added_signers_transfer_is_in_the_history(desk: Desk) -> None:
    """li.na adds song.jie before her; song.jie hands his task to luo.xin: li.na still
    waits, luo.xin holds song.jie's place, and the history shows song.jie → luo.xin
    (his task closed transferred, the timeline's task_transferred by him to luo.xin)."""
    _publish(desk, assignee={"kind": "user", "user": "li.na"})
    ticket_id = _submit(desk, "zhang.wei")
    parent = _task_id(desk, ticket_id, "li.na")
    add_signs.add_signers(
        desk.ctx, actor=desk.actors["li.na"], task_id=parent, users=["song.jie"], position="before"
    )
    signer = _task_id(desk, ticket_id, "song.jie")
    transfers.transfer(
        desk.ctx, actor=desk.actors["song.jie"], task_id=signer, to="luo.xin", comment="请罗欣处理"
    )
    view = desk.view(ticket_id)
    assert [(t.id == parent, t.waiting) for t in view.open_tasks] == [(True, True), (False, False)]
    assert {t.id: t.state for t in view.tasks}[signer] == "transferred"
    [event] = [e for e in view.timeline if e.kind == "task_transferred"]
    assert event.actor is not None and event.actor.id == desk.actors["song.jie"].user_id
    assert event.data == {"to": desk.actors["luo.xin"].user_id}
    _decide(desk, ticket_id, "luo.xin")
    assert not any(t.waiting for t in desk.view(ticket_id).open_tasks)
    _decide(desk, ticket_id, "li.na")
    assert _open(desk, ticket_id) == [("pay", ["zhao.lei"])]


def test_edge_case_23_a_rejection_cancels_the_other_branch_and_its_child_ticket(
    desk: Desk,
) -> None:
    """Branch P files a child ticket (call activity), branch Q is xu.ming's review. His
    rejection ends the parent rejected and, on the worker's next pass, cancels the
    running child with its open task."""
    definition = line_app("parallel_order", (), serial_prefix="PAR")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel_gateway"},
            {
                "id": "call",
                "type": "call_activity",
                "call": {"app": "credit_check", "inputs": INPUTS},
            },
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {"id": "join", "type": "parallel_gateway"},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "call"},
            {"from": "split", "to": "review"},
            {"from": "call", "to": "join"},
            {"from": "review", "to": "join"},
            {"from": "join", "to": "end"},
        ],
    }
    apps.publish_yaml(desk.ctx, child_app())
    apps.publish_yaml(desk.ctx, yaml_of(definition))
    parent = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="parallel_order", values=loan_values()
    ).ticket_id
    assert calls.run_due(desk.ctx).started == 1
    (child,) = [c.ticket_id for c in desk.view(parent).children]
    assert _open(desk, child) == [("check", ["xu.ming"])]
    desk.reject("xu.ming", parent, "review")
    assert desk.view(parent).status == "rejected"
    assert calls.run_due(desk.ctx).cancelled == 1
    child_view = desk.view(child)
    assert child_view.status == "cancelled" and child_view.open_tasks == ()
    assert [t.state for t in child_view.tasks] == ["cancelled"]


def test_edge_case_30_the_applicant_never_stands_in_on_their_own_ticket(desk: Desk) -> None:
    """li.na is away with huang.lei as her substitute. huang.lei's own ticket at li.na's
    step stays with li.na (the self-approval check sees the principal's task would come
    back to its applicant); anyone else's ticket goes to huang.lei on li.na's behalf."""
    _li_na_away(desk)
    _publish(desk, assignee={"kind": "user", "user": "li.na"})
    assert _open(desk, _submit(desk, "huang.lei")) == [("check", ["li.na"])]
    other = _submit(desk, "zhang.wei")
    assert _open(desk, other) == [("check", ["huang.lei"])]
    [opened] = [e for e in desk.view(other).timeline if e.kind == "task_opened"]
    assert opened.data is not None
    assert opened.data["on_behalf_of"] == {
        desk.actors["huang.lei"].user_id: desk.actors["li.na"].user_id
    }


def test_edge_case_30_de_duplication_compares_the_principal(desk: Desk) -> None:
    """li.na is away with huang.lei as her substitute. huang.lei approves step one on
    li.na's behalf: that approval is li.na's. Step two is huang.lei's own, with
    approve_once: huang.lei decides it in person (he approved nothing as himself).
    Step three is li.na's, with approve_once: it passes by itself, naming li.na."""
    _li_na_away(desk)
    steps = (
        Step("first", ("li.na",)),
        Step("second", ("huang.lei",), extra={"approve_once": True}),
        Step("third", ("li.na",), extra={"approve_once": True}),
        Step("pay", ("zhao.lei",)),
    )
    apps.publish_yaml(desk.ctx, yaml_of(line_app("audit", steps)))
    ticket_id = _submit(desk, "zhang.wei")
    assert _open(desk, ticket_id) == [("first", ["huang.lei"])]
    _decide(desk, ticket_id, "huang.lei")
    assert _skipped(desk, ticket_id) == []
    assert _open(desk, ticket_id) == [("second", ["huang.lei"])]
    _decide(desk, ticket_id, "huang.lei")
    assert _skipped(desk, ticket_id) == [("third", "same_approver")]
    assert _open(desk, ticket_id) == [("pay", ["zhao.lei"])]
    [skipped] = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert skipped.data is not None
    assert skipped.data["approvers"] == [desk.actors["huang.lei"].user_id]


def test_edge_case_31_any_earlier_step_and_only_their_countersign_task(desk: Desk) -> None:
    """li.na approved step one and sits in the 会签 of step three (approve_once) with
    huang.lei: her task there is approved at once (reason same_approver, in the
    timeline), huang.lei still decides, and the ticket goes on when he approves. An
    edit of the form in between turns de-duplication off for the approvals before it."""
    steps = (
        Step("first", ("li.na",)),
        Step("second", ("zhao.lei",)),
        Step("third", ("li.na", "huang.lei"), "all", extra={"approve_once": True}),
        Step("pay", ("sun.li",)),
    )
    apps.publish_yaml(desk.ctx, yaml_of(line_app("audit", steps)))
    ticket_id = _submit(desk, "zhang.wei")
    _decide(desk, ticket_id, "li.na")
    _decide(desk, ticket_id, "zhao.lei")
    assert _open(desk, ticket_id) == [("third", ["huang.lei"])]
    view = desk.view(ticket_id)
    li_na = desk.actors["li.na"].user_id
    [auto] = [e for e in view.timeline if e.kind == "task_approved" and e.node_id == "third"]
    assert auto.actor is not None and auto.actor.id == li_na
    assert auto.data == {"reason": "same_approver", "decided_by": li_na}
    _decide(desk, ticket_id, "huang.lei")
    assert _open(desk, ticket_id) == [("pay", ["sun.li"])]


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


def test_edge_case_32_the_requester_rule_first_then_the_empty_rule(desk: Desk) -> None:
    """The requester rule comes before the empty rule: requester skip passes the step
    (node_skipped requester); requester leader goes to the department head lin.tao, and
    past her when inactive to the next manager up (zhou.hang). With no active manager
    at all the empty rule decides, per step: approve passes it, admin gives it to the
    administrators; the submit is never refused."""
    _publish(desk, assignee=AUDITORS, on_empty={"action": "admin", "requester": "skip"})
    own = _submit(desk, "sun.li")
    assert _skipped(desk, own) == [("check", "requester")]
    assert _open(desk, own) == [("pay", ["zhao.lei"])]

    _publish(desk, assignee=AUDITORS, on_empty={"action": "approve", "requester": "leader"})
    assert _open(desk, _submit(desk, "sun.li")) == [("check", ["lin.tao"])]
    org.set_active(desk.ctx, desk.actors["admin"], "lin.tao", False)
    assert _open(desk, _submit(desk, "sun.li")) == [("check", ["zhou.hang"])]
    org.set_active(desk.ctx, desk.actors["admin"], "zhou.hang", False)
    passed = _submit(desk, "sun.li")
    assert _skipped(desk, passed) == [("check", "no_assignee")]
    assert _open(desk, passed) == [("pay", ["zhao.lei"])]

    _publish(desk, assignee=AUDITORS, on_empty={"action": "admin", "requester": "leader"})
    to_admin = _submit(desk, "sun.li")
    assert _open(desk, to_admin) == [("check", ["admin"])]
    assert _via(desk, to_admin) == ["admin"]


def _via(desk: Desk, ticket_id: str) -> list[object]:
    """How the empty rule found each opened task's people (task_opened's via)."""
    return [
        (e.data or {}).get("via", "")
        for e in desk.view(ticket_id).timeline
        if e.kind == "task_opened" and e.node_id == "check"
    ]


def test_edge_case_33_everyone_left_goes_to_the_fallback_then_the_admin(desk: Desk) -> None:
    """Every contract reviewer has left: the empty rule gives the step to the fallback
    person (via fallback). When the fallback person has left too the step goes to the
    process admins, here the administrators (via admin): never a task nobody holds,
    never a refused submit. The empty rule can also approve (the step passes) or reject
    (the ticket ends rejected), the reason in the timeline."""
    for person in ("xu.ming", "liu.yang", "hu.bin"):
        org.set_active(desk.ctx, desk.actors["admin"], person, False)
    fallback = {"action": "assign", "assignee": {"kind": "user", "user": "qian.yu"}}
    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"}, on_empty=fallback)
    to_fallback = _submit(desk, "zhang.wei")
    assert _open(desk, to_fallback) == [("check", ["qian.yu"])]
    assert _via(desk, to_fallback) == ["fallback"]

    org.set_active(desk.ctx, desk.actors["admin"], "qian.yu", False)
    to_admin = _submit(desk, "zhang.wei")
    assert _open(desk, to_admin) == [("check", ["admin"])]
    assert _via(desk, to_admin) == ["admin"]
    _decide(desk, to_admin, "admin")
    assert _open(desk, to_admin) == [("pay", ["zhao.lei"])]

    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"}, on_empty={"action": "approve"})
    passed = _submit(desk, "zhang.wei")
    assert _skipped(desk, passed) == [("check", "no_assignee")]
    assert _open(desk, passed) == [("pay", ["zhao.lei"])]

    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"}, on_empty={"action": "reject"})
    rejected = _submit(desk, "zhang.wei")
    assert desk.view(rejected).status == "rejected"
    assert _skipped(desk, rejected) == [("check", "no_assignee_rejected")]
    assert audit.verify(desk.ctx).ok


def test_a_step_without_an_empty_rule_is_refused_not_filed(desk: Desk) -> None:
    """A step with no on_empty whose rule names nobody: 422 no_assignee, nothing filed."""
    for person in ("xu.ming", "liu.yang", "hu.bin"):
        org.set_active(desk.ctx, desk.actors["admin"], person, False)
    _publish(desk, assignee=REVIEWERS, approval={"mode": "all"})
    _refused_nothing_filed(desk, "zhang.wei")
