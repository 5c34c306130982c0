"""A step is atomic (RELIABILITY.md promise 1): a failure anywhere inside it leaves nothing.

Faults are injected after each write a step makes (the write happened, then the
process "dies"), and a step can also fail inside the engine (nobody to assign).
Either way the ticket, tasks, assignees, timeline, jobs and audit chain are exactly
as before, and the same step can then be done again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import func, select

from flowdesk.engines.apps import load_bundled_template
from flowdesk.engines.apps.yaml_io import dump_app_yaml
from flowdesk.kernel.errors import FlowdeskError
from flowdesk.services import apps, audit, tickets
from flowdesk.store import audit as audit_store
from flowdesk.store import jobs as jobs_store
from flowdesk.store import steps as steps_store
from flowdesk.store import tickets as tickets_store
from flowdesk.store.tables import (
    AuditLog,
    Job,
    Notification,
    Task,
    TaskAssignee,
    Ticket,
    TicketStep,
)

TABLES = (Ticket, Task, TaskAssignee, TicketStep, Job, AuditLog, Notification)


class InjectedFault(RuntimeError):
    pass


def _snapshot(desk: Desk) -> dict[str, Any]:
    with desk.ctx.db.read() as conn:
        counts: dict[str, Any] = {
            table.__tablename__: conn.execute(
                select(func.count()).select_from(table.__table__)
            ).scalar_one()
            for table in TABLES
        }
        tickets_t, tasks_t = Ticket.__table__, Task.__table__
        counts["ticket_versions"] = sorted(
            conn.execute(select(tickets_t.c.id, tickets_t.c.version, tickets_t.c.status)).all()
        )
        counts["task_states"] = sorted(conn.execute(select(tasks_t.c.id, tasks_t.c.state)).all())
        counts["audit_head"] = audit_store.head(conn)
    return counts


def _fail_after(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> Callable[[], int]:
    """Makes `module.name` do its write and then raise; returns how often it was called."""
    original = getattr(module, name)
    calls = [0]

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        original(*args, **kwargs)
        raise InjectedFault(f"injected after {name}")

    monkeypatch.setattr(module, name, broken)
    return lambda: calls[0]


# SQLite writes a step's rows statement by statement, so a fault can come after each;
# PostgreSQL sends them as one statement (store/steps.py), so there the fault comes after
# it was sent and before COMMIT. On both, a failing statement is tested further below.
_STEP_WRITE = (steps_store, "write_step")
_SQLITE_SUBMIT = [
    (tickets_store, "insert_ticket"),
    (tickets_store, "insert_tasks"),
    (tickets_store, "insert_step"),
    (jobs_store, "enqueue"),
    (audit_store, "append"),
    _STEP_WRITE,
]
_SQLITE_APPROVE = [
    (tickets_store, "update_ticket"),
    (tickets_store, "insert_tasks"),
    (tickets_store, "close_tasks"),
    (tickets_store, "insert_step"),
    (jobs_store, "enqueue"),
    (audit_store, "append"),
    _STEP_WRITE,
]
SUBMIT_WRITES = [("sqlite", *w) for w in _SQLITE_SUBMIT] + [("postgresql", *_STEP_WRITE)]
APPROVE_WRITES = [("sqlite", *w) for w in _SQLITE_APPROVE] + [("postgresql", *_STEP_WRITE)]


def _ids(writes: list[tuple[str, Any, str]]) -> list[str]:
    return [f"{b}-{m.__name__.split('.')[-1]}.{n}" for b, m, n in writes]


@pytest.mark.parametrize("backend, module, name", SUBMIT_WRITES, ids=_ids(SUBMIT_WRITES))
def test_a_submit_that_fails_after_any_write_leaves_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> None:
    desk.submit("120000.00")  # something already there, so "nothing changed" is not "empty"
    before = _snapshot(desk)
    calls = _fail_after(monkeypatch, module, name)
    with pytest.raises(InjectedFault):
        desk.submit("150000.00")
    assert calls() == 1
    monkeypatch.undo()
    assert _snapshot(desk) == before
    assert audit.verify(desk.ctx).ok
    desk.submit("150000.00")  # and the same submission then works
    assert audit.verify(desk.ctx).ok


@pytest.mark.parametrize("backend, module, name", APPROVE_WRITES, ids=_ids(APPROVE_WRITES))
def test_an_approval_that_fails_after_any_write_leaves_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    finance = desk.task(ticket_id, "finance_review")
    before = _snapshot(desk)
    calls = _fail_after(monkeypatch, module, name)
    with pytest.raises(InjectedFault):
        tickets.approve(desk.ctx, actor=desk.actors["liu.yang"], task_id=finance.id)
    assert calls() == 1
    monkeypatch.undo()
    assert _snapshot(desk) == before
    assert audit.verify(desk.ctx).ok

    # Nothing half-applied stands in the way: the approval goes through on a retry.
    outcome = tickets.approve(desk.ctx, actor=desk.actors["liu.yang"], task_id=finance.id)
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["committee"]
    assert outcome.opened_task_ids == (desk.task(ticket_id, "committee").id,)
    assert audit.verify(desk.ctx).ok


def test_a_rejection_that_fails_midway_cancels_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id = desk.submit("120000.00")
    before = _snapshot(desk)
    _fail_after(monkeypatch, steps_store, "write_step")
    with pytest.raises(InjectedFault):
        desk.reject("wang.fang", ticket_id, "legal_review")
    monkeypatch.undo()
    assert _snapshot(desk) == before
    assert {t.state for t in desk.view(ticket_id).tasks} == {"open"}


def test_a_step_the_database_refuses_leaves_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database itself fails the step's write (a task closed by a user who does not
    exist breaks a foreign key): on PostgreSQL that surfaces at COMMIT, which
    leaves with the statement, and still nothing is stored."""
    ticket_id = desk.submit("120000.00")
    legal = desk.task(ticket_id, "legal_review")
    before = _snapshot(desk)
    original = steps_store.write_step

    def with_ghost_actor(conn: Any, step: steps_store.StepWrite) -> Any:
        step.closings[0]["by"] = "0" * 32
        return original(conn, step)

    monkeypatch.setattr(steps_store, "write_step", with_ghost_actor)
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        tickets.approve(desk.ctx, actor=desk.actors["wang.fang"], task_id=legal.id)
    monkeypatch.undo()
    assert _snapshot(desk) == before
    assert audit.verify(desk.ctx).ok
    tickets.approve(desk.ctx, actor=desk.actors["wang.fang"], task_id=legal.id)
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["finance_review"]


def _publish_loan_with(ctx: Any, role: str, replacement: str) -> None:
    """Publishes a loan version whose `role` is swapped for one that nobody holds."""
    text = dump_app_yaml(load_bundled_template("loan"))
    assert f"role: {role}" in text
    result = apps.publish_yaml(ctx, text.replace(f"role: {role}", f"role: {replacement}"))
    assert result.changed


def test_a_step_with_nobody_to_assign_fails_cleanly_midway(desk: Desk) -> None:
    _publish_loan_with(desk.ctx, "credit_committee", "empty_committee")
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    finance = desk.task(ticket_id, "finance_review")
    before = _snapshot(desk)

    # Finance approval completes the join and must open the committee task: nobody holds it.
    with pytest.raises(FlowdeskError) as caught:
        tickets.approve(desk.ctx, actor=desk.actors["ma.li"], task_id=finance.id)
    assert caught.value.code == "no_assignee"
    assert caught.value.status == 422
    assert [e.path for e in caught.value.errors] == [
        f"process.nodes[{_node_index(desk, ticket_id, 'committee')}]"
    ]
    assert _snapshot(desk) == before
    assert desk.task(ticket_id, "finance_review").state == "open"
    assert audit.verify(desk.ctx).ok


def test_a_submit_with_nobody_to_assign_stores_no_ticket(desk: Desk) -> None:
    _publish_loan_with(desk.ctx, "finance_reviewer", "empty_finance")
    before = _snapshot(desk)
    with pytest.raises(FlowdeskError) as caught:
        tickets.submit(
            desk.ctx, actor=desk.actors["zhang.wei"], app_key="loan", values=loan_values()
        )
    assert caught.value.code == "no_assignee"
    assert _snapshot(desk) == before
    assert audit.verify(desk.ctx).ok
    # Small loans do not reach finance review, so they still work on this version.
    small = desk.submit("20000.00")
    assert [t.node_id for t in desk.view(small).open_tasks] == ["branch_review"]


def _node_index(desk: Desk, ticket_id: str, node_id: str) -> int:
    with desk.ctx.db.read() as conn:
        version_id = conn.execute(
            select(Ticket.__table__.c.app_version_id).where(Ticket.__table__.c.id == ticket_id)
        ).scalar_one()
        app = desk.ctx.apps.version(conn, version_id)
    return list(app.spec.process.nodes).index(node_id)
