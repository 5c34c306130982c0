"""Admin repairs through the services, on SQLite and PostgreSQL (ADR 0026): jump a ticket
to a step, reassign an open task, cancel a ticket, migrate tickets to a newer version;
who may, what the timeline, the audit and the notifications say, what is refused (and
leaves nothing behind), and a jump racing an approval."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import pytest
import yaml
from loan_desk import Desk, loan_values
from sqlalchemy import select
from test_concurrency import Racers

from approval_apps import CONTRACT_STEPS, line_app, yaml_of
from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import apps, jobs, repairs, task_returns, tickets
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification

COMMITTEE = "chen.jing,yang.guang,luo.xin"  # the credit_committee role, as the demo bank has it
DISBURSE = "zhao.lei,qian.yu"
REVIEWS = [("finance_review", "liu.yang,ma.li"), ("legal_review", "wang.fang")]


def _open(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(
        (t.node_id, ",".join(names[p.id] for p in t.assignees))
        for t in desk.view(ticket_id).open_tasks
    )


def _audit(desk: Desk, action: str) -> list[dict[str, Any]]:
    with desk.ctx.db.read() as conn:
        return [e.details for e in audit_store.entries(conn) if e.action == action]


def _notices(desk: Desk, kind: str) -> list[str]:
    jobs.run_due(desk.ctx, owner="worker")
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    table = Notification.__table__
    with desk.ctx.db.read() as conn:
        rows = conn.execute(select(table.c.user_id).where(table.c.kind == kind))
        return sorted(names[user] for (user,) in rows)


def _reasons(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    return [
        (e.node_id or "", str((e.data or {}).get("reason")))
        for e in desk.view(ticket_id).timeline
        if e.kind == "task_cancelled"
    ]


def _jump(desk: Desk, ticket_id: str, node: str, who: str = "admin", **kw: Any) -> Any:
    return repairs.jump(desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, node=node, **kw)


# --- jump ---------------------------------------------------------------------------------


def test_a_jump_out_of_parallel_reviews_closes_both_and_opens_the_committee(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    assert _open(desk, ticket_id) == REVIEWS
    outcome = _jump(desk, ticket_id, "committee", comment="审查已线下完成")
    assert outcome.status == "running"
    assert _open(desk, ticket_id) == [("committee", COMMITTEE)]
    assert sorted(_reasons(desk, ticket_id)) == [
        ("finance_review", "moved"),
        ("legal_review", "moved"),
    ]
    view = desk.view(ticket_id)
    [moved] = [e for e in view.timeline if e.kind == "ticket_jumped"]
    assert moved.node_id == "committee" and moved.comment == "审查已线下完成"
    assert moved.actor is not None and moved.actor.id == desk.actors["admin"].user_id
    [audit] = _audit(desk, "ticket.jump")
    assert audit["to"] == "committee" and audit["from"] == ["finance_review", "legal_review"]
    assert audit["opened"] == ["committee"]
    assert _notices(desk, "task_moved") == ["liu.yang", "ma.li", "wang.fang"]
    # the ticket goes on from there as usual
    desk.approve("luo.xin", ticket_id, "committee")
    assert _open(desk, ticket_id) == [("disburse", DISBURSE)]


def test_a_jump_back_before_the_split_runs_both_branches_again(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    desk.approve("ma.li", ticket_id, "finance_review")
    _jump(desk, ticket_id, "disburse")
    assert _open(desk, ticket_id) == [("disburse", DISBURSE)]
    _jump(desk, ticket_id, "committee")  # back again: the committee decides once more
    assert _open(desk, ticket_id) == [("committee", COMMITTEE)]


@pytest.mark.parametrize(
    ("node", "error", "code"),
    [
        ("nope", ValidationFailed, "unknown_node"),
        ("split", ValidationFailed, "not_user_task"),
        ("end_approved", ValidationFailed, "not_user_task"),
        ("legal_review", Conflict, "jump_into_parallel"),  # its join would wait forever
    ],
)
def test_a_jump_is_refused_with_a_precise_code_and_nothing_changes(
    desk: Desk, node: str, error: type[Exception], code: str
) -> None:
    ticket_id = desk.submit("120000.00")
    before = desk.view(ticket_id)
    with pytest.raises(error) as refused:
        _jump(desk, ticket_id, node)
    assert refused.value.code == code  # type: ignore[attr-defined]
    after = desk.view(ticket_id)
    assert [t.id for t in after.open_tasks] == [t.id for t in before.open_tasks]
    assert len(after.timeline) == len(before.timeline)
    assert _audit(desk, "ticket.jump") == []


def test_only_admins_and_process_admins_repair_and_finished_tickets_refuse(desk: Desk) -> None:
    ticket_id = desk.submit("30000.00")
    with pytest.raises(Forbidden) as refused:
        _jump(desk, ticket_id, "disburse", who="zhang.wei")
    assert refused.value.code == "not_repair_admin"
    with pytest.raises(Forbidden):
        repairs.cancel(desk.ctx, actor=desk.actors["wang.fang"], ticket_id=ticket_id, comment="x")
    with pytest.raises(NotFound):
        _jump(desk, "0" * 26, "disburse")
    repairs.cancel(desk.ctx, actor=desk.actors["admin"], ticket_id=ticket_id, comment="重复申请")
    with pytest.raises(Conflict) as finished:
        _jump(desk, ticket_id, "disburse")
    assert finished.value.code == "ticket_not_running"


def test_a_jump_racing_an_approval_has_exactly_one_winner(desk: Desk) -> None:
    for _ in range(3):
        ticket_id = desk.submit("30000.00")
        task = desk.task(ticket_id, "branch_review")
        results = Racers(2).race(
            [
                partial(tickets.approve, desk.ctx, actor=desk.actors["li.na"], task_id=task.id),
                partial(_jump, desk, ticket_id, "disburse", open_tasks=[task.id]),
            ]
        )
        failures = [r for r in results if isinstance(r, Exception)]
        assert len(failures) == 1, results
        assert isinstance(failures[0], Conflict), failures
        assert failures[0].code in ("task_not_open", "ticket_changed")
        # one disbursement task whoever won, never two
        assert _open(desk, ticket_id) == [("disburse", DISBURSE)]
        assert len(desk.view(ticket_id).tasks) == 2


# --- reassign -----------------------------------------------------------------------------


def _contract(desk: Desk) -> str:
    apps.publish_yaml(desk.ctx, yaml_of(line_app("contract", CONTRACT_STEPS)))
    return tickets.submit(
        desk.ctx,
        actor=desk.actors["zhang.wei"],
        app_key="contract",
        values=loan_values(),
    ).ticket_id


def _reassign(desk: Desk, task_id: str, to: list[str], who: str = "admin") -> Any:
    return repairs.reassign(desk.ctx, actor=desk.actors[who], task_id=task_id, to=to)


def test_an_admin_reassigns_one_countersigners_task_and_the_tally_holds(desk: Desk) -> None:
    ticket_id = _contract(desk)
    task = next(
        t
        for t in desk.view(ticket_id).open_tasks
        if t.assignees[0].id == desk.actors["ma.li"].user_id
    )
    _reassign(desk, task.id, ["chen.jing"])
    assert _open(desk, ticket_id) == [
        ("review", "chen.jing"),
        ("review", "liu.yang"),
        ("review", "wang.fang"),
    ]
    assert ("review", "reassigned") in _reasons(desk, ticket_id)
    [entry] = [e for e in desk.view(ticket_id).timeline if e.kind == "task_reassigned"]
    assert entry.data is not None and entry.data["users"] == [desk.actors["chen.jing"].user_id]
    assert _audit(desk, "task.reassign")[0]["to"] == ["chen.jing"]
    assert _notices(desk, "task_assigned").count("chen.jing") == 1
    assert _notices(desk, "task_moved") == ["ma.li"]
    # the 会签 still needs all three: the new holder's approval counts in ma.li's place
    for who in ("wang.fang", "liu.yang", "chen.jing"):
        task_id = next(
            t.id
            for t in desk.view(ticket_id).open_tasks
            if t.assignees[0].id == desk.actors[who].user_id
        )
        tickets.approve(desk.ctx, actor=desk.actors[who], task_id=task_id)
    assert [n for n, _ in _open(desk, ticket_id)] == ["deputies", "deputies"]


def test_a_reassign_refuses_the_applicant_a_second_vote_and_strangers(desk: Desk) -> None:
    ticket_id = _contract(desk)
    task = desk.view(ticket_id).open_tasks[0]
    with pytest.raises(Forbidden) as refused:
        _reassign(desk, task.id, ["zhang.wei"])  # the applicant: maker-checker
    assert refused.value.code == "self_approval"
    other = next(p for p in ("wang.fang", "liu.yang", "ma.li") if p != _holder(desk, task))
    with pytest.raises(Conflict) as twice:
        _reassign(desk, task.id, [other])  # already approves at this step
    assert twice.value.code == "already_approver"
    with pytest.raises(ValidationFailed) as many:
        _reassign(desk, task.id, ["chen.jing", "yang.guang"])
    assert many.value.code == "one_assignee_only"
    with pytest.raises(ValidationFailed) as unknown:
        _reassign(desk, task.id, ["nobody.here"])
    assert unknown.value.errors[0].code == "unknown_user"
    with pytest.raises(Forbidden) as not_admin:
        _reassign(desk, task.id, ["chen.jing"], who="wang.fang")
    assert not_admin.value.code == "not_repair_admin"
    assert _audit(desk, "task.reassign") == []


def _holder(desk: Desk, task: Any) -> str:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return names[task.assignees[0].id]


def test_a_single_approvers_task_can_go_to_several_people(desk: Desk) -> None:
    ticket_id = desk.submit("30000.00")
    task = desk.task(ticket_id, "branch_review")
    _reassign(desk, task.id, ["chen.jing", "yang.guang"])
    assert _open(desk, ticket_id) == [("branch_review", "chen.jing,yang.guang")]
    desk.approve("yang.guang", ticket_id, "branch_review")
    assert _open(desk, ticket_id) == [("disburse", DISBURSE)]


# --- cancel -------------------------------------------------------------------------------


def test_an_admin_cancels_with_a_reason(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    with pytest.raises(ValidationFailed) as no_reason:
        repairs.cancel(desk.ctx, actor=desk.actors["admin"], ticket_id=ticket_id, comment=" ")
    assert no_reason.value.errors[0].code == "required"
    outcome = repairs.cancel(
        desk.ctx, actor=desk.actors["admin"], ticket_id=ticket_id, comment="客户已撤回申请"
    )
    assert outcome.status == "cancelled"
    view = desk.view(ticket_id)
    assert view.status == "cancelled" and not view.open_tasks
    [entry] = [e for e in view.timeline if e.kind == "ticket_cancelled"]
    assert entry.actor is not None and entry.actor.id == desk.actors["admin"].user_id
    assert entry.comment == "客户已撤回申请" and (entry.data or {}).get("by_admin") is True
    assert _audit(desk, "ticket.admin_cancel")[0]["reason"] == "客户已撤回申请"
    # the applicant and the holders of the cancelled tasks hear of it
    assert _notices(desk, "ticket_cancelled") == ["liu.yang", "ma.li", "wang.fang", "zhang.wei"]


# --- migrate ------------------------------------------------------------------------------


def _loan_v2(desk: Desk, **renames: str) -> int:
    """Publishes the loan app again with nodes renamed (old id -> new id)."""
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    process = definition["process"]
    for node in process["nodes"]:
        node["id"] = renames.get(node["id"], node["id"])
    for flow in process["flows"]:
        flow["from"] = renames.get(flow["from"], flow["from"])
        flow["to"] = renames.get(flow["to"], flow["to"])
    return apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True)).version


def _migrate(desk: Desk, ids: list[str], version: int, mapping: dict[str, str]) -> Any:
    return repairs.migrate(
        desk.ctx, actor=desk.actors["admin"], ticket_ids=ids, version=version, mapping=mapping
    )


def test_migrating_tickets_moves_their_tokens_to_the_mapped_steps(desk: Desk) -> None:
    at_committee = desk.submit("120000.00")
    desk.approve("wang.fang", at_committee, "legal_review")
    desk.approve("ma.li", at_committee, "finance_review")
    in_reviews = desk.submit("130000.00")
    desk.approve("wang.fang", in_reviews, "legal_review")  # one branch done, one waiting
    old_version = desk.view(at_committee).app_version
    version = _loan_v2(desk, committee="credit_committee")
    mapping = {
        "committee": "credit_committee",
        "legal_review": "legal_review",
        "finance_review": "finance_review",
    }
    result = _migrate(desk, [at_committee, in_reviews], version, mapping)
    assert result.moved == (at_committee, in_reviews) and result.left == ()
    assert desk.view(at_committee).app_version == version > old_version
    assert _open(desk, at_committee) == [("credit_committee", COMMITTEE)]
    assert _open(desk, in_reviews) == [("finance_review", "liu.yang,ma.li")]
    [entry] = [e for e in desk.view(at_committee).timeline if e.kind == "ticket_migrated"]
    assert entry.data is not None and entry.data["to_version"] == version
    assert _audit(desk, "ticket.migrate")[0]["mapping"] == {"committee": "credit_committee"}
    # the waiting join kept its arrival: the finance review alone completes it
    desk.approve("ma.li", in_reviews, "finance_review")
    assert _open(desk, in_reviews) == [("credit_committee", COMMITTEE)]


def test_a_mapping_is_checked_against_every_ticket_before_anything_changes(desk: Desk) -> None:
    at_committee = desk.submit("120000.00")
    desk.approve("wang.fang", at_committee, "legal_review")
    desk.approve("ma.li", at_committee, "finance_review")
    in_reviews = desk.submit("130000.00")
    finished = desk.submit("30000.00")
    repairs.cancel(desk.ctx, actor=desk.actors["admin"], ticket_id=finished, comment="重复")
    version = _loan_v2(desk, committee="credit_committee")
    with pytest.raises(ValidationFailed) as refused:
        _migrate(
            desk,
            [at_committee, in_reviews, finished],
            version,
            {"committee": "split", "legal_review": "legal_review"},
        )
    assert refused.value.code == "migration_invalid"
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("ticket_ids[2]", "ticket_not_running")
    ]
    with pytest.raises(ValidationFailed) as refused:
        _migrate(desk, [at_committee, in_reviews], version, {"committee": "split"})
    assert sorted((e.path, e.code) for e in refused.value.errors) == [
        ("mapping.committee", "not_user_task"),
        ("mapping.finance_review", "node_not_mapped"),
        ("mapping.legal_review", "node_not_mapped"),
    ]
    with pytest.raises(ValidationFailed) as older:
        _migrate(desk, [at_committee], version - 1, {"committee": "committee"})
    assert older.value.errors[0].code == "version_not_newer"
    # nothing moved, nothing audited
    assert desk.view(at_committee).app_version == version - 1
    assert _open(desk, at_committee) == [("committee", COMMITTEE)]
    assert _audit(desk, "ticket.migrate") == []


def test_a_migration_refuses_tokens_that_could_not_finish_and_incompatible_fields(
    desk: Desk,
) -> None:
    in_reviews = desk.submit("130000.00")
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    fields = definition["form"]["fields"]
    purpose = next(f for f in fields if f["key"] == "purpose")
    fields.remove(purpose)  # the ticket's purpose would be lost
    version = apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True)).version
    with pytest.raises(ValidationFailed) as refused:
        # both branch tokens onto one line: the join could never fire
        _migrate(
            desk,
            [in_reviews],
            version,
            {"legal_review": "committee", "finance_review": "disburse"},
        )
    assert sorted((e.path, e.code) for e in refused.value.errors) == [
        ("ticket_ids[0]", "field_removed"),
        ("ticket_ids[0]", "tokens_strand"),
    ]
    assert _open(desk, in_reviews) == REVIEWS


def test_a_process_admin_repairs_without_being_an_administrator(desk: Desk) -> None:
    ticket_id = desk.submit("30000.00")
    process_admin = replace(desk.actors["chen.jing"], roles=frozenset({"process_admin"}))
    assert repairs.may_repair(process_admin) and not repairs.may_repair(desk.actors["chen.jing"])
    repairs.jump(desk.ctx, actor=process_admin, ticket_id=ticket_id, node="disburse")
    assert _open(desk, ticket_id) == [("disburse", DISBURSE)]
    assert _audit(desk, "ticket.jump")[0]["to"] == "disburse"


def test_a_ticket_resting_with_its_applicant_can_be_jumped_but_not_reassigned(
    desk: Desk,
) -> None:
    ticket_id = desk.submit("30000.00")
    task = desk.task(ticket_id, "branch_review")
    task_returns.return_task(
        desk.ctx,
        actor=desk.actors["li.na"],
        task_id=task.id,
        target=task_returns.APPLICANT,
        comment="请补充材料",
    )
    start = desk.task(ticket_id, "start")
    with pytest.raises(Conflict) as refused:
        _reassign(desk, start.id, ["chen.jing"])
    assert refused.value.code == "ticket_returned"
    _jump(desk, ticket_id, "branch_review", comment="材料已线下补齐")
    assert _open(desk, ticket_id) == [("branch_review", "li.na")]
    assert ("start", "moved") in _reasons(desk, ticket_id)


def test_edge_case_12_an_admin_removes_a_pending_countersigner_and_the_step_completes(
    desk: Desk,
) -> None:
    """APPROVALS.md edge case 12 (ADR 0041): wang.fang and liu.yang approved the 会签,
    ma.li is pending. An administrator removes ma.li: her task closes (approver_removed),
    she is told, the step is decided as approved with the two approvals, and the ticket
    goes on to the deputies; audited with the reason. A 或签 step's task is refused."""
    ticket_id = _contract(desk)

    def task_of(who: str) -> str:
        return next(
            t.id
            for t in desk.view(ticket_id).open_tasks
            if t.assignees[0].id == desk.actors[who].user_id
        )

    for who in ("wang.fang", "liu.yang"):
        tickets.approve(desk.ctx, actor=desk.actors[who], task_id=task_of(who))
    repairs.remove_approver(
        desk.ctx, actor=desk.actors["admin"], task_id=task_of("ma.li"), comment="已离职"
    )
    assert ("review", "approver_removed") in _reasons(desk, ticket_id)
    assert [n for n, _ in _open(desk, ticket_id)] == ["deputies", "deputies"]
    [decided] = [e for e in desk.view(ticket_id).timeline if e.kind == "node_decided"]
    assert decided.data is not None and decided.data["outcome"] == "approved"
    assert _audit(desk, "task.remove_approver")[0]["reason"] == "已离职"
    assert _notices(desk, "task_moved") == ["ma.li"]
    deputy = desk.view(ticket_id).open_tasks[0].id
    with pytest.raises(Conflict) as refused:
        repairs.remove_approver(desk.ctx, actor=desk.actors["admin"], task_id=deputy)
    assert refused.value.code == "not_a_countersign"
    with pytest.raises(Forbidden):
        repairs.remove_approver(desk.ctx, actor=desk.actors["zhang.wei"], task_id=deputy)
