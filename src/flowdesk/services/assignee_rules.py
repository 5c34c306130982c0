"""Who the step-reading assignee kinds name, and a role's pick (issue 8, ADR 0025).

- field_user: the username(s) a user or users form field holds ("li.na" or
  "li.na,wang.wei"), each resolved to an active person, in the field's order;
- field_department_head: the active head of the department whose code a department
  field holds;
- previous_approver_manager: the direct manager of whoever approved the step before (at
  the first step after the applicant filed or resubmitted, the applicant's manager);
- `pick` on a role rule: one of the role's people who may be assigned, either the one
  with the fewest open tasks now (least_loaded; ties go to the role's order), or the
  next in turn (round_robin: a turn per app and role kept in `assignee_turns`, moved on
  inside the step's own transaction, so a rolled-back step gives its turn back and
  concurrent steps take successive turns).
An unknown or inactive person, or an empty field, names nobody: the step's on_empty
policy applies, never a task nobody holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from flowdesk.engines.process import AssigneeRule
from flowdesk.store import assignee_picks
from flowdesk.store import org as org_store


def field_text(values: Mapping[str, object], field: str | None) -> str:
    value = values.get(field or "")
    return value if isinstance(value, str) else ""


def step_key(
    rule: AssigneeRule, starter: str, values: Mapping[str, object] | None, previous: str
) -> str:
    """What the people of a step-reading rule depend on, for the per-generation cache."""
    if rule.kind == "previous_approver_manager":
        return previous or starter
    return field_text(values or {}, rule.field)


def look_up_for_step(
    conn: Connection,
    rule: AssigneeRule,
    starter: str,
    values: Mapping[str, object],
    previous: str,
) -> list[str]:
    if rule.kind == "field_user":
        names = [name.strip() for name in field_text(values, rule.field).split(",")]
        found = (org_store.active_user_id(conn, name) for name in names if name)
        return [user_id for user_id in dict.fromkeys(found) if user_id]
    if rule.kind == "field_department_head":
        code = field_text(values, rule.field).strip()
        head = org_store.department_head(conn, code) if code else None
        return [head] if head else []
    if rule.kind == "previous_approver_manager":
        chain = org_store.manager_chain(conn, previous or starter, 1)
        return chain[:1]
    return []


def pick(
    conn: Connection, app_key: str, rule: AssigneeRule, candidates: Sequence[str]
) -> tuple[str, ...]:
    """The one person of `candidates` (in the role's order) that `rule.pick` chooses."""
    if len(candidates) == 1:
        return (candidates[0],)
    if rule.pick == "least_loaded":
        load = assignee_picks.open_task_counts(conn, candidates)
        return (min(candidates, key=lambda person: load.get(person, 0)),)
    # round_robin: the turn's position among the people who may be assigned now
    turn = assignee_picks.next_turn(conn, f"{app_key}/{rule.role}")
    return (candidates[turn % len(candidates)],)
