"""The audit chain is tamper-evident (RELIABILITY.md promise 7).

Tampering is done the way an insider with database access would: switch the
append-only triggers off, change rows, and see `audit.verify` name the first bad
entry. Every kind of single change is detected at the right sequence number.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import Connection, delete, insert, select, text, update

from flowdesk.engines.audit import CheckpointError, checkpoint, entry_hash
from flowdesk.kernel.errors import Conflict, Forbidden
from flowdesk.services import audit, org
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import AuditLog

log = AuditLog.__table__
COLUMNS = ("seq", "at", "actor", "action", "target_type", "target_id", "details", "prev_hash")


def _unlock(conn: Connection) -> None:
    """What an insider would do first: switch off the append-only triggers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))


@pytest.fixture
def chain(desk: Desk) -> ServiceContext:
    """The demo bank plus a few loan flows: a chain of ~70 entries, triggers switched off."""
    for amount in ("20000.00", "120000.00", "300000.00"):
        ticket_id = desk.submit(amount)
        if amount == "20000.00":
            desk.approve("li.na", ticket_id, "branch_review")
        else:
            desk.approve("wang.fang", ticket_id, "legal_review")
            desk.approve("liu.yang", ticket_id, "finance_review")
            desk.approve("chen.jing", ticket_id, "committee")
        desk.approve("zhao.lei", ticket_id, "disburse")
    report = audit.verify(desk.ctx)
    assert report.ok, report
    assert report.entries == report.head_seq >= 60
    with desk.ctx.db.write() as conn:
        _unlock(conn)
    return desk.ctx


def _row(ctx: ServiceContext, seq: int) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return dict(conn.execute(select(log).where(log.c.seq == seq)).one()._mapping)


def _head(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return audit_store.head(conn)[0]


def _broken_at(ctx: ServiceContext) -> int | None:
    report = audit.verify(ctx)
    assert report.ok is (report.first_bad_seq is None)
    return report.first_bad_seq


def _rehash(row: dict[str, Any]) -> dict[str, Any]:
    """The row with a correct hash for its (forged) content, as a forger who knows SHA-256 can."""
    content = {k: row[k] for k in COLUMNS if k != "prev_hash"}
    return {**row, "hash": entry_hash(row["prev_hash"], content)}


def _rewrite_from(ctx: ServiceContext, seq: int, *, move_head: bool = True) -> None:
    """Changes entry `seq` and re-hashes every later entry; moving the head too makes a
    perfect forgery as far as the chain alone can tell."""
    with ctx.db.write() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(log).where(log.c.seq >= seq).order_by(log.c.seq))
        ]
        rows[0]["actor"] = "mallory"
        for index, row in enumerate(rows):
            if index:
                row["prev_hash"] = rows[index - 1]["hash"]
            rows[index] = _rehash(row)
            conn.execute(update(log).where(log.c.seq == row["seq"]).values(rows[index]))
        if move_head:
            conn.execute(
                text("UPDATE audit_head SET hash = :hash WHERE id = 1"),
                {"hash": rows[-1]["hash"]},
            )


def test_an_untouched_chain_verifies(chain: ServiceContext) -> None:
    report = audit.verify(chain)
    assert report.ok
    assert report.first_bad_seq is None
    assert report.entries == report.head_seq == _head(chain)


@pytest.mark.parametrize(
    "column, value",
    [
        ("details", {"app": "loan", "version": 1, "status": "approved", "opened": []}),
        ("actor", "mallory"),
        ("action", "task.reject"),
        ("target_id", "0" * 32),
        ("at", "2020-01-01T00:00:00+00:00"),
        ("hash", "f" * 64),
        ("prev_hash", "e" * 64),
    ],
)
def test_editing_one_entry_is_detected_at_that_entry(
    chain: ServiceContext, column: str, value: object
) -> None:
    seq = _head(chain) // 2
    with chain.db.write() as conn:
        conn.execute(update(log).where(log.c.seq == seq).values({column: value}))
    report = audit.verify(chain)
    assert not report.ok
    assert report.first_bad_seq == seq
    assert report.reason


def test_deleting_a_middle_entry_is_detected_at_the_gap(chain: ServiceContext) -> None:
    seq = 17
    with chain.db.write() as conn:
        conn.execute(delete(log).where(log.c.seq == seq))
    report = audit.verify(chain)
    assert (report.ok, report.first_bad_seq) == (False, seq)
    assert report.reason == "missing entry"


def test_deleting_the_last_entry_is_detected_by_the_head(chain: ServiceContext) -> None:
    head = _head(chain)
    with chain.db.write() as conn:
        conn.execute(delete(log).where(log.c.seq == head))
    report = audit.verify(chain)
    assert (report.ok, report.first_bad_seq) == (False, head)
    assert report.entries == head - 1


def _insert_forged_at(chain: ServiceContext, seq: int, *, rehash: bool) -> None:
    """Shifts entries seq.. up by one and puts a forged entry at seq."""
    with chain.db.write() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(log).where(log.c.seq >= seq).order_by(log.c.seq))
        ]
        conn.execute(delete(log).where(log.c.seq >= seq))
        previous = conn.execute(select(log.c.hash).where(log.c.seq == seq - 1)).scalar_one()
        forged = {
            **rows[0],
            "seq": seq,
            "actor": "mallory",
            "action": "user.create",
            "details": {"username": "mallory", "roles": [], "is_admin": True},
            "prev_hash": previous,
        }
        if rehash:
            forged = _rehash(forged)
        shifted = [{**row, "seq": row["seq"] + 1} for row in rows]
        conn.execute(insert(log), [forged, *shifted])


def test_inserting_a_forged_entry_is_detected(chain: ServiceContext) -> None:
    _insert_forged_at(chain, 20, rehash=False)
    assert _broken_at(chain) == 20


def test_inserting_a_well_hashed_forged_entry_is_detected_at_the_next_one(
    chain: ServiceContext,
) -> None:
    # The forged entry itself is self-consistent; the entry after it no longer links to it.
    _insert_forged_at(chain, 20, rehash=True)
    assert _broken_at(chain) == 21


def test_appending_a_forged_entry_past_the_head_is_detected(chain: ServiceContext) -> None:
    head = _head(chain)
    last = _row(chain, head)
    forged = _rehash(
        {
            **last,
            "seq": head + 1,
            "actor": "mallory",
            "prev_hash": last["hash"],
            "details": {"note": "backdated approval"},
        }
    )
    with chain.db.write() as conn:
        conn.execute(insert(log), [forged])
    report = audit.verify(chain)
    assert (report.ok, report.first_bad_seq) == (False, head + 1)
    assert report.entries == head + 1


def test_swapping_two_entries_contents_is_detected_at_the_first(chain: ServiceContext) -> None:
    first, second = 11, 30
    a, b = _row(chain, first), _row(chain, second)
    with chain.db.write() as conn:
        for target, source in ((first, b), (second, a)):
            values = {k: v for k, v in source.items() if k != "seq"}
            conn.execute(update(log).where(log.c.seq == target).values(values))
    assert _broken_at(chain) == first


def test_rewriting_the_tail_with_fresh_hashes_is_caught_by_the_head(chain: ServiceContext) -> None:
    """A forger who recomputes every later hash but leaves the head row is caught by it."""
    head = _head(chain)
    _rewrite_from(chain, 40, move_head=False)
    report = audit.verify(chain)
    assert not report.ok
    assert report.first_bad_seq == head


def _mutate(rng: random.Random, row: dict[str, Any], head: int) -> tuple[str, object]:
    column = rng.choice((*COLUMNS, "hash"))
    value = row[column]
    if column == "seq":
        return column, head + 1000 + rng.randrange(1000)
    if column == "details":
        details = dict(value)
        if details and rng.random() < 0.5:
            key = rng.choice(sorted(details))
            details[key] = [details[key], "x"]
        else:
            details[f"k{rng.randrange(100)}"] = rng.randrange(1000)
        return column, details
    if column in ("hash", "prev_hash"):
        position = rng.randrange(64)
        flipped = "0" if value[position] != "0" else "1"
        return column, value[:position] + flipped + value[position + 1 :]
    position = rng.randrange(len(value))
    replacement = rng.choice("abcdefghijklmnopqrstuvwxyz0123456789:.-")
    if replacement == value[position]:
        return column, value + replacement
    return column, value[:position] + replacement + value[position + 1 :]


def test_every_random_single_entry_edit_is_detected(chain: ServiceContext) -> None:
    """1,000 random edits of one field of one entry (RELIABILITY.md's CI size): all detected."""
    rng = random.Random(20260105)
    head = _head(chain)
    missed = []
    for _ in range(1000):
        seq = rng.randint(1, head)
        row = _row(chain, seq)
        column, value = _mutate(rng, row, head)
        with chain.db.write() as conn:
            conn.execute(update(log).where(log.c.seq == seq).values({column: value}))
        found = _broken_at(chain)
        if found != seq:
            missed.append((seq, column, value, found))
        with chain.db.write() as conn:
            moved = log.c.seq == (value if column == "seq" else seq)
            conn.execute(update(log).where(moved).values({column: row[column]}))
    assert missed == []
    assert audit.verify(chain).ok  # every edit was undone exactly


def test_verify_during_concurrent_appends_reports_no_false_break(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry committed while verify runs must not look like tampering."""
    ctx = desk.ctx
    original = audit_store.head

    def head_then_append(conn: Connection) -> tuple[int, str]:
        found = original(conn)
        # Another request commits an audited change between verify's reads.
        worker = threading.Thread(target=desk.submit, args=("20000.00",))
        worker.start()
        worker.join()
        return found

    monkeypatch.setattr(audit_store, "head", head_then_append)
    report = audit.verify(ctx)
    assert report.ok, report
    monkeypatch.undo()
    assert audit.verify(ctx).ok


def test_only_admins_and_auditors_may_verify(desk: Desk) -> None:
    assert audit.verify(desk.ctx, desk.actors["admin"]).ok
    assert audit.verify(desk.ctx, desk.actors["sun.li"]).ok
    with pytest.raises(Forbidden):
        audit.verify(desk.ctx, desk.actors["zhang.wei"])


def test_the_database_refuses_to_change_the_audit_log(desk: Desk) -> None:
    for statement in (update(log).values(actor="mallory"), delete(log)):
        with pytest.raises(Exception, match="append-only"), desk.ctx.db.write() as conn:
            conn.execute(statement)
    assert audit.verify(desk.ctx).ok


PHONE = "13812345678"
RESIDENT_ID = "11010519491231002X"
BANK_CARD = "6222021234567890123"


def test_personal_data_in_audit_details_is_stored_masked(desk: Desk) -> None:
    ctx = desk.ctx
    org.create_department(ctx, code=f"sales-{PHONE}", name_en="Sales", name_zh="销售部")
    org.create_user(
        ctx,
        username="vip.manager",
        display_name="VIP",
        password="long-enough-1",
        roles=(f"vip-{PHONE}",),
    )
    with ctx.db.write() as conn:
        audit_store.append(
            conn,
            at=datetime.now(UTC),
            actor="system",
            action="test.plant",
            target_type="test",
            target_id="1",
            details={
                "note": f"客户电话 {PHONE}，身份证 {RESIDENT_ID}",
                "nested": {"cards": [BANK_CARD, {"phone": PHONE}]},
                "count": 3,
            },
        )
    with ctx.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(log).order_by(log.c.seq))]
    stored = repr(rows)
    for secret in (PHONE, RESIDENT_ID, BANK_CARD):
        assert secret not in stored
    assert rows[-1]["details"] == {
        "note": "客户电话 138****5678，身份证 110***********002X",
        "nested": {"cards": ["622202*********0123", {"phone": "138****5678"}]},
        "count": 3,
    }
    assert {"code": "sales-138****5678"} in [r["details"] for r in rows]
    assert any(r["details"].get("roles") == ["vip-138****5678"] for r in rows)
    assert audit.verify(ctx).ok  # the hash covers the masked content


# Signed checkpoints: what catches an insider who can rewrite the chain and its head.


@pytest.fixture(scope="module")
def signing_key() -> bytes:
    return checkpoint.new_private_key_pem()


def test_a_rewritten_chain_passes_alone_but_fails_its_signed_checkpoint(
    chain: ServiceContext, desk: Desk, signing_key: bytes
) -> None:
    early = audit.sign_checkpoint(chain, signing_key)
    desk.submit("20000.00")  # the chain grows after the checkpoint
    late = audit.sign_checkpoint(chain, signing_key)
    public = checkpoint.public_key_pem(signing_key)
    report = audit.verify(chain, checkpoints=[late, early], public_key_pem=public)
    assert (report.ok, report.checkpoints) == (True, 2)

    _rewrite_from(chain, early.seq - 5)
    assert audit.verify(chain).ok  # the chain and its head agree with each other
    report = audit.verify(chain, checkpoints=[early, late], public_key_pem=public)
    assert (report.ok, report.first_bad_seq) == (False, early.seq)
    assert "rewritten at or before" in (report.reason or "")


def test_checkpoints_with_a_wrong_key_or_a_changed_field_are_refused(
    chain: ServiceContext, signing_key: bytes
) -> None:
    signed = audit.sign_checkpoint(chain, signing_key)
    other = checkpoint.public_key_pem(checkpoint.new_private_key_pem())
    with pytest.raises(CheckpointError, match="not by this public key"):
        audit.verify(chain, checkpoints=[signed], public_key_pem=other)
    public = checkpoint.public_key_pem(signing_key)
    moved = dataclasses.replace(signed, seq=signed.seq - 1)
    with pytest.raises(CheckpointError, match="signature does not match"):
        audit.verify(chain, checkpoints=[moved], public_key_pem=public)


def test_a_checkpoint_past_the_end_reports_the_missing_entries(
    chain: ServiceContext, signing_key: bytes
) -> None:
    signed = audit.sign_checkpoint(chain, signing_key)
    with chain.db.write() as conn:  # cut the last two entries and the head with them
        conn.execute(delete(log).where(log.c.seq > signed.seq - 2))
        last = conn.execute(select(log).where(log.c.seq == signed.seq - 2)).one()
        conn.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
            {"seq": last.seq, "hash": last.hash},
        )
    assert audit.verify(chain).ok
    public = checkpoint.public_key_pem(signing_key)
    report = audit.verify(chain, checkpoints=[signed], public_key_pem=public)
    assert (report.ok, report.first_bad_seq) == (False, signed.seq - 1)
    assert "are missing" in (report.reason or "")


def test_a_broken_chain_is_never_signed(chain: ServiceContext, signing_key: bytes) -> None:
    with chain.db.write() as conn:
        conn.execute(update(log).where(log.c.seq == 7).values(actor="mallory"))
    with pytest.raises(Conflict, match="broken at entry 7"):
        audit.sign_checkpoint(chain, signing_key)
