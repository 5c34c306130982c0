"""退回 on the ticket page and the applicant's resubmit form: the targets offered, the
required reason, where the timeline says it went, and the resubmission prefilled with the
ticket's values and checked like a new ticket."""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml
from web_helpers import Browser, csrf_from

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext


def _task_id(page: str, action: str) -> str:
    found = re.search(rf"/tasks/([0-9a-f]+)/{action}", page)
    assert found, f"no {action} form"
    return found.group(1)


def _at_disburse(browser: Callable[..., Browser]) -> tuple[Browser, str]:
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="30,000.00")
    manager = browser("li.na")
    page = manager.get(f"/tickets/{ticket_id}").text
    approved = manager.post(
        f"/tasks/{_task_id(page, 'approve')}/approve",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "comment": "同意"},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    return applicant, ticket_id


def _return(who: Browser, ticket_id: str, **data: str):  # type: ignore[no-untyped-def]
    page = who.get(f"/tickets/{ticket_id}").text
    return who.post(
        f"/tasks/{_task_id(page, 'return')}/return",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, **data},
        follow_redirects=False,
    )


def test_the_holder_returns_to_a_step_it_passed(browser: Callable[..., Browser]) -> None:
    applicant, ticket_id = _at_disburse(browser)
    disburser = browser("zhao.lei")
    page = disburser.get(f"/tickets/{ticket_id}").text
    # 退回 beside 同意 and 驳回, targets from the engine: the applicant and the passed step
    bar = page[page.index('data-testid="decision-bar"') :]
    assert 'data-testid="return"' in bar[: bar.index("</div>")]
    options = re.findall(r'<option value="([a-z_]+)"', page)
    assert options == ["applicant", "branch_review"]
    assert "申请人</option>" in page and "支行行长审批</option>" in page

    refused = _return(disburser, ticket_id, target="branch_review", comment=" ")
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="comment-' in refused.text

    done = _return(disburser, ticket_id, target="branch_review", comment="请核实抵押物")
    assert done.status_code == 303, done.text
    after = disburser.get(done.headers["location"]).text
    assert "已退回该工单。" in after
    timeline = after[after.index('data-testid="timeline"') :]
    returned = timeline[timeline.index('data-kind="task_returned"') :]
    assert "退回给 支行行长审批" in returned[:1200] and "请核实抵押物" in returned[:1200]
    # the branch manager decides again; the applicant has nothing to resubmit
    assert "/approve" in browser("li.na").get(f"/tickets/{ticket_id}").text
    assert 'data-testid="resubmit-card"' not in applicant.get(f"/tickets/{ticket_id}").text


def test_the_applicant_resubmits_a_returned_ticket_from_a_prefilled_form(
    browser: Callable[..., Browser],
) -> None:
    applicant, ticket_id = _at_disburse(browser)
    done = _return(browser("zhao.lei"), ticket_id, target="applicant", comment="请补充用途")
    assert done.status_code == 303, done.text

    page = applicant.get(f"/tickets/{ticket_id}").text
    assert 'data-testid="resubmit-card"' in page
    assert 'data-testid="decision-bar"' not in page  # a resubmission, not a decision
    form = applicant.get(f"/tickets/{ticket_id}/resubmit")
    assert form.status_code == 200
    assert 'value="30000.00"' in form.text and "经营周转</textarea>" in form.text
    assert "请补充用途" in form.text  # why it came back

    values = {
        "applicant_name": "李雷",
        "amount": "30000.00",
        "term_months": "36",
        "credit_rating": "A",
        "region": "north",
        "purpose": "",
    }
    token = csrf_from(form.text)
    bad = applicant.post(f"/tickets/{ticket_id}/resubmit", data={**values, "csrf_token": token})
    assert bad.status_code == 422
    assert 'data-testid="error-purpose"' in bad.text

    good = applicant.post(
        f"/tickets/{ticket_id}/resubmit",
        data={**values, "purpose": "购置烤箱", "resubmit_comment": "已补充", "csrf_token": token},
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text
    after = applicant.get(good.headers["location"]).text
    assert "工单已重新提交。" in after and "购置烤箱" in after
    assert 'data-testid="resubmit-card"' not in after
    # someone else's ticket has no resubmit form
    assert browser("li.na").get(f"/tickets/{ticket_id}/resubmit").status_code == 404


def test_an_app_that_keeps_a_ticket_as_filed_shows_its_values_read_only(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    """`edit_on_resubmit: false` (ADR 0034): the resubmit page shows the values without a
    form; resubmitting sends them back unchanged; a forged field is refused."""
    loan = yaml.safe_load(apps.export_yaml(demo_ctx, "loan"))
    loan["edit_on_resubmit"] = False
    apps.publish_yaml(demo_ctx, yaml.safe_dump(loan, allow_unicode=True))
    applicant, ticket_id = _at_disburse(browser)
    done = _return(browser("zhao.lei"), ticket_id, target="applicant", comment="请核实")
    assert done.status_code == 303, done.text
    form = applicant.get(f"/tickets/{ticket_id}/resubmit").text
    assert 'data-testid="resubmit-as-filed"' in form and "内容不能修改" in form
    assert 'name="amount"' not in form
    token = csrf_from(form)
    forged = applicant.post(
        f"/tickets/{ticket_id}/resubmit",
        data={"csrf_token": token, "amount": "99999.00", "applicant_name": "李雷"},
    )
    assert forged.status_code == 422  # refused; the values stay as filed
    assert "99999" not in applicant.get(f"/tickets/{ticket_id}").text
    good = applicant.post(
        f"/tickets/{ticket_id}/resubmit",
        data={"csrf_token": token, "keep_values": "1", "resubmit_comment": "已核实"},
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text
