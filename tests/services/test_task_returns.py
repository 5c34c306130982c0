"""退回 and 重新提交 through the services, on SQLite and PostgreSQL: who may return and
resubmit, where to, what the timeline, 已办, the audit and the notifications say, and a
return racing an approval. Each edge case of APPROVALS.md is named in its test."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
import yaml
from loan_desk import Desk
from sqlalchemy import select
from test_concurrency import Racers

from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import apps, jobs, task_returns, tickets, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification


def _return(
    desk: Desk, who: str, ticket_id: str, node_id: str, target: str, **kw: Any
) -> tickets.StepOutcome:
    task = desk.task(ticket_id, node_id)
    return task_returns.return_task(
        desk.ctx,
        actor=desk.actors[who],
        task_id=task.id,
        target=target,
        comment=kw.pop("comment", "材料不全，请补充"),
        **kw,
    )


def _open(desk: Desk, ticket_id: str) -> list[str]:
    return sorted(t.node_id for t in desk.view(ticket_id).open_tasks)


def _states(desk: Desk, ticket_id: str) -> list[tuple[str, str]]:
    return [(t.node_id, t.state) for t in desk.view(ticket_id).tasks]


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


def _targets(desk: Desk, who: str, ticket_id: str, node_id: str) -> list[str]:
    task = desk.task(ticket_id, node_id)
    options = task_returns.return_options(desk.ctx, desk.actors[who], task.id)
    return [t.target for t in options.targets]


def _small_loan_at_disburse(desk: Desk) -> str:
    ticket_id = desk.submit("30000.00")
    desk.approve("li.na", ticket_id, "branch_review", "同意")
    return ticket_id


def test_edge_case_19_only_nodes_actually_passed_are_offered_and_accepted(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    # start → branch_review → disburse skipped the parallel reviews: they are no target
    assert _targets(desk, "zhao.lei", ticket_id, "disburse") == ["applicant", "branch_review"]
    with pytest.raises(ValidationFailed) as refused:
        _return(desk, "zhao.lei", ticket_id, "disburse", "legal_review")
    assert refused.value.code == "return_target_not_passed"
    assert _open(desk, ticket_id) == ["disburse"]


def test_edge_case_18_a_step_cannot_return_to_itself(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    with pytest.raises(ValidationFailed) as refused:
        _return(desk, "zhao.lei", ticket_id, "disburse", "disburse")
    assert refused.value.code == "return_to_current_node"


def test_return_to_a_passed_node_reopens_it_and_the_timeline_says_where(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    outcome = _return(desk, "zhao.lei", ticket_id, "disburse", "branch_review")

    assert outcome.status == "running"
    assert _open(desk, ticket_id) == ["branch_review"]
    assert ("disburse", "returned") in _states(desk, ticket_id)
    returned = [e for e in desk.view(ticket_id).timeline if e.kind == "task_returned"]
    assert len(returned) == 1
    assert returned[0].comment == "材料不全，请补充"
    assert returned[0].data is not None
    assert returned[0].data["to"] == "branch_review"
    assert returned[0].data["to_name"] == {"en": "Branch manager approval", "zh": "支行行长审批"}
    # the branch manager hears it came back; the audit names task, node and target
    assert _notices(desk, "ticket_returned") == ["li.na"]
    [audited] = _audit(desk, "task.return")
    assert (audited["node"], audited["to"], audited["opened"]) == (
        "disburse",
        "branch_review",
        ["branch_review"],
    )
    # approved again, the ticket runs on to disbursement (rerun, the default)
    desk.approve("li.na", ticket_id, "branch_review")
    assert _open(desk, ticket_id) == ["disburse"]


def test_the_returners_done_list_shows_the_return(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    _return(desk, "zhao.lei", ticket_id, "disburse", "applicant")
    query = parse_list_query({}, default_limit=20)
    done = views.task_list(desk.ctx, desk.actors["zhao.lei"], query, done=True)
    assert [(t.ticket_id, t.node_id, t.state) for t in done.items] == [
        (ticket_id, "disburse", "returned")
    ]


def test_edge_case_16_returning_out_of_a_parallel_branch_cancels_the_other_branch(
    desk: Desk,
) -> None:
    ticket_id = desk.submit("120000.00")
    assert _open(desk, ticket_id) == ["finance_review", "legal_review"]
    _return(desk, "ma.li", ticket_id, "finance_review", "applicant")

    # never leave the legal review alive: it is cancelled, the applicant holds the ticket
    assert _open(desk, ticket_id) == ["start"]
    states = dict(_states(desk, ticket_id))
    assert states["legal_review"] == "cancelled"
    assert states["finance_review"] == "returned"
    # the cancelled review is not the legal head's action: not in their 已办
    query = parse_list_query({}, default_limit=20)
    assert views.task_list(desk.ctx, desk.actors["wang.fang"], query, done=True).items == []
    # the applicant hears of it; resubmitted, both branches run again from the split
    assert _notices(desk, "ticket_returned") == ["zhang.wei"]
    task_returns.resubmit(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    assert _open(desk, ticket_id) == ["finance_review", "legal_review"]
    desk.approve("wang.fang", ticket_id, "legal_review")
    desk.approve("ma.li", ticket_id, "finance_review")
    assert _open(desk, ticket_id) == ["committee"]  # the join fired once, on fresh tokens


def test_edge_case_21_resubmit_reruns_every_node_after_a_return_to_the_applicant(
    desk: Desk,
) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    _return(desk, "zhao.lei", ticket_id, "disburse", "applicant")
    assert _open(desk, ticket_id) == ["start"]
    # the applicant's task is a resubmission, not an approval
    start = desk.task(ticket_id, "start")
    with pytest.raises(Conflict) as refused:
        tickets.approve(desk.ctx, actor=desk.actors["zhang.wei"], task_id=start.id)
    assert refused.value.code == "ticket_returned"

    outcome = task_returns.resubmit(
        desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id, comment="已补充"
    )
    assert outcome.status == "running"
    # re-run: the branch manager decides again before disbursement
    assert _open(desk, ticket_id) == ["branch_review"]
    assert ("start", "resubmitted") in _states(desk, ticket_id)


def test_resubmitted_values_are_checked_like_a_new_submission_and_kept_old_and_new(
    desk: Desk,
) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    _return(desk, "zhao.lei", ticket_id, "disburse", "applicant")
    applicant = desk.actors["zhang.wei"]
    with pytest.raises(ValidationFailed) as refused:
        task_returns.resubmit(
            desk.ctx, actor=applicant, ticket_id=ticket_id, values={"amount": "-5", "region": ""}
        )
    assert sorted(e.path for e in refused.value.errors) == ["amount", "region"]
    assert _open(desk, ticket_id) == ["start"]  # nothing written

    task_returns.resubmit(
        desk.ctx, actor=applicant, ticket_id=ticket_id, values={"purpose": "Ovens for a bakery"}
    )
    view = desk.view(ticket_id)
    assert view.values["purpose"] == "Ovens for a bakery"
    [changed] = [e for e in view.timeline if e.kind == "values_changed"]
    assert changed.data is not None
    assert changed.data["changes"] == [
        {"field": "purpose", "old": "Working capital for a bakery", "new": "Ovens for a bakery"}
    ]
    [audited] = _audit(desk, "ticket.resubmit")
    assert audited["changed_fields"] == ["purpose"]


def test_edge_case_22_straight_back_unless_the_edit_changes_the_route(desk: Desk) -> None:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] in ("branch_review", "disburse"):
            node["resubmit"] = "returner_chooses"
    apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    applicant = desk.actors["zhang.wei"]

    same_route = _small_loan_at_disburse(desk)
    options = task_returns.return_options(
        desk.ctx, desk.actors["zhao.lei"], desk.task(same_route, "disburse").id
    )
    assert options.returner_chooses
    _return(desk, "zhao.lei", same_route, "disburse", "applicant", resubmit="straight_back")
    task_returns.resubmit(desk.ctx, actor=applicant, ticket_id=same_route)
    assert _open(desk, same_route) == ["disburse"]  # straight back, no branch review again

    # the branch manager returns; the new amount routes to the parallel reviews, which
    # skip the branch manager: straight back is no longer possible, the path is re-run
    rerouted = desk.submit("30000.00")
    _return(desk, "li.na", rerouted, "branch_review", "applicant", resubmit="straight_back")
    task_returns.resubmit(
        desk.ctx, actor=applicant, ticket_id=rerouted, values={"amount": "120000.00"}
    )
    assert _open(desk, rerouted) == ["finance_review", "legal_review"]


def test_a_node_that_fixes_the_mode_refuses_a_choice(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    with pytest.raises(ValidationFailed) as refused:
        _return(desk, "zhao.lei", ticket_id, "disburse", "applicant", resubmit="straight_back")
    assert refused.value.code == "resubmit_fixed_by_node"


def test_a_return_needs_a_reason(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    with pytest.raises(ValidationFailed) as refused:
        _return(desk, "zhao.lei", ticket_id, "disburse", "applicant", comment="  ")
    assert [(e.path, e.code) for e in refused.value.errors] == [("comment", "required")]
    assert _open(desk, ticket_id) == ["disburse"]


def test_only_a_holder_of_the_open_task_returns_it(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    # the applicant can read the ticket but holds no task: 403; a stranger sees nothing
    with pytest.raises(Forbidden) as refused:
        _return(desk, "zhang.wei", ticket_id, "disburse", "applicant")
    assert refused.value.code == "not_assignee"
    with pytest.raises(NotFound):
        _return(desk, "ma.li", ticket_id, "disburse", "applicant")
    assert _open(desk, ticket_id) == ["disburse"]


def test_only_the_applicant_resubmits_and_only_a_returned_ticket(desk: Desk) -> None:
    ticket_id = _small_loan_at_disburse(desk)
    with pytest.raises(Conflict) as not_returned:
        task_returns.resubmit(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    assert not_returned.value.code == "not_returned"
    _return(desk, "zhao.lei", ticket_id, "disburse", "applicant")
    with pytest.raises(Forbidden) as refused:
        task_returns.resubmit(desk.ctx, actor=desk.actors["li.na"], ticket_id=ticket_id)
    assert refused.value.code == "not_applicant"
    with pytest.raises(NotFound):
        task_returns.resubmit(desk.ctx, actor=desk.actors["ma.li"], ticket_id=ticket_id)
    assert _open(desk, ticket_id) == ["start"]


def test_a_return_racing_an_approval_of_the_same_task_exactly_one_wins(desk: Desk) -> None:
    racers = Racers(2)
    for _ in range(20):
        ticket_id = _small_loan_at_disburse(desk)
        task_id = desk.task(ticket_id, "disburse").id
        actor = desk.actors["zhao.lei"]
        results = racers.race(
            [
                partial(tickets.approve, desk.ctx, actor=actor, task_id=task_id),
                partial(
                    task_returns.return_task,
                    desk.ctx,
                    actor=actor,
                    task_id=task_id,
                    target="branch_review",
                    comment="退回",
                ),
            ]
        )
        winners = [r for r in results if isinstance(r, tickets.StepOutcome)]
        losers = [r for r in results if not isinstance(r, tickets.StepOutcome)]
        assert len(winners) == 1, results
        [loser] = losers
        assert isinstance(loser, Conflict), repr(loser)
        assert (loser.status, loser.code) == (409, "task_not_open")
        states = [s for node, s in _states(desk, ticket_id) if node == "disburse"]
        assert states in (["approved"], ["returned"])
        assert _open(desk, ticket_id) == ([] if states == ["approved"] else ["branch_review"])
