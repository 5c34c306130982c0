"""Inclusive gateways, terminate and error ends end to end through the services, on
SQLite and PostgreSQL (ADR 0022): an inclusive split opens a task on every branch
whose condition holds, its OR-join passes the ticket on once the last live branch
arrives; a terminate end approves the ticket at once and closes the other open tasks;
an error end nobody catches rejects it with the error's code in the timeline; the
ticket page's diagram shows where the ticket is."""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk, loan_values

from approval_apps import line_app, yaml_of
from flowdesk.services import apps, tickets, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.services.ticket_diagram import ticket_diagram


def _user(who: str) -> dict[str, Any]:
    return {"kind": "user", "user": who}


def _app(key: str, nodes: list[dict[str, Any]], flows: list[dict[str, Any]]) -> str:
    definition = line_app(key, (), name={"en": key, "zh": key}, serial_prefix=key.upper()[:4])
    definition["process"] = {"nodes": nodes, "flows": flows}
    return yaml_of(definition)


INCLUSIVE = _app(
    "onboard",
    [
        {"id": "start", "type": "start"},
        {"id": "route", "type": "inclusive_gateway"},
        {"id": "legal", "type": "user_task", "assignee": _user("wang.fang")},
        {"id": "north", "type": "user_task", "assignee": _user("liu.yang")},
        {"id": "basic", "type": "user_task", "assignee": _user("ma.li")},
        {"id": "merge", "type": "inclusive_gateway"},
        {"id": "final", "type": "user_task", "assignee": _user("chen.jing")},
        {"id": "end", "type": "end"},
    ],
    [
        {"from": "start", "to": "route"},
        {"from": "route", "to": "legal", "condition": "amount > 50000"},
        {"from": "route", "to": "north", "condition": 'region == "north"'},
        {"from": "route", "to": "basic", "default": True},
        {"from": "legal", "to": "merge"},
        {"from": "north", "to": "merge"},
        {"from": "basic", "to": "merge"},
        {"from": "merge", "to": "final"},
        {"from": "final", "to": "end"},
    ],
)

TERMINATE = _app(
    "fasttrack",
    [
        {"id": "start", "type": "start"},
        {"id": "split", "type": "parallel_gateway"},
        {"id": "fast", "type": "user_task", "assignee": _user("yang.guang")},
        {"id": "done", "type": "terminate_end"},
        {"id": "slow", "type": "user_task", "assignee": _user("ma.li")},
        {"id": "check", "type": "exclusive_gateway"},
        {"id": "too_large", "type": "error_end", "error_code": "LIMIT_EXCEEDED"},
        {"id": "end", "type": "end"},
    ],
    [
        {"from": "start", "to": "split"},
        {"from": "split", "to": "fast"},
        {"from": "split", "to": "slow"},
        {"from": "fast", "to": "done"},
        {"from": "slow", "to": "check"},
        {"from": "check", "to": "too_large", "condition": "amount > 1000000"},
        {"from": "check", "to": "end", "default": True},
    ],
)


@pytest.fixture
def desk_with_apps(desk: Desk) -> Desk:
    apps.publish_yaml(desk.ctx, INCLUSIVE)
    apps.publish_yaml(desk.ctx, TERMINATE)
    return desk


def _submit(desk: Desk, app_key: str, **values: object) -> str:
    outcome = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key=app_key, values=loan_values(**values)
    )
    return outcome.ticket_id


def _open(desk: Desk, ticket_id: str) -> list[str]:
    return [t.node_id for t in desk.view(ticket_id).open_tasks]


def _todo(desk: Desk, who: str) -> list[str]:
    page = views.task_list(
        desk.ctx, desk.actors[who], parse_list_query({}, default_limit=100), done=False
    )
    return [task.id for task in page.items]


def test_an_inclusive_split_and_its_or_join(desk_with_apps: Desk) -> None:
    desk = desk_with_apps
    ticket_id = _submit(desk, "onboard", amount="120000.00", region="north")
    assert _open(desk, ticket_id) == ["legal", "north"]  # both conditions hold
    diagram = ticket_diagram(desk.ctx, desk.actors["admin"], ticket_id)
    assert diagram.current == ("legal", "north")
    assert "inclusiveGateway" in diagram.bpmn

    step = desk.approve("liu.yang", ticket_id, "north")
    assert step.opened_task_ids == ()  # the join waits: legal's branch is alive
    assert _open(desk, ticket_id) == ["legal"]
    desk.approve("wang.fang", ticket_id, "legal")
    assert _open(desk, ticket_id) == ["final"]
    passed = [e.node_id for e in desk.view(ticket_id).timeline if e.kind == "node_passed"]
    assert passed == ["start", "route", "merge"]
    assert ticket_diagram(desk.ctx, desk.actors["admin"], ticket_id).passed[-2:] == (
        "legal",
        "merge",
    )
    assert desk.approve("chen.jing", ticket_id, "final").status == "approved"

    other = _submit(desk, "onboard", amount="20000.00", region="south")
    assert _open(desk, other) == ["basic"]  # no condition holds: the default alone
    desk.approve("ma.li", other, "basic")
    assert _open(desk, other) == ["final"]


def test_a_terminate_end_approves_at_once_and_closes_the_other_tasks(
    desk_with_apps: Desk,
) -> None:
    desk = desk_with_apps
    ticket_id = _submit(desk, "fasttrack", amount="120000.00")
    assert _open(desk, ticket_id) == ["fast", "slow"]
    slow_task = desk.task(ticket_id, "slow").id
    assert slow_task in _todo(desk, "ma.li")
    step = desk.approve("yang.guang", ticket_id, "fast")
    assert step.status == "approved"
    view = desk.view(ticket_id)
    assert view.open_tasks == ()
    assert [(t.node_id, t.state) for t in view.tasks] == [
        ("fast", "approved"),
        ("slow", "cancelled"),
    ]
    (closed,) = [e for e in view.timeline if e.kind == "task_cancelled"]
    assert closed.task_id == slow_task
    assert closed.data == {"reason": "terminated", "decided_by": desk.actors["yang.guang"].user_id}
    assert slow_task not in _todo(desk, "ma.li")


def test_an_error_nobody_catches_rejects_the_ticket_with_its_code(desk_with_apps: Desk) -> None:
    desk = desk_with_apps
    ticket_id = _submit(desk, "fasttrack", amount="2000000.00")
    step = desk.approve("ma.li", ticket_id, "slow")
    assert step.status == "rejected"
    view = desk.view(ticket_id)
    (thrown,) = [e for e in view.timeline if e.kind == "error_thrown"]
    assert (thrown.node_id, thrown.data) == (
        "too_large",
        {"code": "LIMIT_EXCEEDED", "caught_by": None},
    )
    assert [(t.node_id, t.state) for t in view.tasks] == [
        ("fast", "cancelled"),
        ("slow", "approved"),
    ]
