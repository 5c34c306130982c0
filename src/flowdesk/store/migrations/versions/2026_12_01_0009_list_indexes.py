"""Indexes that let every list's default view stop after its page.

Each list's newest-first page used to read all the matching rows and sort them before
the LIMIT (50 ms for an approver with ~700 open tasks). With the id as the last
indexed column, the page is a walk of the user's range in id order:

* 待办: `task_assignees (user_id, is_open, task_id)`, the query driven from it;
* 已办: `tasks (completed_by, id)`, still partial (completed tasks only);
* 我发起: `tickets (requester_id, id)` replaces `(requester_id, created_at)`, which no
  query used (ids are time-ordered, the lists order by id);
* notifications: `(user_id, created_at, id)` for the list, and a partial index of the
  unread ones for the badge every page shows.

Every replaced index started with the same foreign key, so each stays indexed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _where(condition: str) -> dict[str, Any]:
    clause = sa.text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


def upgrade() -> None:
    op.create_index(
        "ix_task_assignees_user_open_task", "task_assignees", ["user_id", "is_open", "task_id"]
    )
    op.drop_index("ix_task_assignees_user_open", table_name="task_assignees")
    op.create_index(
        "ix_tasks_completed_by_id",
        "tasks",
        ["completed_by", "id"],
        **_where("completed_by IS NOT NULL"),
    )
    op.drop_index("ix_tasks_completed_by", table_name="tasks")
    op.create_index("ix_tickets_requester_id", "tickets", ["requester_id", "id"])
    op.drop_index("ix_tickets_requester_created", table_name="tickets")
    op.create_index(
        "ix_notifications_user_created", "notifications", ["user_id", "created_at", "id"]
    )
    op.drop_index(op.f("ix_notifications_user_id"), table_name="notifications")
    op.create_index(
        "ix_notifications_user_unread",
        "notifications",
        ["user_id"],
        **_where("read_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_user_unread", table_name="notifications")
    op.create_index(op.f("ix_notifications_user_id"), "notifications", ["user_id"])
    op.drop_index("ix_notifications_user_created", table_name="notifications")
    op.create_index("ix_tickets_requester_created", "tickets", ["requester_id", "created_at"])
    op.drop_index("ix_tickets_requester_id", table_name="tickets")
    op.create_index(
        "ix_tasks_completed_by",
        "tasks",
        ["completed_by"],
        **_where("completed_by IS NOT NULL"),
    )
    op.drop_index("ix_tasks_completed_by_id", table_name="tasks")
    op.create_index("ix_task_assignees_user_open", "task_assignees", ["user_id", "is_open"])
    op.drop_index("ix_task_assignees_user_open_task", table_name="task_assignees")
