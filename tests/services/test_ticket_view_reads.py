"""The ticket page reads in few statements, and still hides a ticket from a stranger."""

from __future__ import annotations

import pytest
from loan_desk import Desk
from sqlalchemy import event

from flowdesk.kernel.errors import NotFound
from flowdesk.services import views


def _selects(desk: Desk, run: object) -> list[str]:
    seen: list[str] = []

    def capture(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(desk.ctx.db.engine, "before_cursor_execute", capture)
    try:
        run()  # type: ignore[operator]
    finally:
        event.remove(desk.ctx.db.engine, "before_cursor_execute", capture)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


def test_ticket_page_reads_ticket_tasks_timeline_and_names_once_each(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")  # legal and finance in parallel: two open tasks
    desk.approve("wang.fang", ticket_id, "legal_review", comment="ok")
    views.ticket(desk.ctx, desk.actors["liu.yang"], ticket_id)  # app version cached

    statements = _selects(desk, lambda: views.ticket(desk.ctx, desk.actors["liu.yang"], ticket_id))

    # ticket, tasks with their assignees (also who may read), timeline, display names
    assert len(statements) == 4, statements
    page = views.ticket(desk.ctx, desk.actors["liu.yang"], ticket_id)
    assert {t.node_id for t in page.tasks} >= {"legal_review", "finance_review"}
    assert all(t.assignees for t in page.tasks)


def test_a_stranger_still_gets_not_found(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    # A participant (finance) reads it; someone with no part in it does not.
    views.ticket(desk.ctx, desk.actors["liu.yang"], ticket_id)
    with pytest.raises(NotFound):
        views.ticket(desk.ctx, desk.actors["li.na"], ticket_id)


def test_nav_counts_are_the_open_tasks_and_the_unread_notifications(desk: Desk) -> None:
    from flowdesk.services import jobs, notifications

    desk.submit("120000.00")
    jobs.run_due(desk.ctx, owner="test")  # delivers the new-task notifications
    finance = desk.actors["liu.yang"]

    counts = views.nav_counts(desk.ctx, finance)

    assert counts == (
        views.count_my_tasks(desk.ctx, finance),
        notifications.count_unread(desk.ctx, finance),
    )
    assert counts[0] == 1
