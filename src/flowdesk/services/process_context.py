"""The process engine's Context for one step: conditions from the app, people from the org.

Built per step on the step's own connection, so assignees are resolved inside the
same transaction that records the new tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from flowdesk.engines.process import AssigneeRule
from flowdesk.kernel.ids import new_id
from flowdesk.services.registry import PublishedApp
from flowdesk.store import org as org_store


class StepContext:
    def __init__(self, conn: Connection, app: PublishedApp, requester_id: str) -> None:
        self._conn = conn
        self._app = app
        self._requester_id = requester_id

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self._app.conditions.evaluate(condition, values)

    def new_id(self) -> str:
        return new_id()

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        conn = self._conn
        if rule.kind == "user" and rule.user:
            return _listed(org_store.active_user_id(conn, rule.user))
        if rule.kind == "role" and rule.role:
            return org_store.users_with_role(conn, rule.role)
        if rule.kind == "department_head" and rule.department:
            return _listed(org_store.department_head(conn, rule.department))
        if rule.kind == "applicant_department_head":
            return _listed(org_store.head_of_users_department(conn, starter))
        if rule.kind == "applicant_manager":
            chain = org_store.manager_chain(conn, starter, rule.level)
            return [chain[rule.level - 1]] if len(chain) >= rule.level else []
        return []


def _listed(user_id: str | None) -> list[str]:
    return [user_id] if user_id else []
