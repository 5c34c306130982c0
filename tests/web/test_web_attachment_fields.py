"""An attachment form field on the web (ADR 0037): the new-ticket form uploads the file
with the form, a required one left empty is refused at its field, a wrong type is named,
and the ticket page lists the file as a download link its readers can follow."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web_helpers import LOAN, Browser

from field_permission_app import attachment_yaml
from file_samples import JPEG, PDF
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext


@pytest.fixture
def attachment_loan(demo_ctx: ServiceContext) -> None:
    apps.publish_yaml(demo_ctx, attachment_yaml())


def _file(who: Browser, files: list[tuple[str, tuple[str, bytes, str]]]):  # type: ignore[no-untyped-def]
    data = {**LOAN, "amount": "1,000.00", "csrf_token": who.csrf()}
    return who.post("/apps/loan/new", data=data, files=files, follow_redirects=False)


@pytest.mark.usefixtures("attachment_loan")
def test_the_form_uploads_the_file_and_the_ticket_lists_it(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    page = applicant.get("/apps/loan/new").text
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="licence[]" multiple accept=".pdf,.png"' in page
    assert "最多 2 个文件；类型：PDF, PNG；每个不超过 1 MB" in page
    filed = _file(applicant, [("licence[]", ("营业执照.pdf", PDF, "application/pdf"))])
    assert filed.status_code == 303, filed.text
    ticket_id = filed.headers["location"].rsplit("/", 1)[1]
    shown = browser("li.na").get(f"/tickets/{ticket_id}").text
    assert 'data-testid="field-files"' in shown and "营业执照.pdf" in shown
    link = shown.split('data-testid="field-files"')[1].split('href="')[1].split('"')[0]
    downloaded = browser("li.na").get(link)
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert browser("huang.lei").get(link).status_code == 404


@pytest.mark.usefixtures("attachment_loan")
def test_a_missing_or_wrong_file_is_refused_at_the_field(
    browser: Callable[..., Browser],
) -> None:
    applicant = browser("zhang.wei")
    missing = _file(applicant, [("licence[]", ("", b"", "application/octet-stream"))])
    assert missing.status_code == 422
    assert 'data-testid="error-licence"' in missing.text
    wrong = _file(applicant, [("licence[]", ("licence.jpg", JPEG, "image/jpeg"))])
    assert wrong.status_code == 422
    assert "此处不接受该文件类型（允许：pdf, png）" in wrong.text
    field = wrong.text.split('data-field="licence"')[1].split("</div>")[0]
    assert 'data-testid="error-licence"' in field
