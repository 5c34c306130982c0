"""Attachments on the ticket page (ADR 0028): file inputs on the decision and comment
forms (multipart with CSRF), the files listed under their timeline entry, downloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from web_helpers import Browser, csrf_from

from file_samples import PDF, zip_of
from flowdesk.engines.files import FilePolicy
from flowdesk.main import create_app
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from flowdesk.store.blobs import LocalBlobStore


@pytest.fixture
def app(demo_ctx: ServiceContext, settings: Settings, tmp_path: Path) -> FastAPI:
    demo_ctx.attachments = AttachmentStorage(
        LocalBlobStore(tmp_path / "blobs"), FilePolicy(max_bytes=100_000)
    )
    return create_app(settings, demo_ctx, migrate=False)


def _task_id(page: str) -> str:
    found = re.search(r'action="/tasks/([0-9a-f]{32})/approve"', page)
    assert found is not None
    return found.group(1)


def test_an_approval_with_files_lists_them_under_its_timeline_entry(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30000.00")
    approver = browser("li.na")
    page = approver.get(f"/tickets/{ticket_id}").text
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page
    response = approver.post(
        f"/tasks/{_task_id(page)}/approve",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id, "comment": "附上流水"},
        files=[("files", ("银行流水.pdf", PDF)), ("files", ("说明.txt", "核实".encode()))],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    requester = browser("zhang.wei")
    shown = requester.get(f"/tickets/{ticket_id}").text
    approved = shown[shown.index('data-kind="task_approved"') :]
    links = re.findall(r'<a href="(/attachments/[0-9a-f]{32})" download[^>]*>([^<]*)</a>', approved)
    assert [name for _, name in links[:2]] == ["银行流水.pdf", "说明.txt"]
    download = requester.get(links[0][0])
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert browser("wu.min").get(links[0][0]).status_code == 404  # not on the ticket


def test_a_refused_file_is_shown_beside_the_input_and_nothing_is_decided(
    browser: Callable[..., Browser],
) -> None:
    ticket_id = browser("zhang.wei").file_loan(amount="30000.00")
    approver = browser("li.na")
    page = approver.get(f"/tickets/{ticket_id}").text
    task_id = _task_id(page)
    response = approver.post(
        f"/tasks/{task_id}/approve",
        data={"csrf_token": csrf_from(page), "ticket_id": ticket_id},
        files=[("files", ("invoice.pdf", zip_of({"a.txt": b"x"})))],
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert 'data-testid="task-file-error"' in response.text
    assert "文件内容与其扩展名 .pdf 不符" in response.text
    assert f'action="/tasks/{task_id}/approve"' in response.text  # still open


def test_a_comment_carries_files_and_an_empty_file_input_is_ignored(
    browser: Callable[..., Browser],
) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan(amount="30000.00")
    page = requester.get(f"/tickets/{ticket_id}").text
    response = requester.post(
        f"/tickets/{ticket_id}/comments",
        data={"csrf_token": csrf_from(page), "note": "补充材料"},
        files=[("files", ("补充.pdf", PDF)), ("files", ("", b""))],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    shown = requester.get(f"/tickets/{ticket_id}").text
    comment = shown[shown.index('data-kind="comment_added"') :]
    assert re.search(r'download data-testid="attachment-link">补充.pdf</a>', comment)


def test_an_upload_without_the_csrf_token_is_refused(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    ticket_id = requester.file_loan(amount="30000.00")
    response = requester.post(
        f"/tickets/{ticket_id}/comments",
        data={"note": "x"},
        files=[("files", ("a.pdf", PDF))],
        follow_redirects=False,
    )
    assert response.status_code == 403
