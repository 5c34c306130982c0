"""Assignees are cached per process, and an org-chart change reaches every process at once.

Database triggers bump the org generation on any change to who manages whom, heads a
department or holds a role; a step reads the generation in its first statement. Here
the changes are made in plain SQL on another connection, as an HR sync job or another
server process would, while this context's cache is warm.
"""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import text

from flowdesk.services import org
from flowdesk.services.context import ServiceContext
from flowdesk.store import org as org_store


def _open_assignees(desk: Desk, ticket_id: str) -> list[str]:
    username = {actor.user_id: name for name, actor in desk.actors.items()}
    return sorted(
        username[person.id] for task in desk.view(ticket_id).open_tasks for person in task.assignees
    )


def _generation(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(text("SELECT generation FROM org_generation")).scalar_one())


def _run_sql(ctx: ServiceContext, statement: str, **params: object) -> None:
    with ctx.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _user_id(ctx: ServiceContext, username: str) -> str:
    with ctx.db.read() as conn:
        return str(
            conn.execute(
                text("SELECT id FROM users WHERE username = :u"), {"u": username}
            ).scalar_one()
        )


def test_a_new_manager_gets_the_next_small_loan(desk: Desk) -> None:
    first = desk.submit("20000.00")
    assert _open_assignees(desk, first) == ["li.na"]  # zhang.wei's manager, now cached
    _run_sql(
        desk.ctx,
        "UPDATE users SET manager_id = :m WHERE username = 'zhang.wei'",
        m=_user_id(desk.ctx, "zhou.hang"),
    )
    second = desk.submit("20000.00")
    assert _open_assignees(desk, second) == ["zhou.hang"]
    assert _open_assignees(desk, first) == ["li.na"]  # a task already open keeps its people


def test_a_role_granted_elsewhere_reaches_the_next_task(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    before = desk.submit("120000.00")
    desk.approve("wang.fang", before, "legal_review")
    desk.approve("liu.yang", before, "finance_review")
    committee = _open_assignees(desk, before)  # the committee role's holders, now cached
    assert "lin.tao" not in committee
    _run_sql(
        desk.ctx,
        "INSERT INTO user_roles (user_id, role_id)"
        " SELECT :u, id FROM roles WHERE key = 'credit_committee'",
        u=_user_id(desk.ctx, "lin.tao"),
    )
    desk.approve("liu.yang", ticket_id, "finance_review")
    assert _open_assignees(desk, ticket_id) == sorted([*committee, "lin.tao"])


def test_deactivating_and_reactivating_someone_moves_the_generation(desk: Desk) -> None:
    _run_sql(desk.ctx, "UPDATE users SET is_active = :no WHERE username = 'zhang.wei'", no=False)
    generation = _generation(desk.ctx)
    _run_sql(desk.ctx, "UPDATE users SET is_active = :yes WHERE username = 'zhang.wei'", yes=True)
    assert _generation(desk.ctx) > generation


def test_changes_nobody_is_assigned_by_keep_the_cache(desk: Desk, demo_ctx: ServiceContext) -> None:
    generation = _generation(demo_ctx)
    _run_sql(demo_ctx, "UPDATE users SET locale = 'en', email = 'x@example.com'")
    _run_sql(demo_ctx, "DELETE FROM web_sessions")
    assert _generation(demo_ctx) == generation
    org.create_user(demo_ctx, username="new.hire", display_name="新员工", password=None)
    assert _generation(demo_ctx) > generation


def test_an_unchanged_org_is_looked_up_once_per_process(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = []
    original = org_store.manager_chain

    def counting(*args: Any, **kwargs: Any) -> list[str]:
        lookups.append(args[1:])
        return original(*args, **kwargs)

    monkeypatch.setattr(org_store, "manager_chain", counting)
    for _ in range(3):
        desk.submit("20000.00")
    assert len(lookups) == 1
    _run_sql(desk.ctx, "UPDATE departments SET head_user_id = head_user_id")
    desk.submit("20000.00")
    assert len(lookups) == 2  # the generation moved, so the cache was dropped
