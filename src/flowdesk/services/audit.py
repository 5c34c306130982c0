"""Proving the audit chain (`flowdesk audit verify`, the admin page) and signing
checkpoints of it (`flowdesk audit checkpoint`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.audit import (
    GENESIS_HASH,
    HASH_ALGORITHMS,
    AuditEntry,
    Checkpoint,
    CheckpointError,
    checkpoint,
    verify_chain,
)
from flowdesk.kernel.errors import ConfigurationError, Conflict, Forbidden
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int
    head_seq: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str | None = None
    checkpoints: int = 0  # signed checkpoints the chain was found to match


def verify(
    ctx: ServiceContext,
    actor: Actor | None = None,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    public_key_pem: bytes | None = None,
) -> VerifyReport:
    """Recomputes every hash, and holds the chain against signed checkpoints when given
    (each must carry `public_key_pem`'s signature: CheckpointError otherwise). `actor`
    None means the operator's command line."""
    if actor is not None and not decide(actor, "audit.verify"):
        raise Forbidden("Only administrators and auditors may verify the audit log")
    if checkpoints:
        if public_key_pem is None:
            raise CheckpointError("checking signed checkpoints needs the public key")
        for signed in checkpoints:
            checkpoint.check(signed, public_key_pem)
    pinned = {c.seq for c in checkpoints}
    hashes_at: dict[int, str] = {0: GENESIS_HASH}
    counted = 0
    last_hash = GENESIS_HASH

    with ctx.db.read() as conn:
        head_seq, head_hash, algorithm = audit_store.head(conn)

        def counting() -> Iterator[AuditEntry]:
            nonlocal counted, last_hash
            for entry in audit_store.entries(conn):
                counted += 1
                last_hash = entry.hash
                if entry.seq in pinned:
                    hashes_at[entry.seq] = entry.hash
                yield entry

        broken = verify_chain(counting(), algorithm=algorithm)

    def failed(seq: int, reason: str) -> VerifyReport:
        return VerifyReport(False, counted, head_seq, seq, reason)

    if broken is not None:
        return failed(broken.seq, broken.reason)
    if counted < head_seq:
        return failed(counted + 1, "entries at the end of the chain are missing")
    if counted > head_seq:
        return failed(head_seq + 1, "entries beyond the chain head were added")
    if last_hash != head_hash:
        return failed(head_seq, "the last entry does not match the chain head")
    matched = 0
    for signed in sorted(checkpoints, key=lambda c: c.seq):
        if signed.seq > counted:
            return failed(
                counted + 1,
                f"entries up to {signed.seq}, signed in the checkpoint of {signed.at}, are missing",
            )
        if hashes_at[signed.seq] != signed.hash:
            return failed(
                signed.seq,
                f"the entry differs from the signed checkpoint of {signed.at}: the chain was"
                " rewritten at or before it",
            )
        matched += 1
    return VerifyReport(True, counted, head_seq, head_hash=head_hash, checkpoints=matched)


def sign_checkpoint(ctx: ServiceContext, private_key_pem: bytes) -> Checkpoint:
    """Verifies the chain, then signs its head: a broken chain is never signed."""
    report = verify(ctx)
    if not report.ok:
        raise Conflict(
            f"The audit chain is broken at entry {report.first_bad_seq} ({report.reason});"
            " no checkpoint was signed",
            "audit_chain_broken",
        )
    assert report.head_hash is not None
    return checkpoint.sign(
        private_key_pem,
        seq=report.head_seq,
        chain_hash=report.head_hash,
        at=ctx.clock.now().isoformat(),
    )


def ensure_hash_algorithm(ctx: ServiceContext) -> None:
    """Starts an empty chain with the configured algorithm; a chain with entries keeps
    its own, and a different setting then stops the start-up with a clear error."""
    wanted = ctx.audit_algorithm
    if wanted not in HASH_ALGORITHMS:
        raise ConfigurationError(f"unknown audit hash algorithm {wanted!r}")
    if wanted == "sm3" and ctx.db.dialect == "postgresql":
        _ensure_pgcrypto(ctx)
    with ctx.db.write() as conn:
        if audit_store.start_with_algorithm(conn, wanted):
            return
        current = audit_store.head(conn).algorithm
    if current != wanted:
        raise ConfigurationError(
            f"the audit chain already uses {current}; FLOWDESK_AUDIT__HASH_ALGORITHM={wanted}"
            " cannot change it (a chain keeps the algorithm it started with)"
        )


def _ensure_pgcrypto(ctx: ServiceContext) -> None:
    """SM3 on PostgreSQL comes from the pgcrypto extension."""
    try:
        with ctx.db.write() as conn:
            audit_store.create_pgcrypto(conn)
    except DBAPIError as exc:
        raise ConfigurationError(
            "SM3 on PostgreSQL needs the pgcrypto extension, which this database user may"
            " not create: ask the database administrator to run CREATE EXTENSION pgcrypto"
        ) from exc
