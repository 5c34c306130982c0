"""Admin repairs on the ticket page (ADR 0026): the administrator's card (jump, reassign,
cancel) shown to administrators only, each a CSRF-checked POST; the refusals in the
viewer's language at the card; the timeline's "moved to X by admin Y"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from web_helpers import Browser, csrf_from

from approval_apps import CONTRACT_STEPS, line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps, tickets, views
from flowdesk.services.context import ServiceContext

LOAN_VALUES: dict[str, object] = {
    "applicant_name": "张三",
    "amount": "120000.00",
    "term_months": 36,
    "credit_rating": "A",
    "region": "north",
    "purpose": "Working capital for a bakery",
}


def _open_tasks(page: str) -> str:
    found = re.search(r'name="open_tasks" value="([0-9a-f,]+)"', page)
    assert found, "no jump form"
    return found.group(1)


def _timeline(page: str) -> str:
    return page[page.index('data-testid="timeline"') :]


def test_only_administrators_see_the_card_and_a_jump_is_in_the_timeline(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="120,000.00")
    assert 'data-testid="repair-card"' not in applicant.get(f"/tickets/{ticket_id}").text
    refused = applicant.post(
        f"/tickets/{ticket_id}/admin/jump",
        data={"csrf_token": applicant.csrf(), "node": "committee"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    admin = browser("admin")
    page = admin.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="repair-card"' in page and "管理员操作" in page
    # only the steps one token can finish from are offered: not the parallel reviews
    options = re.findall(r'<option value="([a-z_]+)"', page[page.index('id="jump-node"') :])
    assert options[:3] == ["branch_review", "committee", "disburse"]
    moved = admin.post(
        f"/tickets/{ticket_id}/admin/jump",
        data={
            "csrf_token": csrf_from(page),
            "node": "committee",
            "repair_comment": "审查已线下完成",
            "open_tasks": _open_tasks(page),
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    after = admin.get(moved.headers["location"]).text
    assert "申请已跳转到所选环节。" in after
    timeline = _timeline(after)
    assert 'data-kind="ticket_jumped"' in timeline
    assert re.search(r"管理员 \S+ 将申请跳转到 信贷审批委员会", timeline)
    assert "审查已线下完成" in timeline


def test_a_stale_jump_and_a_jump_into_a_branch_are_refused_at_the_card(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="120,000.00")
    admin = browser("admin")
    stale = admin.get(f"/tickets/{ticket_id}").text
    seen = _open_tasks(stale)
    inside = admin.post(
        f"/tickets/{ticket_id}/admin/jump",
        data={"csrf_token": csrf_from(stale), "node": "legal_review"},
    )
    assert inside.status_code == 409
    assert "该环节位于并行分支之中" in inside.text and 'data-testid="repair-error"' in inside.text
    first = admin.post(
        f"/tickets/{ticket_id}/admin/jump",
        data={
            "csrf_token": csrf_from(stale),
            "node": "committee",
            "open_tasks": _open_tasks(stale),
        },
        follow_redirects=False,
    )
    assert first.status_code == 303
    again = admin.post(
        f"/tickets/{ticket_id}/admin/jump",
        data={"csrf_token": csrf_from(stale), "node": "disburse", "open_tasks": seen},
    )
    assert again.status_code == 409
    assert "您打开本页后申请已有变化" in again.text


def test_an_administrator_reassigns_a_task_and_cancels_with_a_reason(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30,000.00")
    admin = browser("admin", locale="en")
    page = admin.get(f"/tickets/{ticket_id}").text
    task_id = re.search(r"/tasks/([0-9a-f]+)/admin/reassign", page)
    assert task_id is not None
    url = f"/tasks/{task_id.group(1)}/admin/reassign"
    selfish = admin.post(
        url, data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "to": "zhang.wei"}
    )
    assert selfish.status_code == 403
    assert "The applicant cannot approve their own ticket." in selfish.text
    given = admin.post(
        url,
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "to": "chen.jing"},
        follow_redirects=False,
    )
    assert given.status_code == 303, given.text
    after = admin.get(given.headers["location"]).text
    assert "The task was reassigned." in after
    assert 'data-kind="task_reassigned"' in _timeline(after)
    assert 'data-testid="reassigned"' in _timeline(after)
    blank = admin.post(
        f"/tickets/{ticket_id}/admin/cancel",
        data={"csrf_token": csrf_from(after), "cancel_reason": "  "},
    )
    assert blank.status_code == 422 and "Please give a reason." in blank.text
    cancelled = admin.post(
        f"/tickets/{ticket_id}/admin/cancel",
        data={"csrf_token": csrf_from(after), "cancel_reason": "Filed twice"},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    done = admin.get(cancelled.headers["location"]).text
    assert "The ticket was cancelled." in done and "Filed twice" in done
    assert 'data-testid="repair-card"' not in done  # a finished ticket has nothing to repair


def _publish_loan_v2(ctx: ServiceContext) -> int:
    """The loan app again, its credit committee step renamed (committee → credit_committee)."""
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    rename = {"committee": "credit_committee"}
    for node in definition["process"]["nodes"]:
        node["id"] = rename.get(node["id"], node["id"])
    for flow in definition["process"]["flows"]:
        flow["from"] = rename.get(flow["from"], flow["from"])
        flow["to"] = rename.get(flow["to"], flow["to"])
    return apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True)).version


def test_an_administrator_moves_a_ticket_to_the_newer_version(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="120,000.00")
    admin = browser("admin")
    assert 'data-testid="migrate-form"' not in admin.get(f"/tickets/{ticket_id}").text
    version = _publish_loan_v2(demo_ctx)
    page = admin.get(f"/tickets/{ticket_id}").text
    assert f"迁移到版本 {version}" in page
    # the two parallel reviews are proposed onto the steps of the same id
    assert re.search(r'name="map.legal_review">.*?value="legal_review" selected', page, re.S)
    unmapped = admin.post(
        f"/tickets/{ticket_id}/admin/migrate",
        data={
            "csrf_token": csrf_from(page),
            "version": str(version),
            "map.legal_review": "legal_review",
            "map.finance_review": "",
        },
    )
    assert unmapped.status_code == 422
    assert 'data-testid="migrate-problems"' in unmapped.text
    assert "请选择此环节在新版本中对应的环节。" in unmapped.text
    moved = admin.post(
        f"/tickets/{ticket_id}/admin/migrate",
        data={
            "csrf_token": csrf_from(page),
            "version": str(version),
            "map.legal_review": "legal_review",
            "map.finance_review": "finance_review",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    after = admin.get(moved.headers["location"]).text
    assert "申请已迁移到新版本。" in after and f"版本 {version}" in after
    assert 'data-testid="migrated"' in _timeline(after)
    assert 'data-testid="migrate-form"' not in after  # it runs the newest version now


def test_an_administrator_removes_a_pending_countersigner(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    """APPROVALS.md edge case 12 (ADR 0041): the card offers to remove each pending 会签
    approver; removing ma.li after the others approved completes the step."""
    apps.publish_yaml(demo_ctx, yaml_of(line_app("contract", CONTRACT_STEPS)))
    filed = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="contract", values=LOAN_VALUES
    )
    ticket_id = filed.ticket_id
    for task in tickets_view(demo_ctx, actors, ticket_id):
        if task.assignees[0].id != actors["ma.li"].user_id:
            tickets.approve(demo_ctx, actor=actors[_name(actors, task)], task_id=task.id)
    admin = browser("admin", locale="en")
    page = admin.get(f"/tickets/{ticket_id}").text
    found = re.search(r"/tasks/([0-9a-f]+)/admin/remove-approver", page)
    assert found is not None and page.count('data-testid="remove-approver-form"') == 1
    removed = admin.post(
        f"/tasks/{found.group(1)}/admin/remove-approver",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id},
        follow_redirects=False,
    )
    assert removed.status_code == 303, removed.text
    after = admin.get(removed.headers["location"]).text
    assert "The approver was removed from the step." in after
    assert 'data-testid="approver-removed"' in _timeline(after)
    assert 'data-testid="remove-approver-form"' not in after  # the 或签 step is next


def tickets_view(
    ctx: ServiceContext, actors: dict[str, Actor], ticket_id: str
) -> tuple[views.TaskView, ...]:
    return views.ticket(ctx, actors["admin"], ticket_id).open_tasks


def _name(actors: dict[str, Actor], task: views.TaskView) -> str:
    return next(n for n, a in actors.items() if a.user_id == task.assignees[0].id)
