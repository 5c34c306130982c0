"""Issue 8's assignee kinds through the services, on SQLite and PostgreSQL: the person a
user field names, the head of a department field's department, the previous approver's
manager, a role's least-loaded and round-robin pick (durable, fair under concurrent
submits, a rolled-back step gives its turn back), and "no one approves twice in one
ticket" with its 403 refusal."""

from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from loan_desk import Desk
from sqlalchemy import text

from flowdesk.engines.process import StepFailed
from flowdesk.kernel.errors import Forbidden
from flowdesk.services import apps, org, tickets, transfers

COMMITTEE = ["chen.jing", "luo.xin", "yang.guang"]  # the demo's credit_committee role


def _label(text: str) -> dict[str, str]:
    return {"en": text, "zh": text}


def _publish(desk: Desk, nodes: list[dict[str, Any]], **process: Any) -> None:
    """App `purchase`: a title, user, users and department fields, and `nodes` in a row."""
    ids = ["start", *(node["id"] for node in nodes), "end"]
    definition = _definition(nodes, **process)
    definition["process"]["flows"] = [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]
    apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))


def _definition(nodes: list[dict[str, Any]], **process: Any) -> dict[str, Any]:
    return {
        "key": "purchase",
        "name": _label("Purchase"),
        "form": {
            "fields": [
                {"key": "title", "type": "text", "label": _label("Title"), "required": True},
                {"key": "reviewer", "type": "user", "label": _label("Reviewer")},
                {"key": "panel", "type": "users", "label": _label("Panel")},
                {"key": "cost_centre", "type": "department", "label": _label("Cost centre")},
            ]
        },
        "process": {
            **process,
            "nodes": [
                {"id": "start", "type": "start"},
                *({"type": "user_task", **node} for node in nodes),
                {"id": "end", "type": "end"},
            ],
        },
    }


def _submit(desk: Desk, who: str = "zhang.wei", **values: object) -> str:
    outcome = tickets.submit(
        desk.ctx, actor=desk.actors[who], app_key="purchase", values={"title": "Desks", **values}
    )
    return outcome.ticket_id


def _holders(desk: Desk, ticket_id: str, node_id: str) -> list[str]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(names[p.id] for p in desk.task(ticket_id, node_id).assignees)


def _tickets(desk: Desk) -> int:
    with desk.ctx.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM tickets")).scalar_one())


def test_form_fields_and_the_previous_approver_name_the_approvers(desk: Desk) -> None:
    _publish(
        desk,
        [
            {"id": "reviewer_check", "assignee": {"kind": "field_user", "field": "reviewer"}},
            {
                "id": "cost_centre_head",
                "assignee": {"kind": "field_department_head", "field": "cost_centre"},
            },
            {"id": "their_manager", "assignee": {"kind": "previous_approver_manager"}},
            {
                "id": "panel",
                "assignee": {"kind": "field_user", "field": "panel"},
                "approval": {"mode": "all"},
            },
        ],
    )
    ticket_id = _submit(desk, reviewer="xu.ming", cost_centre="finance", panel="sun.li，hu.bin")
    assert _holders(desk, ticket_id, "reviewer_check") == ["xu.ming"]
    desk.approve("xu.ming", ticket_id, "reviewer_check")
    assert _holders(desk, ticket_id, "cost_centre_head") == ["gao.feng"]  # finance's head
    desk.approve("gao.feng", ticket_id, "cost_centre_head")
    assert _holders(desk, ticket_id, "their_manager") == ["zhou.hang"]  # gao.feng's manager
    desk.approve("zhou.hang", ticket_id, "their_manager")
    panel = [t for t in desk.view(ticket_id).open_tasks if t.node_id == "panel"]
    names = {a.user_id: n for n, a in desk.actors.items()}
    assert sorted(names[p.id] for t in panel for p in t.assignees) == ["hu.bin", "sun.li"]


def test_a_field_naming_nobody_who_can_approve_is_refused_and_nothing_is_filed(
    desk: Desk,
) -> None:
    _publish(desk, [{"id": "check", "assignee": {"kind": "field_user", "field": "reviewer"}}])
    org.set_active(desk.ctx, None, "xu.ming", False)
    before = _tickets(desk)
    for reviewer in ("no.such.person", "xu.ming", "zhang.wei"):  # unknown, inactive, applicant
        with pytest.raises(StepFailed) as refused:
            _submit(desk, reviewer=reviewer)
        assert (refused.value.status, refused.value.code) == (422, "no_assignee")
    assert _tickets(desk) == before


def test_least_loaded_gives_the_next_ticket_to_whoever_holds_fewest_open_tasks(
    desk: Desk,
) -> None:
    pick = {"kind": "role", "role": "credit_committee", "pick": "least_loaded"}
    _publish(desk, [{"id": "committee", "assignee": pick}])
    first = [_holders(desk, _submit(desk), "committee") for _ in range(3)]
    assert sorted(name for [name] in first) == COMMITTEE  # one each: they were all equal
    busiest = first[0][0]
    desk.approve(busiest, _submit_and_find(desk, busiest), "committee")
    assert _holders(desk, _submit(desk), "committee") == [busiest]  # now the least loaded


def _submit_and_find(desk: Desk, holder: str) -> str:
    """A ticket whose committee task `holder` holds (the next one picks them)."""
    for _ in range(4):
        ticket_id = _submit(desk)
        if _holders(desk, ticket_id, "committee") == [holder]:
            return ticket_id
    raise AssertionError(f"{holder} was never picked")


def test_round_robin_takes_turns_in_order_and_a_failed_step_gives_its_turn_back(
    desk: Desk,
) -> None:
    pick = {"kind": "role", "role": "credit_committee", "pick": "round_robin"}
    # beside the committee, a step for the person a field names: left empty, it fails
    # the whole submit after the committee's pick was made
    check = {"id": "check", "assignee": {"kind": "field_user", "field": "reviewer"}}
    definition = _definition([{"id": "committee", "assignee": pick}, check])
    definition["process"]["nodes"][1:1] = [
        {"id": "split", "type": "parallel_gateway"},
        {"id": "join", "type": "parallel_gateway"},
    ]
    definition["process"]["flows"] = [
        {"from": "start", "to": "split"},
        {"from": "split", "to": "committee"},
        {"from": "split", "to": "check"},
        {"from": "committee", "to": "join"},
        {"from": "check", "to": "join"},
        {"from": "join", "to": "end"},
    ]
    apps.publish_yaml(desk.ctx, yaml.safe_dump(definition, allow_unicode=True))
    turns = [_holders(desk, _submit(desk, reviewer="xu.ming"), "committee")[0]]
    with pytest.raises(StepFailed):  # rolled back, its turn with it
        _submit(desk)
    turns += [_holders(desk, _submit(desk, reviewer="xu.ming"), "committee")[0] for _ in range(5)]
    assert sorted(turns[:3]) == COMMITTEE and turns[3:] == turns[:3]  # the role's order, twice


def test_round_robin_is_fair_when_tickets_are_filed_at_once(desk: Desk) -> None:
    pick = {"kind": "role", "role": "credit_committee", "pick": "round_robin"}
    _publish(desk, [{"id": "committee", "assignee": pick}])
    with ThreadPoolExecutor(max_workers=6) as pool:
        filed = list(pool.map(lambda _: _submit(desk), range(12)))
    counts = Counter(_holders(desk, ticket_id, "committee")[0] for ticket_id in filed)
    assert counts == dict.fromkeys(COMMITTEE, 4)


def test_no_one_approves_twice_in_one_ticket(desk: Desk) -> None:
    finance = {"kind": "role", "role": "finance_reviewer"}  # liu.yang and ma.li
    _publish(
        desk,
        [
            {"id": "first_review", "assignee": finance},
            {"id": "second_review", "assignee": dict(finance)},
        ],
        once_per_ticket=True,
    )
    ticket_id = _submit(desk)
    desk.approve("liu.yang", ticket_id, "first_review")
    assert _holders(desk, ticket_id, "second_review") == ["ma.li"]
    task = desk.task(ticket_id, "second_review")
    with pytest.raises(Forbidden) as refused:  # handing it back to him is refused too
        transfers.transfer(desk.ctx, actor=desk.actors["ma.li"], task_id=task.id, to="liu.yang")
    assert refused.value.code == "approved_before"
    assert _holders(desk, ticket_id, "second_review") == ["ma.li"]  # nothing changed


def test_a_person_holding_a_task_from_before_their_approval_is_refused_with_a_reason(
    desk: Desk,
) -> None:
    finance = {"kind": "role", "role": "finance_reviewer"}
    apps.publish_yaml(
        desk.ctx,
        yaml.safe_dump(
            {
                "key": "purchase",
                "name": _label("Purchase"),
                "form": {"fields": [{"key": "title", "type": "text", "label": _label("T")}]},
                "process": {
                    "once_per_ticket": True,
                    "nodes": [
                        {"id": "start", "type": "start"},
                        {"id": "split", "type": "parallel_gateway"},
                        {
                            "id": "legal",
                            "type": "user_task",
                            "name": {"en": "Legal review", "zh": "法务审查"},
                            "assignee": {"kind": "user", "user": "liu.yang"},
                        },
                        {"id": "finance", "type": "user_task", "assignee": finance},
                        {"id": "join", "type": "parallel_gateway"},
                        {"id": "end", "type": "end"},
                    ],
                    "flows": [
                        {"from": "start", "to": "split"},
                        {"from": "split", "to": "legal"},
                        {"from": "split", "to": "finance"},
                        {"from": "legal", "to": "join"},
                        {"from": "finance", "to": "join"},
                        {"from": "join", "to": "end"},
                    ],
                },
            },
            allow_unicode=True,
        ),
    )
    ticket_id = _submit(desk)
    desk.approve("liu.yang", ticket_id, "legal")
    with pytest.raises(Forbidden) as refused:
        desk.approve("liu.yang", ticket_id, "finance")
    assert (refused.value.status, refused.value.code) == (403, "approved_before")
    assert "Legal review" in refused.value.message  # the step he approved
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["finance"]
    desk.approve("ma.li", ticket_id, "finance")
    assert desk.view(ticket_id).status == "approved"


def test_a_pick_at_a_step_that_may_skip_itself_takes_one_turn(desk: Desk) -> None:
    """The empty-rule check and the activation ask for the same pick: one turn each."""
    pick = {"kind": "role", "role": "finance_reviewer", "pick": "round_robin"}
    _publish(desk, [{"id": "review", "assignee": pick, "on_empty": {"action": "skip"}}])
    turns = [_holders(desk, _submit(desk), "review")[0] for _ in range(4)]
    assert sorted(turns) == ["liu.yang", "liu.yang", "ma.li", "ma.li"]
