"""撤回 and 撤销 on the ticket page (ADR 0019): the applicant's withdraw and cancel and an
approver's withdraw of their approval, offered only to whoever may do each, behind a
disclosure with a CSRF-checked POST; the refusals in the viewer's language; the
timeline's lines for each."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser, csrf_from

from approval_apps import Step, line_app, yaml_of
from flowdesk.engines.access import Actor
from flowdesk.services import apps, auth, tickets
from flowdesk.services.context import ServiceContext
from flowdesk.store import org as org_store

LOAN = {
    "applicant_name": "张三",
    "amount": "120000.00",
    "term_months": 36,
    "credit_rating": "A",
    "region": "north",
    "purpose": "Working capital for a bakery",
}


def applicant_actor(ctx: ServiceContext, username: str) -> Actor:
    with ctx.db.read() as conn:
        return auth.actor_from_row(conn, org_store.user_by_username(conn, username))


def _task_id(page: str, action: str) -> str:
    found = re.search(rf"/tasks/([0-9a-f]+)/{action}", page)
    assert found, f"no {action} form"
    return found.group(1)


def _post(who: Browser, ticket_id: str, url: str, **data: str):  # type: ignore[no-untyped-def]
    page = who.get(f"/tickets/{ticket_id}").text
    return who.post(
        url,
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, **data},
        follow_redirects=False,
    )


def _approve(who: Browser, ticket_id: str) -> None:
    page = who.get(f"/tickets/{ticket_id}").text
    approved = who.post(
        f"/tasks/{_task_id(page, 'approve')}/approve",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "comment": "同意"},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text


def test_the_applicant_withdraws_and_the_ticket_comes_back(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="30,000.00")
    page = applicant.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="withdraw-form"' in page and 'data-testid="cancel-form"' in page
    assert "撤回申请" in page
    manager = browser("li.na")
    assert 'data-testid="withdraw-card"' not in manager.get(f"/tickets/{ticket_id}").text

    done = _post(applicant, ticket_id, f"/tickets/{ticket_id}/withdraw", withdraw_comment="写错了")
    assert done.status_code == 303, done.text
    after = applicant.get(done.headers["location"]).text
    assert "已撤回申请；您可以修改后重新提交，或撤销申请。" in after
    assert 'data-testid="resubmit-card"' in after  # it rests with her, as after a return
    assert "您已撤回" in after and "已退回给您" not in after
    assert 'data-testid="withdraw-form"' not in after and 'data-testid="cancel-form"' in after
    timeline = after[after.index('data-testid="timeline"') :]
    assert 'data-kind="ticket_withdrawn"' in timeline and "写错了" in timeline


def test_once_approved_withdraw_is_refused_and_the_approver_may_take_it_back(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="30,000.00")
    stale = applicant.get(f"/tickets/{ticket_id}").text  # the withdraw form, before
    manager = browser("li.na")
    _approve(manager, ticket_id)
    refused = applicant.post(
        f"/tickets/{ticket_id}/withdraw",
        data={"csrf_token": csrf_from(stale)},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert "审批人已处理，无法撤回。" in refused.text
    page = applicant.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="withdraw-form"' not in page and 'data-testid="cancel-form"' in page

    page = manager.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="retract-form"' in page and "撤回我的审批" in page
    retracted = _post(
        manager,
        ticket_id,
        f"/tasks/{_task_id(page, 'retract')}/retract",
        withdraw_comment="再核实一下",
    )
    assert retracted.status_code == 303, retracted.text
    after = manager.get(retracted.headers["location"]).text
    assert "已撤回您的审批，请重新审批。" in after
    assert 'data-testid="decision-bar"' in after  # her task is open again
    assert 'data-kind="decision_withdrawn"' in after and "撤回审批" in after
    assert 'data-testid="retract-form"' not in after


def test_the_applicant_cancels_in_english(browser: Callable[..., Browser]) -> None:
    applicant = browser("zhang.wei", locale="en")
    ticket_id = applicant.file_loan(amount="30,000.00")
    page = applicant.get(f"/tickets/{ticket_id}").text
    assert "Cancel the ticket (撤销)" in page
    done = _post(
        applicant, ticket_id, f"/tickets/{ticket_id}/cancel", withdraw_comment="Not needed"
    )
    assert done.status_code == 303, done.text
    after = applicant.get(done.headers["location"]).text
    assert "You cancelled your ticket." in after
    assert 'class="status status-cancelled"' in after and ">Cancelled<" in after
    assert 'data-kind="ticket_cancelled"' in after and "Not needed" in after
    assert 'data-testid="withdraw-card"' not in after
    listed = applicant.get("/tickets?status=cancelled").text
    assert ticket_id in listed


def test_the_forms_need_their_token_and_the_applicant(browser: Callable[..., Browser]) -> None:
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="30,000.00")
    missing = applicant.post(f"/tickets/{ticket_id}/withdraw", data={}, follow_redirects=False)
    assert missing.status_code == 403
    manager = browser("li.na")
    refused = _post(manager, ticket_id, f"/tickets/{ticket_id}/cancel")
    assert refused.status_code == 403
    assert "只有申请人可以撤回或撤销申请。" in refused.text
    page = applicant.get(f"/tickets/{ticket_id}").text
    assert 'class="status status-running"' in page


def test_the_applicant_revokes_an_approved_ticket_and_its_approver_agrees(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    """通过后撤销 (ADR 0042): offered on the approved ticket of an app that allows it; the
    approver decides the revocation task like any other; the ticket ends revoked."""
    definition = line_app(
        "revocable", (Step("review", ("li.na",), "single"),), withdraw={"revoke_days": 7}
    )
    apps.publish_yaml(demo_ctx, yaml_of(definition))
    applicant = browser("zhang.wei")
    filed = tickets.submit(
        demo_ctx,
        actor=applicant_actor(demo_ctx, "zhang.wei"),
        app_key="revocable",
        values=LOAN,
    )
    manager = browser("li.na")
    _approve(manager, filed.ticket_id)
    page = applicant.get(f"/tickets/{filed.ticket_id}").text
    assert 'data-testid="revoke-form"' in page and "撤销已通过的申请" in page
    assert 'data-testid="revoke-form"' not in manager.get(f"/tickets/{filed.ticket_id}").text
    done = _post(
        applicant, filed.ticket_id, f"/tickets/{filed.ticket_id}/revoke", withdraw_comment="作废"
    )
    assert done.status_code == 303, done.text
    after = applicant.get(done.headers["location"]).text
    assert "已申请撤销，需所有审批过的人同意。" in after
    assert 'data-kind="revoke_requested"' in after and "作废" in after
    _approve(manager, filed.ticket_id)  # the revocation task, approved like any other
    final = applicant.get(f"/tickets/{filed.ticket_id}").text
    assert "通过后已撤销" in final and 'data-kind="ticket_revoked"' in final
    assert 'data-testid="revoke-form"' not in final
    english = browser("zhang.wei", locale="en").get(f"/tickets/{filed.ticket_id}").text
    assert "Revoked after approval" in english
