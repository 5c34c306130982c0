"""Migration 0003 moves the timeline from one row per event to one row per step and back,
losing nothing a user sees on the ticket page."""

from __future__ import annotations

from alembic import command
from loan_desk import Desk
from sqlalchemy import text

from flowdesk.store import migrate


def _migrate(desk: Desk, direction: str, revision: str) -> None:
    desk.ctx.db.dispose()  # pooled connections must not hold the old schema's statements
    with desk.ctx.db.engine.begin() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)


def test_the_timeline_survives_a_downgrade_and_upgrade(desk: Desk) -> None:
    large = desk.submit("120000.00")
    desk.approve("wang.fang", large, "legal_review", "同意")
    desk.reject("liu.yang", large, "finance_review", "资料不全")
    small = desk.submit("20000.00", who="zhang.wei")
    desk.approve("li.na", small, "branch_review")
    before = {ticket: desk.view(ticket).timeline for ticket in (large, small)}
    assert [e.kind for e in before[large]][-2:] == ["task_rejected", "ticket_rejected"]

    _migrate(desk, "downgrade", "0002")
    with desk.ctx.db.engine.connect() as conn:
        kinds = conn.execute(
            text("SELECT kind, comment FROM events WHERE ticket_id = :t ORDER BY id"),
            {"t": large},
        ).all()
    assert [k for k, _ in kinds] == [e.kind for e in before[large]]
    assert ("task_rejected", "资料不全") in kinds

    _migrate(desk, "upgrade", "head")
    after = {ticket: desk.view(ticket).timeline for ticket in (large, small)}
    assert after == before
    with desk.ctx.db.engine.connect() as conn:
        versions = conn.execute(
            text("SELECT version FROM ticket_steps WHERE ticket_id = :t ORDER BY version"),
            {"t": large},
        ).scalars()
        assert list(versions) == [1, 2, 3]  # submit, legal approval, finance rejection
