"""/admin/apps in the browser with a BPMN file: the chosen app's process is replaced
(check, then publish), warnings are shown, and every app exports as BPMN."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

from web_helpers import Browser

LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
FILES = Path(__file__).parents[1] / "engines" / "process" / "bpmn_files"


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return unescape(match.group(1))


def test_a_bpmn_upload_is_checked_with_its_warnings_then_published(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin", locale="en")
    token = admin.csrf()
    page = admin.get("/admin/apps").text
    assert 'href="/admin/apps/loan/export.bpmn"' in page
    assert '<option value="loan">' in page
    checked = admin.post(
        "/admin/apps",
        data={"csrf_token": token, "app": "loan"},
        files={"file": ("loan.bpmn", LOAN_BPMN.read_bytes(), "application/xml")},
    )
    assert checked.status_code == 200, checked.text
    assert "The new process of Loan approval (loan) is valid" in checked.text
    assert 'data-testid="import-warning"' in checked.text
    assert "bpmn[Task_Apply]" in checked.text
    published = admin.post(
        "/admin/apps",
        data={
            "csrf_token": token,
            "publish": "1",
            "kind": "bpmn",
            "app": _hidden(checked.text, "app"),
            "name": _hidden(checked.text, "name"),
            "payload": _hidden(checked.text, "payload"),
        },
        follow_redirects=True,
    )
    assert "Published loan version 2" in published.text
    exported = admin.get("/admin/apps/loan/export.bpmn")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/bpmn+xml")
    assert 'bpmnElement="Task_CreditCommittee"' in exported.text


def test_a_bpmn_upload_needs_an_app_and_lists_every_problem(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin")  # Chinese
    token = admin.csrf()
    no_app = admin.post(
        "/admin/apps",
        data={"csrf_token": token},
        files={"file": ("loan.bpmn", LOAN_BPMN.read_bytes(), "application/xml")},
    )
    assert no_app.status_code == 422
    assert "请选择 BPMN 文件要替换流程的应用" in no_app.text
    refused = admin.post(
        "/admin/apps",
        data={"csrf_token": token, "app": "loan"},
        files={"file": ("x.bpmn", (FILES / "unsupported.bpmn").read_bytes(), "application/xml")},
    )
    assert refused.status_code == 422
    assert refused.text.count('data-testid="error-item"') == 10
    assert "<code>bpmn[Service_Score]</code>" in refused.text
    hostile = admin.post(
        "/admin/apps",
        data={"csrf_token": token, "app": "loan"},
        files={"file": ("x.bpmn", (FILES / "hostile" / "xxe.bpmn").read_bytes(), "text/xml")},
    )
    assert hostile.status_code == 422 and "dtd_forbidden" in hostile.text
