"""What a role rule's pick reads (ADR 0025): open tasks per person (least loaded) and a
durable turn per app and role (round robin). Both run inside the step's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, func, select

from flowdesk.store.sql import Sql
from flowdesk.store.tables import TaskAssignee, table_of

task_assignees = table_of(TaskAssignee)

# An index-only count on ix_task_assignees_user_open_task (user_id, is_open, task_id).
_OPEN_TASKS = (
    select(task_assignees.c.user_id, func.count())
    .where(
        task_assignees.c.user_id.in_(bindparam("ids", expanding=True)),
        task_assignees.c.is_open.is_(True),
    )
    .group_by(task_assignees.c.user_id)
)
# One statement on both databases: the row is created at turn 0 or moved on by one. On
# PostgreSQL the upsert locks the row until the step commits, so a concurrent pick waits
# and takes the next turn; on SQLite writers are serialised anyway.
_NEXT_TURN = Sql(
    "INSERT INTO assignee_turns (scope, turn) VALUES (:scope, 0)"
    " ON CONFLICT (scope) DO UPDATE SET turn = assignee_turns.turn + 1 RETURNING turn"
)


def open_task_counts(conn: Connection, user_ids: Sequence[str]) -> dict[str, int]:
    """How many open tasks each of `user_ids` holds now (absent: none)."""
    if not user_ids:
        return {}
    rows = conn.execute(_OPEN_TASKS, {"ids": list(user_ids)})
    return {str(user_id): int(count) for user_id, count in rows}


def next_turn(conn: Connection, scope: str) -> int:
    """The next turn of `scope` (0 the first time), counted in the caller's transaction."""
    row = _NEXT_TURN.run(conn, {"scope": scope}).fetchone()
    return int(row[0])
