"""SM3 for 国密 deployments (RELIABILITY.md promise 7): chosen when the chain starts,
computed in SQL on both databases exactly as the verifier recomputes it, and kept."""

from __future__ import annotations

import hashlib

import pytest
from loan_desk import Desk
from sqlalchemy import make_url, text

import pg
from flowdesk.engines.audit import canonical_json
from flowdesk.kernel.errors import ConfigurationError
from flowdesk.services import audit, auth, demo
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import org as org_store


@pytest.fixture
def sm3_desk(ctx: ServiceContext) -> Desk:
    """A new database whose chain starts with SM3, then the demo bank and a loan flow."""
    ctx.audit_algorithm = "sm3"
    audit.ensure_hash_algorithm(ctx)
    demo.load(ctx)
    with ctx.db.read() as conn:
        actors = {
            p.username: auth.actor_from_row(conn, org_store.user_by_username(conn, p.username))
            for p in demo.PEOPLE
        }
    desk = Desk(ctx, actors)
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review", "同意，客户电话 13812345678")
    desk.reject("liu.yang", ticket_id, "finance_review", "资料不全")
    return desk


def test_an_sm3_chain_is_hashed_with_sm3_and_verifies(sm3_desk: Desk) -> None:
    ctx = sm3_desk.ctx
    with ctx.db.read() as conn:
        assert audit_store.head(conn).algorithm == "sm3"
        entries = list(audit_store.entries(conn))
    assert len(entries) > 40
    for entry in entries:  # recomputed here with hashlib's SM3, not through our code
        expected = hashlib.new("sm3", (entry.prev_hash + canonical_json(entry.content())).encode())
        assert entry.hash == expected.hexdigest(), entry.seq
        sha = hashlib.sha256((entry.prev_hash + canonical_json(entry.content())).encode())
        assert entry.hash != sha.hexdigest()
    report = audit.verify(ctx)
    assert report.ok and report.entries == len(entries)


def test_tampering_with_an_sm3_chain_is_detected(sm3_desk: Desk) -> None:
    ctx = sm3_desk.ctx
    with ctx.db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 12"))
    report = audit.verify(ctx)
    assert (report.ok, report.first_bad_seq) == (False, 12)


def test_a_chain_keeps_its_algorithm(sm3_desk: Desk) -> None:
    ctx = sm3_desk.ctx
    audit.ensure_hash_algorithm(ctx)  # the same setting again: nothing to do
    ctx.audit_algorithm = "sha256"
    with pytest.raises(ConfigurationError, match="already uses sm3"):
        audit.ensure_hash_algorithm(ctx)
    with ctx.db.read() as conn:
        assert audit_store.head(conn).algorithm == "sm3"


def test_an_unknown_algorithm_is_refused(ctx: ServiceContext) -> None:
    ctx.audit_algorithm = "md5"
    with pytest.raises(ConfigurationError, match="unknown audit hash algorithm"):
        audit.ensure_hash_algorithm(ctx)


@pytest.mark.parametrize("backend", ["postgresql"])  # pgcrypto is PostgreSQL's
def test_sm3_on_postgresql_without_rights_to_pgcrypto_says_what_to_ask_for(
    db_url: str,
) -> None:
    """A database user that may not create extensions gets told to ask the DBA, and the
    chain is left as it was."""
    role = "flowdesk_test_no_extensions"
    pg.admin_run(
        f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    name = make_url(db_url).database
    pg.admin_run(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC, {role}')
    limited = build_context(make_url(db_url).set(username=role).render_as_string(False))
    limited.audit_algorithm = "sm3"
    try:
        with pytest.raises(ConfigurationError, match="CREATE EXTENSION pgcrypto"):
            audit.ensure_hash_algorithm(limited)
    finally:
        limited.db.dispose()
    check = build_context(db_url)
    with check.db.read() as conn:
        assert audit_store.head(conn).algorithm == "sha256"
    check.db.dispose()
