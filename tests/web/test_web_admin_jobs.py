"""The admin page of failed and dead jobs with its retry button, and the ticket page's
"webhook sent / failed", in both languages, on both databases (a real receiver)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from web_helpers import LOAN, Browser

from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import jobs
from flowdesk.services.context import ServiceContext
from webhook_apps import LOOPBACK_ALLOWED, publish_webhook_app, receiver


def _ctx(app: FastAPI) -> ServiceContext:
    ctx: ServiceContext = app.state.ctx
    ctx.clock = FrozenClock()
    ctx.webhooks = LOOPBACK_ALLOWED
    return ctx


def _file(applicant: Browser) -> str:
    data = {**LOAN, "csrf_token": applicant.csrf()}
    response = applicant.post("/apps/hooked/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return str(response.headers["location"].rsplit("/", 1)[1])


def test_a_dead_webhook_is_retried_from_the_admin_page(
    app: FastAPI, browser: Callable[..., Browser]
) -> None:
    ctx = _ctx(app)
    applicant, admin = browser("zhang.wei"), browser("admin")
    with receiver() as hook:
        hook.answer(410)  # gone: refused for good, dead at once
        publish_webhook_app(ctx, hook.url)
        ticket_id = _file(applicant)
        jobs.run_due(ctx, owner="worker")

        ticket = applicant.get(f"/tickets/{ticket_id}").text
        assert "Webhook 发送失败" in ticket and "通知核心系统" in ticket
        assert "未能送达 127.0.0.1" in ticket

        page = admin.get("/admin/jobs")
        assert page.status_code == 200
        assert "后台任务" in page.text and page.text.count('data-testid="job-row"') == 1
        assert "answered 410" in page.text
        job_id = re.search(r'data-job="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
        retried = admin.post(
            f"/admin/jobs/{job_id}/retry",
            data={"csrf_token": admin.csrf(), "state": "dead"},
            follow_redirects=False,
        )
        assert retried.status_code == 303
        assert retried.headers["location"] == f"/admin/jobs?state=dead&retried={job_id}"
        after = admin.get(retried.headers["location"]).text
        assert f"任务 {job_id} 即将重新执行" in after and 'data-testid="no-jobs"' in after
        again = admin.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": admin.csrf()})
        assert again.status_code == 409 and 'data-testid="retry-refused"' in again.text
        jobs.run_due(ctx, owner="worker")
        assert len(hook.received) == 2

    ticket = applicant.get(f"/tickets/{ticket_id}").text
    assert "Webhook 已发送" in ticket and "已送达 127.0.0.1（HTTP 200）" in ticket
    english = browser("zhang.wei", locale="en").get(f"/tickets/{ticket_id}").text
    assert "Webhook sent" in english and "Delivered to 127.0.0.1 (HTTP 200)" in english


def test_the_jobs_page_is_for_administrators(browser: Callable[..., Browser]) -> None:
    assert browser("zhang.wei").get("/admin/jobs").status_code == 403
    english = browser("admin", locale="en").get("/admin/jobs?state=failed")
    assert "No failed jobs waiting to be tried again." in english.text
    assert 'aria-current="page" data-testid="state-failed"' in english.text
