"""Attachments (ADR 0028) on SQLite and PostgreSQL: uploads checked before anything is
stored, linked with the action that carries them or not at all, downloads permission-
checked, unlinked uploads purged."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from loan_desk import Desk
from sqlalchemy import func, select

from file_samples import PDF, zip_of
from flowdesk.engines.files import AttachmentRefused, FilePolicy
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import Forbidden, NotFound, ValidationFailed
from flowdesk.services import attachments, task_returns, ticket_actions, tickets, views
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.store import audit as audit_store
from flowdesk.store.blobs import LocalBlobStore
from flowdesk.store.tables import Attachment, AuditLog


@pytest.fixture
def blob_root(desk: Desk, tmp_path: Path) -> Path:
    root = tmp_path / "blobs"
    desk.ctx.attachments = AttachmentStorage(LocalBlobStore(root), FilePolicy(max_bytes=100_000))
    return root


@pytest.fixture
def clock(desk: Desk) -> FrozenClock:
    frozen = FrozenClock()
    desk.ctx.clock = frozen
    return frozen


def _upload(desk: Desk, who: str, name: str = "合同.pdf", data: bytes = PDF) -> str:
    return attachments.upload(
        desk.ctx, actor=desk.actors[who], filename=name, source=io.BytesIO(data)
    ).id


def _download(desk: Desk, who: str, attachment_id: str) -> bytes:
    _, chunks = attachments.download(desk.ctx, actor=desk.actors[who], attachment_id=attachment_id)
    return b"".join(chunks)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _counts(desk: Desk) -> tuple[int, int]:
    with desk.ctx.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(Attachment.__table__)).scalar_one(),
            conn.execute(select(func.count()).select_from(AuditLog.__table__)).scalar_one(),
        )


def _row(desk: Desk, attachment_id: str):  # type: ignore[no-untyped-def]
    table = Attachment.__table__
    with desk.ctx.db.read() as conn:
        return conn.execute(select(table).where(table.c.id == attachment_id)).one()


def test_an_upload_is_stored_with_its_hash_and_only_its_uploader_reads_it(
    desk: Desk, blob_root: Path
) -> None:
    attachment_id = _upload(desk, "li.na")
    row = _row(desk, attachment_id)
    assert (row.filename, row.content_type, row.size) == ("合同.pdf", "application/pdf", len(PDF))
    assert row.sha256 == hashlib.sha256(PDF).hexdigest()
    assert row.ticket_id is None
    assert row.storage_key not in row.filename and len(_files(blob_root)) == 1
    assert _download(desk, "li.na", attachment_id) == PDF
    for other in ("zhang.wei", "admin", "wu.min"):
        with pytest.raises(NotFound) as hidden:
            _download(desk, other, attachment_id)
        assert hidden.value.code == "attachment_not_found"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("invoice.pdf", zip_of({"a.txt": b"x"}), "attachment_type_mismatch"),
        ("invoice.pdf.exe", PDF, "attachment_double_extension"),
        ("big.pdf", PDF + b"0" * 100_000, "attachment_too_large"),
        ("run.exe", PDF, "attachment_type_refused"),
    ],
)
def test_a_refused_upload_leaves_no_row_no_file_and_no_audit(
    desk: Desk, blob_root: Path, name: str, data: bytes, code: str
) -> None:
    before = _counts(desk)
    with pytest.raises(AttachmentRefused) as refused:
        _upload(desk, "li.na", name, data)
    assert refused.value.code == code
    assert _counts(desk) == before
    assert _files(blob_root) == []


def test_an_upload_whose_record_fails_leaves_no_file(
    desk: Desk, blob_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(attachments.attachments_store, "insert_attachment", broken)
    with pytest.raises(RuntimeError):
        _upload(desk, "li.na")
    assert _files(blob_root) == []


def test_an_approval_carries_attachments_into_its_timeline_entry_and_audit(
    desk: Desk, blob_root: Path
) -> None:
    ticket_id = desk.submit("30000.00")
    first = _upload(desk, "li.na", "流水.pdf")
    second = _upload(desk, "li.na", "notes.txt", "核实无误".encode())
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(
        desk.ctx, actor=desk.actors["li.na"], task_id=task.id, attachments=[first, second, first]
    )
    entry = next(e for e in desk.view(ticket_id).timeline if e.kind == "task_approved")
    assert entry.data is not None
    assert [a["filename"] for a in entry.data["attachments"]] == ["流水.pdf", "notes.txt"]
    row = _row(desk, first)
    assert (row.ticket_id, row.attached_to, row.action, row.task_id) == (
        ticket_id,
        "task",
        "approve",
        task.id,
    )
    # whoever may read the ticket downloads it; someone not on the ticket gets 404
    for reader in ("zhang.wei", "li.na", "sun.li", "admin"):
        assert _download(desk, reader, first) == PDF
    with pytest.raises(NotFound):
        _download(desk, "wu.min", first)
    listed = views.ticket(desk.ctx, desk.actors["zhang.wei"], ticket_id, with_attachments=True)
    assert [a.id for a in listed.attachments] == [first, second]
    assert views.ticket(desk.ctx, desk.actors["zhang.wei"], ticket_id).attachments == ()
    with desk.ctx.db.read() as conn:
        approval = next(e for e in audit_store.entries(conn) if e.action == "task.approve")
    assert approval.details["attachments"] == [first, second]


def test_a_linked_attachment_cannot_be_attached_again(desk: Desk, blob_root: Path) -> None:
    ticket_id = desk.submit("30000.00")
    attachment_id = _upload(desk, "li.na")
    desk_task = desk.task(ticket_id, "branch_review")
    tickets.approve(
        desk.ctx, actor=desk.actors["li.na"], task_id=desk_task.id, attachments=[attachment_id]
    )
    with pytest.raises(ValidationFailed) as again:
        ticket_actions.add_comment(
            desk.ctx,
            actor=desk.actors["li.na"],
            ticket_id=ticket_id,
            comment="again",
            attachments=[attachment_id],
        )
    assert again.value.code == "attachment_not_usable"
    assert again.value.errors[0].code == "already_linked"


def test_someone_elses_upload_cannot_be_attached_and_nothing_is_written(
    desk: Desk, blob_root: Path
) -> None:
    ticket_id = desk.submit("30000.00")
    theirs = _upload(desk, "zhang.wei")
    before = _counts(desk)
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(ValidationFailed) as refused:
        tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id, attachments=[theirs])
    assert (refused.value.code, refused.value.errors[0].path) == (
        "attachment_not_usable",
        "attachments[0]",
    )
    assert _counts(desk) == before
    assert desk.task(ticket_id, "branch_review").state == "open"
    assert _row(desk, theirs).ticket_id is None


def test_an_action_that_fails_leaves_no_link_and_no_audit_entry(
    desk: Desk, blob_root: Path
) -> None:
    """The requester may not approve their own ticket: the refused step links nothing."""
    ticket_id = desk.submit("30000.00", who="li.na")  # li.na files, and holds branch_review
    mine = _upload(desk, "li.na")
    before = _counts(desk)
    task = desk.task(ticket_id, "branch_review")
    with pytest.raises(Forbidden):
        tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id, attachments=[mine])
    assert _counts(desk) == before
    assert _row(desk, mine).ticket_id is None


def test_a_comment_and_a_return_carry_attachments(desk: Desk, blob_root: Path) -> None:
    ticket_id = desk.submit("30000.00")
    on_comment = _upload(desk, "zhang.wei", "补充材料.pdf")
    ticket_actions.add_comment(
        desk.ctx,
        actor=desk.actors["zhang.wei"],
        ticket_id=ticket_id,
        comment="附上补充材料",
        attachments=[on_comment],
    )
    on_return = _upload(desk, "li.na", "退回说明.txt", "缺少流水".encode())
    task = desk.task(ticket_id, "branch_review")
    task_returns.return_task(
        desk.ctx,
        actor=desk.actors["li.na"],
        task_id=task.id,
        target="applicant",
        comment="材料不全",
        attachments=[on_return],
    )
    timeline = desk.view(ticket_id).timeline
    comment = next(e for e in timeline if e.kind == "comment_added")
    returned = next(e for e in timeline if e.kind == "task_returned")
    assert comment.data is not None and comment.data["attachments"][0]["id"] == on_comment
    assert returned.data is not None and returned.data["attachments"][0]["id"] == on_return
    assert returned.data["to"] == "applicant"  # the return's own data is kept
    assert (_row(desk, on_comment).attached_to, _row(desk, on_return).action) == ("note", "return")


def test_unlinked_uploads_older_than_a_day_are_purged_with_their_files(
    desk: Desk, blob_root: Path, clock: FrozenClock
) -> None:
    ticket_id = desk.submit("30000.00")
    left = _upload(desk, "li.na", "left.pdf")
    used = _upload(desk, "li.na", "used.pdf")
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id, attachments=[used])
    clock.advance(timedelta(hours=23))
    assert attachments.purge_unlinked(desk.ctx) == 0
    clock.advance(timedelta(hours=2))
    assert attachments.purge_unlinked(desk.ctx) == 1
    assert len(_files(blob_root)) == 1
    with pytest.raises(NotFound):
        _download(desk, "li.na", left)
    assert _download(desk, "zhang.wei", used) == PDF
    with desk.ctx.db.read() as conn:
        assert list(audit_store.entries(conn))[-1].action == "attachment.purge"


def test_a_form_field_can_hold_attachments_by_id(desk: Desk, blob_root: Path) -> None:
    """What the attachment field type will do when a ticket's values are written."""
    ticket_id = desk.submit("30000.00")
    licence = _upload(desk, "zhang.wei", "营业执照.pdf")
    actor = desk.actors["zhang.wei"]
    with desk.ctx.db.write() as conn:
        carried = attachments.unlinked_of(desk.ctx, conn, actor, [licence])
        attachments.link_to_field(
            conn, ticket_id=ticket_id, field_key="licence", at=desk.ctx.clock.now(), carried=carried
        )
    row = _row(desk, licence)
    assert (row.ticket_id, row.attached_to, row.field_key) == (ticket_id, "field", "licence")
    assert _download(desk, "li.na", licence) == PDF  # a reader of the ticket


def _approving(desk: Desk, who: str, task_id: str, attachment_id: str) -> Callable[[], object]:
    return partial(
        tickets.approve,
        desk.ctx,
        actor=desk.actors[who],
        task_id=task_id,
        attachments=[attachment_id],
    )


def test_racing_approvals_link_each_winner_once_and_leave_the_losers_files_unlinked(
    desk: Desk, blob_root: Path
) -> None:
    """Two people approve one task at once (one wins, the other 409): only the winner's file
    is linked. Two reviews of one ticket at once (the version check makes one re-run on
    PostgreSQL): both files end up linked, to their own task, once."""
    from test_concurrency import Racers, _disbursement_tasks

    racers = Racers(2)
    for task_id in _disbursement_tasks(desk, 5):
        files = {who: _upload(desk, who, f"{who}.pdf") for who in ("zhao.lei", "qian.yu")}
        results = racers.race([_approving(desk, who, task_id, files[who]) for who in files])
        won = [
            who for who, r in zip(files, results, strict=True) if isinstance(r, tickets.StepOutcome)
        ]
        assert len(won) == 1, results
        for who, attachment_id in files.items():
            row = _row(desk, attachment_id)
            assert (row.task_id is not None) == (who in won)
    for _ in range(5):
        ticket_id = desk.submit("120000.00")
        reviews = {
            "wang.fang": desk.task(ticket_id, "legal_review").id,
            "ma.li": desk.task(ticket_id, "finance_review").id,
        }
        files = {who: _upload(desk, who, f"{who}.pdf") for who in reviews}
        results = racers.race([_approving(desk, who, reviews[who], files[who]) for who in reviews])
        assert all(isinstance(r, tickets.StepOutcome) for r in results), results
        for who, attachment_id in files.items():
            assert _row(desk, attachment_id).task_id == reviews[who]
        approved = [e for e in desk.view(ticket_id).timeline if e.kind == "task_approved"]
        assert sorted(a["id"] for e in approved for a in (e.data or {})["attachments"]) == sorted(
            files.values()
        )
