"""SQLite and PostgreSQL write a step through different code (statements one by one;
one CTE sent with COMMIT, ADR 0006). The same tickets, driven the same way, must leave
exactly the same rows on both: tickets, tasks, assignees, timeline, queued
notifications and audit entries, with ids replaced by what they name."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import text

import pg
from cc_apps import publish_cc_app
from flowdesk.kernel.clock import FrozenClock
from flowdesk.services import auth, demo, task_returns, tickets
from flowdesk.services.bootstrap import build_context
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.store import org as org_store

_ID = re.compile(r"\b[0-9a-f]{32}\b")


@pytest.fixture
def both(
    sqlite_demo_template: Path, pg_demo_template: str, tmp_path: Path
) -> Iterator[dict[str, ServiceContext]]:
    path = tmp_path / "flowdesk.db"
    shutil.copyfile(sqlite_demo_template, path)
    contexts = {
        "sqlite": build_context(f"sqlite:///{path}"),
        "postgresql": build_context(pg.fresh_database("paths", template=pg_demo_template)),
    }
    for ctx in contexts.values():
        ctx.hasher = fast_hasher()
        ctx.clock = FrozenClock()
    yield contexts
    for ctx in contexts.values():
        ctx.db.dispose()


def _desk(ctx: ServiceContext) -> Desk:
    with ctx.db.read() as conn:
        actors = {
            p.username: auth.actor_from_row(conn, org_store.user_by_username(conn, p.username))
            for p in demo.PEOPLE
        }
    return Desk(ctx, actors)


def _drive(desk: Desk) -> None:
    """A small loan, a large one through every step, one rejected while its parallel
    sibling is open (the sibling is cancelled), one changed and approved with comments."""
    small = desk.submit("20000.00")
    desk.approve("li.na", small, "branch_review", "同意")
    desk.approve("zhao.lei", small, "disburse")
    large = desk.submit("120000.00", who="zhang.wei")
    desk.approve("liu.yang", large, "finance_review", "ok")
    desk.approve("wang.fang", large, "legal_review")
    desk.approve("chen.jing", large, "committee")
    desk.approve("zhao.lei", large, "disburse", "放款完成")
    rejected = desk.submit("300000.00")
    desk.reject("wang.fang", rejected, "legal_review", "资料不全")
    desk.submit("60000.00")  # left open


def _rows(ctx: ServiceContext) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "tickets": 'SELECT id, title, status, version, "values", state,'
        " CASE WHEN finished_at IS NULL THEN 'open' ELSE 'finished' END FROM tickets ORDER BY id",
        "tasks": "SELECT id, ticket_id, node_id, name_en, name_zh, state, completed_by,"
        " comment FROM tasks ORDER BY ticket_id, created_at, node_id",
        "assignees": "SELECT t.ticket_id, t.node_id, a.user_id,"
        " CASE WHEN a.is_open THEN 'open' ELSE 'closed' END FROM task_assignees a"
        " JOIN tasks t ON t.id = a.task_id ORDER BY t.ticket_id, t.node_id, a.user_id",
        "steps": "SELECT ticket_id, version, events FROM ticket_steps ORDER BY ticket_id, version",
        "jobs": "SELECT kind, payload, state, idempotency_key FROM jobs ORDER BY id",
        "audit": "SELECT actor, action, target_type, target_id, details FROM audit_log"
        " WHERE action LIKE 'ticket.%' OR action LIKE 'task.%' ORDER BY seq",
    }
    with ctx.db.read() as conn:
        names = {row[0]: row[1] for row in conn.execute(text("SELECT id, username FROM users"))}
        rows = {name: [tuple(r) for r in conn.execute(text(q))] for name, q in queries.items()}
    # Ids are random: name tickets by filing order, tasks by ticket and node, users by
    # username, so rows from the two databases compare.
    for number, (ticket_id, *_rest) in enumerate(rows["tickets"], 1):
        names[ticket_id] = f"ticket{number}"
    for task_id, ticket_id, node_id, *_rest in rows["tasks"]:
        names[task_id] = f"{names[ticket_id]}/{node_id}"
    return {table: [_named(row, names) for row in found] for table, found in rows.items()}


def _named(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        if value.startswith(("{", "[")):  # SQLite returns JSON documents as text
            return _named(json.loads(value), names)
        return _ID.sub(lambda m: names.get(m.group(0), "?"), value)
    if isinstance(value, dict):
        return {_named(k, names): _named(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_named(v, names) for v in value)
    return value


def test_both_databases_store_the_same_rows(both: dict[str, ServiceContext]) -> None:
    for ctx in both.values():
        _drive(_desk(ctx))
    sqlite, postgresql = (_rows(ctx) for ctx in both.values())
    assert sqlite["tickets"] and sqlite["steps"] and sqlite["audit"]
    assert any(row[5] == "cancelled" for row in sqlite["tasks"])
    for table in sqlite:
        assert postgresql[table] == sqlite[table], table


def test_both_databases_store_the_same_copies(both: dict[str, ServiceContext]) -> None:
    """CC nodes' copies (抄送) go with the step on both paths: the same rows, the same
    timeline events and notifications, a second pass of the node copying no one twice."""
    for ctx in both.values():
        publish_cc_app(ctx)
        desk = _desk(ctx)
        ticket_id = tickets.submit(
            ctx, actor=desk.actors["zhang.wei"], app_key="memo", values=loan_values()
        ).ticket_id
        task = desk.task(ticket_id, "review")
        tickets.approve(ctx, actor=desk.actors["wang.fang"], task_id=task.id)
        task = desk.task(ticket_id, "final")
        task_returns.return_task(
            ctx, actor=desk.actors["chen.jing"], task_id=task.id, target="applicant", comment="补"
        )
        task_returns.resubmit(ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    sqlite, postgresql = (_copy_rows(ctx) for ctx in both.values())
    assert [row[1:3] for row in sqlite["copies"]] == [
        ("lin.tao", "copy_mid"),
        ("luo.xin", "copy_start"),
        ("song.jie", "copy_start"),
    ]
    for table in sqlite:
        assert postgresql[table] == sqlite[table], table


def _copy_rows(ctx: ServiceContext) -> dict[str, list[tuple[Any, ...]]]:
    rows = _rows(ctx)
    with ctx.db.read() as conn:
        names = {row[0]: row[1] for row in conn.execute(text("SELECT id, username FROM users"))}
        ticket_names = {row[0]: "ticket" for row in conn.execute(text("SELECT id FROM tickets"))}
        copies = [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT ticket_id, user_id, node_id, by_id, read_at FROM ticket_copies"
                    " ORDER BY user_id"
                )
            )
        ]
    named = [
        (ticket_names[t], names[u], node, names.get(by), read) for t, u, node, by, read in copies
    ]
    rows["copies"] = sorted(named, key=lambda r: r[1])
    return rows
