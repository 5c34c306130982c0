"""Attachments through the REST API (ADR 0028): upload, every refusal's code, actions
that carry them, the ticket answer, downloads and who may make them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from api_client import Api, assert_problem, loan_values
from fastapi.testclient import TestClient

from file_samples import PDF, png, zip_of
from flowdesk.engines.files import FilePolicy
from flowdesk.main import create_app
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from flowdesk.store.blobs import LocalBlobStore

LIMIT = 50_000


@pytest.fixture
def client(demo_ctx: ServiceContext, tmp_path: Path) -> Iterator[TestClient]:
    demo_ctx.attachments = AttachmentStorage(
        LocalBlobStore(tmp_path / "blobs"), FilePolicy(max_bytes=LIMIT)
    )
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)
    with TestClient(app) as test_client:
        yield test_client


def _upload(api: Api, who: str, name: str, data: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
    return api.post(who, "/attachments", files={"file": (name, data)}, **kwargs)


def _uploaded(api: Api, who: str, name: str = "合同.pdf", data: bytes = PDF) -> str:
    response = _upload(api, who, name, data)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _submit(api: Api, amount: str = "30000.00") -> str:
    response = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values(amount)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _task(api: Api, ticket_id: str) -> str:
    return str(api.get("zhang.wei", f"/tickets/{ticket_id}").json()["open_tasks"][0]["id"])


def test_an_upload_answers_201_with_its_id_and_record(api: Api) -> None:
    response = _upload(api, "li.na", "营业执照.png", png())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "营业执照.png"
    assert body["content_type"] == "image/png"
    assert body["size"] == len(png()) and len(body["sha256"]) == 64


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("big.pdf", PDF + b"0" * LIMIT, 413, "attachment_too_large"),
        ("invoice.pdf", zip_of({"a.txt": b"x"}), 422, "attachment_type_mismatch"),
        ("setup.exe", PDF, 422, "attachment_type_refused"),
        ("invoice.pdf.exe", PDF, 422, "attachment_double_extension"),
        ("bomb.zip", zip_of({"zeros.txt": b"\0" * 3_000_000}), 422, "attachment_archive_bomb"),
        ("nested.zip", zip_of({"inner.zip": b"PK"}), 422, "attachment_archive_nested"),
        ("empty.pdf", b"", 422, "attachment_empty"),
    ],
)
def test_every_refusal_is_a_problem_with_its_code(
    api: Api, name: str, data: bytes, status: int, code: str
) -> None:
    body = assert_problem(_upload(api, "li.na", name, data), status, code)
    assert body["errors"][0]["path"] == "file"


def test_refusals_speak_chinese_when_asked(api: Api) -> None:
    response = _upload(
        api, "li.na", "photo.png", PDF, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    body = assert_problem(response, 422, "attachment_type_mismatch")
    assert "不符" in body["title"]


def test_an_upload_without_a_file_or_not_multipart_is_refused(api: Api) -> None:
    assert_problem(
        api.post("li.na", "/attachments", data={"other": "x"}, files={"x": ("a", b"")}),
        422,
        "attachment_file_required",
    )
    assert_problem(
        api.post("li.na", "/attachments", json={"file": "x"}), 415, "unsupported_media_type"
    )


def test_a_body_far_over_the_limit_is_413_before_it_is_read(api: Api) -> None:
    response = _upload(api, "li.na", "huge.pdf", PDF + b"0" * (LIMIT + 400_000))
    assert response.status_code == 413


def test_approve_with_attachments_lists_them_in_the_timeline_and_the_ticket(api: Api) -> None:
    ticket_id = _submit(api)
    attachment_id = _uploaded(api, "li.na")
    response = api.post(
        "li.na", f"/tasks/{_task(api, ticket_id)}/approve", json={"attachments": [attachment_id]}
    )
    assert response.status_code == 200, response.text
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    approved = next(e for e in ticket["timeline"] if e["kind"] == "task_approved")
    assert approved["data"]["attachments"][0]["id"] == attachment_id
    assert [(a["id"], a["action"]) for a in ticket["attachments"]] == [(attachment_id, "approve")]


def test_reject_return_and_comment_accept_attachments(api: Api) -> None:
    ticket_id = _submit(api)
    on_comment = _uploaded(api, "zhang.wei", "说明.pdf")
    response = api.post(
        "zhang.wei",
        f"/tickets/{ticket_id}/comments",
        json={"comment": "补充材料", "attachments": [on_comment]},
    )
    assert response.status_code == 201, response.text
    assert [a["filename"] for a in response.json()["attachments"]] == ["说明.pdf"]
    on_return = _uploaded(api, "li.na", "退回.pdf")
    response = api.post(
        "li.na",
        f"/tasks/{_task(api, ticket_id)}/return",
        json={"target": "applicant", "comment": "材料不全", "attachments": [on_return]},
    )
    assert response.status_code == 200, response.text
    other = _submit(api)
    on_reject = _uploaded(api, "li.na", "拒绝.pdf")
    response = api.post(
        "li.na",
        f"/tasks/{_task(api, other)}/reject",
        json={"comment": "no", "attachments": [on_reject]},
    )
    assert response.status_code == 200, response.text
    actions = [
        a["action"] for a in api.get("zhang.wei", f"/tickets/{ticket_id}").json()["attachments"]
    ]
    assert actions == ["comment", "return"]
    rejected = api.get("zhang.wei", f"/tickets/{other}").json()["attachments"]
    assert [a["id"] for a in rejected] == [on_reject]


def test_an_unusable_attachment_is_422_and_the_task_stays_open(api: Api) -> None:
    ticket_id = _submit(api)
    theirs = _uploaded(api, "zhang.wei")
    task_id = _task(api, ticket_id)
    response = api.post("li.na", f"/tasks/{task_id}/approve", json={"attachments": [theirs]})
    body = assert_problem(response, 422, "attachment_not_usable")
    assert body["errors"][0]["path"] == "attachments[0]"
    assert api.get("li.na", f"/tasks/{task_id}").json()["state"] == "open"
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["attachments"] == []


def test_a_download_is_an_attachment_with_a_safe_name_and_no_sniffing(api: Api) -> None:
    ticket_id = _submit(api)
    attachment_id = _uploaded(api, "li.na", "合同 final;v2.pdf")
    api.post(
        "li.na", f"/tasks/{_task(api, ticket_id)}/approve", json={"attachments": [attachment_id]}
    )
    response = api.get("zhang.wei", f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="___final_v2.pdf"' in disposition  # an ASCII fallback, no ';' in it
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "合同 final;v2.pdf"


def test_someone_not_on_the_ticket_gets_404_as_for_a_missing_id(api: Api) -> None:
    ticket_id = _submit(api)
    attachment_id = _uploaded(api, "li.na")
    unlinked = _uploaded(api, "li.na", "draft.pdf")
    api.post(
        "li.na", f"/tasks/{_task(api, ticket_id)}/approve", json={"attachments": [attachment_id]}
    )
    assert_problem(api.get("wu.min", f"/attachments/{attachment_id}"), 404, "attachment_not_found")
    assert_problem(api.get("zhang.wei", f"/attachments/{unlinked}"), 404, "attachment_not_found")
    assert_problem(api.get("wu.min", f"/attachments/{'f' * 32}"), 404, "attachment_not_found")
    assert api.get("li.na", f"/attachments/{unlinked}").status_code == 200  # the uploader's own
    assert api.get("sun.li", f"/attachments/{attachment_id}").status_code == 200  # an auditor


def test_settings_store_beside_the_sqlite_database_by_default(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'flowdesk.db'}")
    storage = settings.attachment_storage()
    assert isinstance(storage.blobs, LocalBlobStore)
    assert storage.blobs.root == tmp_path / "db" / "attachments"
    assert storage.policy.max_bytes == 20 * 1024 * 1024
    assert "doc" not in storage.policy.extensions and "pdf" in storage.policy.extensions


def test_settings_choose_s3_and_check_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from flowdesk.store.blobs import S3BlobStore

    monkeypatch.setenv("FLOWDESK_ATTACHMENTS__BACKEND", "s3")
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        Settings()
    monkeypatch.setenv("FLOWDESK_ATTACHMENTS__S3_BUCKET", "flowdesk-files")
    monkeypatch.setenv("FLOWDESK_ATTACHMENTS__S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FLOWDESK_ATTACHMENTS__S3_REGION", "us-east-1")
    monkeypatch.setenv("FLOWDESK_ATTACHMENTS__EXTENSIONS", '["pdf", ".XLS"]')
    storage = Settings().attachment_storage()
    assert isinstance(storage.blobs, S3BlobStore) and storage.blobs.bucket == "flowdesk-files"
    assert storage.policy.extensions == frozenset({"pdf", "xls"})
    monkeypatch.setenv("FLOWDESK_ATTACHMENTS__EXTENSIONS", '["exe"]')
    with pytest.raises(ValidationError, match="unknown extensions"):
        Settings()
