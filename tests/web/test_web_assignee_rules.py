"""Issue 8 on the web: a form with user and department fields is filed from the page and
its steps go to the people those fields name; someone who approved an earlier step and
still holds a task is told, in their language, why their second approval is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from web_helpers import Browser, csrf_from

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

APPROVE = re.compile(r'action="/tasks/([0-9a-f]{32})/approve"')


def _label(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def _publish(ctx: ServiceContext, process: dict[str, Any]) -> None:
    definition = {
        "key": "purchase",
        "name": _label("Purchase", "采购"),
        "form": {
            "fields": [
                {"key": "title", "type": "text", "label": _label("Title", "标题")},
                {"key": "reviewer", "type": "user", "label": _label("Reviewer", "复核人")},
                {
                    "key": "cost_centre",
                    "type": "department",
                    "label": _label("Cost centre", "成本中心"),
                },
            ]
        },
        "process": process,
    }
    apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True))


def _file(who: Browser, **values: str) -> str:
    page = who.get("/apps/purchase/new")
    assert page.status_code == 200
    response = who.post(
        "/apps/purchase/new",
        data={**values, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _approve(who: Browser, ticket_id: str) -> Any:
    page = who.get(f"/tickets/{ticket_id}").text
    found = APPROVE.search(page)
    assert found, "no approve form on the page"
    return who.post(
        f"/tasks/{found.group(1)}/approve",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "comment": ""},
        follow_redirects=False,
    )


def test_steps_go_to_the_people_the_filed_fields_name(
    demo_ctx: ServiceContext, browser: Callable[..., Browser]
) -> None:
    _publish(
        demo_ctx,
        {
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "check",
                    "type": "user_task",
                    "assignee": {"kind": "field_user", "field": "reviewer"},
                },
                {
                    "id": "head",
                    "type": "user_task",
                    "assignee": {"kind": "field_department_head", "field": "cost_centre"},
                },
                {"id": "end", "type": "end"},
            ],
            "flows": [
                {"from": "start", "to": "check"},
                {"from": "check", "to": "head"},
                {"from": "head", "to": "end"},
            ],
        },
    )
    applicant = browser("zhang.wei")
    refused = applicant.post(
        "/apps/purchase/new",
        data={"title": "办公桌", "reviewer": "xu ming", "csrf_token": applicant.csrf()},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "用户名格式不正确" in refused.text
    ticket_id = _file(applicant, title="办公桌", reviewer="Xu.Ming", cost_centre="finance")
    assert _approve(browser("xu.ming"), ticket_id).status_code == 303
    assert _approve(browser("gao.feng"), ticket_id).status_code == 303  # finance's head
    assert "已通过" in applicant.get(f"/tickets/{ticket_id}").text


def test_a_second_approval_in_one_ticket_is_refused_with_the_reason(
    demo_ctx: ServiceContext, browser: Callable[..., Browser]
) -> None:
    _publish(
        demo_ctx,
        {
            "once_per_ticket": True,
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "split", "type": "parallel_gateway"},
                {
                    "id": "legal",
                    "type": "user_task",
                    "assignee": {"kind": "user", "user": "liu.yang"},
                },
                {
                    "id": "finance",
                    "type": "user_task",
                    "assignee": {"kind": "role", "role": "finance_reviewer"},
                },
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
    )
    ticket_id = _file(browser("zhang.wei"), title="办公桌")
    reviewer = browser("liu.yang")
    assert _approve(reviewer, ticket_id).status_code == 303  # the first form: legal
    refused = _approve(reviewer, ticket_id)  # the finance task he still holds
    assert refused.status_code == 403
    assert "同一单据中任何人不得审批两次" in refused.text
    english = _approve(browser("liu.yang", locale="en"), ticket_id)
    assert "No one approves twice in one ticket" in english.text
