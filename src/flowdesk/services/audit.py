"""Proving the audit chain: `flowdesk audit verify` and the admin page call this."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.audit import GENESIS_HASH, AuditEntry, verify_chain
from flowdesk.kernel.errors import Forbidden
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int
    head_seq: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(ctx: ServiceContext, actor: Actor | None = None) -> VerifyReport:
    """Recomputes every hash; `actor` None means the operator's command line."""
    if actor is not None and not decide(actor, "audit.verify"):
        raise Forbidden("Only administrators and auditors may verify the audit log")
    counted = 0
    last_hash = GENESIS_HASH

    with ctx.db.read() as conn:
        head_seq, head_hash = audit_store.head(conn)

        def counting() -> Iterator[AuditEntry]:
            nonlocal counted, last_hash
            for entry in audit_store.entries(conn):
                counted += 1
                last_hash = entry.hash
                yield entry

        broken = verify_chain(counting())
    if broken is not None:
        return VerifyReport(False, counted, head_seq, broken.seq, broken.reason)
    if counted < head_seq:
        return VerifyReport(
            False, counted, head_seq, counted + 1, "entries at the end of the chain are missing"
        )
    if counted > head_seq:
        return VerifyReport(
            False, counted, head_seq, head_seq + 1, "entries beyond the chain head were added"
        )
    if last_hash != head_hash:
        return VerifyReport(
            False, counted, head_seq, head_seq, "the last entry does not match the chain head"
        )
    return VerifyReport(True, counted, head_seq)
