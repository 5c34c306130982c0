"""The process engine's Context for one step: conditions from the app, people from the org.

Built per step on the step's own connection. Who a rule names is cached per process
for as long as the org generation (bumped by database triggers on every org-chart
change, read in the step's first statement) stays the same.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

from sqlalchemy import Connection

from flowdesk.engines.access.decide import PROCESS_ADMIN_ROLE
from flowdesk.engines.apps.applicant import Applicant
from flowdesk.engines.process import AssigneeRule
from flowdesk.engines.process.assignees import STEP_KINDS
from flowdesk.kernel.ids import new_id
from flowdesk.services.assignee_rules import look_up_for_step, pick, step_key
from flowdesk.services.registry import PublishedApp
from flowdesk.services.stand_ins import NO_STAND_INS, StandIns
from flowdesk.store import org as org_store

_Key = tuple[AssigneeRule, str]
_NOBODY: frozenset[str] = frozenset()


class AssigneeCache:
    """Assignee look-ups of one org generation, shared by the threads of a process."""

    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._generation = 0
        self._entries: dict[_Key, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def at(self, generation: int) -> dict[_Key, tuple[str, ...]] | None:
        """The entries valid at `generation`; None for a step that read an older one
        than the cache already holds (it looks people up itself)."""
        with self._lock:
            if generation > self._generation or len(self._entries) > self.MAX_ENTRIES:
                self._generation = generation
                self._entries = {}
            return self._entries if generation == self._generation else None


class StepContext:
    """`stand_ins`: the out-of-office rules (代理) applied, at `at`, to every assignee
    resolved; whom each delegate stands in for is kept in `on_behalf`."""

    def __init__(
        self,
        conn: Connection,
        app: PublishedApp,
        requester_id: str,
        assignees: dict[_Key, tuple[str, ...]] | None = None,
        stand_ins: StandIns = NO_STAND_INS,
        at: datetime | None = None,
    ) -> None:
        self._conn = conn
        self._app = app
        self._requester_id = requester_id
        self._assignees = assignees
        self._stand_ins = stand_ins
        self._at = at
        self.on_behalf: dict[str, str] = {}
        self._applicant_facts: Applicant | None = None

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        conditions = self._app.conditions
        if conditions.reads_applicant(condition):  # applicant.job_level …: looked up once
            return conditions.evaluate(condition, values, self._applicant())
        return conditions.evaluate(condition, values)

    def _applicant(self) -> Applicant:
        """The applicant's attributes conditions read, from the org chart as it is now."""
        if self._applicant_facts is None:
            level, department = org_store.job_level_and_department(self._conn, self._requester_id)
            self._applicant_facts = Applicant(level, department)
        return self._applicant_facts

    def new_id(self) -> str:
        return new_id()

    def names_only_applicant(
        self,
        rule: AssigneeRule,
        starter: str,
        values: Mapping[str, object] | None,
        previous: str,
    ) -> bool:
        """Whether `rule` names the applicant and nobody else, before maker-checker
        leaves them out (APPROVALS.md edge case 32)."""
        found = set(self._principals(rule, starter, values, previous))
        return found == {starter}

    def principal_of(self, person: str) -> str:
        """Whom `person` stands in for at a task this step opened (de-duplication compares
        the principal, APPROVALS.md edge case 30); themself when nobody."""
        return self.on_behalf.get(person, person)

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = _NOBODY,
    ) -> Sequence[str]:
        """Who `rule` names, less the applicant: nobody approves their own ticket, even
        when the rule names them (maker-checker), and less `exclude` (who approved
        already, where no one approves twice); a role's pick among the rest
        (assignee_rules.py); then the out-of-office stand-ins."""
        found = self._principals(rule, starter, values, previous)
        if starter in found or exclude:
            found = tuple(p for p in found if p != starter and p not in exclude)
        if rule.pick is not None and found:
            found = pick(self._conn, self._app.spec.key, rule, found)
        if self._stand_ins and self._at is not None:
            return self._stand_ins.apply(
                found, self._app.spec.key, self._at, self.on_behalf, never=starter
            )
        return found

    def _principals(
        self,
        rule: AssigneeRule,
        starter: str,
        values: Mapping[str, object] | None,
        previous: str,
    ) -> Sequence[str]:
        if self._assignees is None:
            return self._look_up(rule, starter, values, previous)
        if rule.kind.startswith("applicant_"):
            key = (rule, starter)
        elif rule.kind in STEP_KINDS:  # what the field names, whose manager: the key says
            key = (rule, step_key(rule, starter, values, previous))
        else:
            key = (rule, "")
        found = self._assignees.get(key)
        if found is None:
            found = self._assignees[key] = tuple(self._look_up(rule, starter, values, previous))
        return found

    def _look_up(
        self,
        rule: AssigneeRule,
        starter: str,
        values: Mapping[str, object] | None = None,
        previous: str = "",
    ) -> Sequence[str]:
        conn = self._conn
        if rule.kind in STEP_KINDS:
            return look_up_for_step(conn, rule, starter, values or {}, previous)
        if rule.kind == "user" and rule.user:
            return _listed(org_store.active_user_id(conn, rule.user))
        if rule.kind == "users":  # in the listed order (依次审批 follows it); inactive left out
            found = (org_store.active_user_id(conn, username) for username in rule.users)
            return [user_id for user_id in found if user_id]
        if rule.kind == "role" and rule.role:
            return org_store.users_with_role(conn, rule.role)
        if rule.kind == "department_head" and rule.department:
            return _listed(org_store.department_head(conn, rule.department))
        if rule.kind == "applicant_department_head":
            return _listed(org_store.head_of_users_department(conn, starter))
        if rule.kind == "process_admin":  # a rule naming nobody, last (ADR 0041)
            return org_store.users_with_role(conn, PROCESS_ADMIN_ROLE) or org_store.admins(conn)
        if rule.kind == "applicant_manager":
            chain = org_store.manager_chain(conn, starter, rule.level)
            return [chain[rule.level - 1]] if len(chain) >= rule.level else []
        return []


def _listed(user_id: str | None) -> list[str]:
    return [user_id] if user_id else []
