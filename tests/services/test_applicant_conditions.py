"""Conditions on the applicant through the services, on SQLite and PostgreSQL: a gateway
routes by the filing user's job level, an automatic decision reads their department,
both from the org chart as it is at the step."""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk, loan_values
from replay_history import replay
from sqlalchemy import select

from approval_apps import line_app, yaml_of
from flowdesk.engines.process import dump_state
from flowdesk.services import apps, org, tickets
from flowdesk.store.tables import Ticket

SENIOR_LEVELS = "applicant.job_level in ('M3', 'M4')"


def _app() -> dict[str, Any]:
    definition = line_app("seniority", (), serial_prefix="SN")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "desk_check",
                "type": "user_task",
                "assignee": {"kind": "user", "user": "he.jia"},
                "auto": {"when": "applicant.department = 'branch-sh'", "action": "approve"},
            },
            {"id": "level", "type": "exclusive_gateway"},
            {
                "id": "senior",
                "type": "user_task",
                "assignee": {"kind": "user", "user": "chen.jing"},
            },
            {"id": "manager", "type": "user_task", "assignee": {"kind": "applicant_manager"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "desk_check"},
            {"from": "desk_check", "to": "level"},
            {"from": "level", "to": "senior", "condition": SENIOR_LEVELS},
            {"from": "level", "to": "manager", "default": True},
            {"from": "senior", "to": "end"},
            {"from": "manager", "to": "end"},
        ],
    }
    return definition


@pytest.fixture
def seniority(desk: Desk) -> Desk:
    apps.publish_yaml(desk.ctx, yaml_of(_app()))
    return desk


def _level(desk: Desk, username: str, job_level: str) -> None:
    org.save_user(desk.ctx, desk.actors["admin"], username, {"job_level": job_level})


def _file(desk: Desk, who: str) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors[who], app_key="seniority", values=loan_values()
    ).ticket_id


def _open_at(desk: Desk, ticket_id: str) -> list[tuple[str, list[str]]]:
    usernames = {actor.user_id: name for name, actor in desk.actors.items()}
    return [
        (t.node_id, [usernames[p.id] for p in t.assignees]) for t in desk.view(ticket_id).open_tasks
    ]


@pytest.mark.parametrize(
    ("job_level", "route"),
    [("M3", ("senior", "chen.jing")), ("P4", ("manager", "li.na")), ("", ("manager", "li.na"))],
)
def test_the_gateway_routes_by_the_applicants_job_level(
    seniority: Desk, job_level: str, route: tuple[str, str]
) -> None:
    desk = seniority
    _level(desk, "zhang.wei", job_level)  # "": no job level, which no condition matches
    ticket_id = _file(desk, "zhang.wei")
    assert _open_at(desk, ticket_id) == [("desk_check", ["he.jia"])]
    desk.approve("he.jia", ticket_id, "desk_check")
    node, approver = route
    assert _open_at(desk, ticket_id) == [(node, [approver])]
    assert desk.approve(approver, ticket_id, node).status == "approved"


def test_the_level_is_read_when_the_gateway_is_reached(seniority: Desk) -> None:
    desk = seniority
    _level(desk, "zhang.wei", "P4")
    ticket_id = _file(desk, "zhang.wei")
    _level(desk, "zhang.wei", "M4")  # promoted while the ticket waits at the desk check
    desk.approve("he.jia", ticket_id, "desk_check")
    assert _open_at(desk, ticket_id) == [("senior", ["chen.jing"])]


def test_an_automatic_decision_reads_the_applicants_department(seniority: Desk) -> None:
    desk = seniority
    _level(desk, "xie.ting", "M3")
    ticket_id = _file(desk, "xie.ting")  # Shanghai branch: the desk check decides itself
    assert _open_at(desk, ticket_id) == [("senior", ["chen.jing"])]
    skipped = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert [
        (e.node_id, e.data and e.data["reason"], e.data and e.data["condition"]) for e in skipped
    ] == [("desk_check", "auto_approved", "applicant.department = 'branch-sh'")]
    # the stored steps replay to the stored state: the replay reads the same org chart
    assert desk.approve("chen.jing", ticket_id, "senior").status == "approved"
    with desk.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.state).where(Ticket.id == ticket_id)).scalar_one()
    assert dump_state(replay(desk.ctx, ticket_id)) == stored
