"""The ticket page of a 会签 → 或签 ticket: each step's result with its tally, and the
deputy whose task was closed by the other's decision reads who decided (zh and en)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from web_helpers import Browser

from approval_apps import CONTRACT_STEPS, REVIEWERS, line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.services import apps, tickets, views
from flowdesk.services.context import ServiceContext

TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


@pytest.fixture
def decided_ticket(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> str:
    """A contract whose three reviewers approved (会签) and yang.guang approved for the
    deputies (或签), closing chen.jing's task."""
    apps.publish_yaml(demo_ctx, yaml_of(line_app("contract", CONTRACT_STEPS)))
    ticket_id = tickets.submit(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="contract",
        values={
            "applicant_name": "李雷",
            "amount": "120000.00",
            "term_months": 36,
            "credit_rating": "A",
            "region": "north",
            "purpose": "经营周转",
        },
    ).ticket_id
    for who in (*REVIEWERS, "yang.guang"):
        view = views.ticket(demo_ctx, actors[who], ticket_id)
        (task,) = [
            t for t in view.open_tasks if any(p.id == actors[who].user_id for p in t.assignees)
        ]
        tickets.approve(demo_ctx, actor=actors[who], task_id=task.id)
    return ticket_id


def _names(demo_ctx: ServiceContext, actors: dict[str, Actor], ticket_id: str) -> dict[str, str]:
    view = views.ticket(demo_ctx, actors["admin"], ticket_id)
    return {p.id: p.name for t in view.tasks for p in t.assignees}


def test_the_closed_task_says_who_decided_and_each_step_its_tally(
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    actors: dict[str, Actor],
    decided_ticket: str,
) -> None:
    names = _names(demo_ctx, actors, decided_ticket)
    page = browser("chen.jing").get(f"/tickets/{decided_ticket}")
    assert page.status_code == 200
    closed = re.findall(r'<li class="tl-item tl-task_cancelled".*?</li>', page.text, re.S)
    assert len(closed) == 1
    assert _text(closed[0]).startswith("已关闭 · 副行长审批")
    assert names[actors["chen.jing"].user_id] in _text(closed[0])
    assert f"由 {names[actors['yang.guang'].user_id]} 决定" in _text(closed[0])
    tallies = [_text(t) for t in re.findall(r'data-testid="tally">(.*?)</div>', page.text)]
    assert tallies == [
        "3 人中 3 人同意、0 人驳回（需 3 人同意）",
        "2 人中 1 人同意、0 人驳回（需 1 人同意）",
    ]

    en = browser("chen.jing", locale="en").get(f"/tickets/{decided_ticket}").text
    assert f"Decided by {names[actors['yang.guang'].user_id]}" in _text(en)
    assert "3 of 3 approved, 0 rejected (3 needed)" in _text(en)
