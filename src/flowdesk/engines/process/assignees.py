"""The assignee kinds that read the step itself (issue 8 "Assignees"): people named by a
form field, the previous approver's manager, and a role's one person picked.

    assignee: {kind: field_department_head, field: cost_centre}
    assignee: {kind: field_user, field: reviewer}       # a user or users field
    assignee: {kind: previous_approver_manager}
    assignee: {kind: role, role: teller, pick: least_loaded}   # or round_robin

The engine passes what these rules need to the Context's `resolve_assignees` as keyword
arguments (the ticket's form values, the previous approver), and only for these kinds, so
the single-approver hot path of every other rule is as before. Who a field names, a
manager and a pick are the Context's to find: they need the org chart and, for a pick,
the open tasks (least loaded) or a durable cursor (round robin, ADR 0025). Whether the
field exists and has the right type is the app's check (engines/apps), which knows the form.
"""

from __future__ import annotations

from collections.abc import Callable

from .spec import PICK_RULES, AssigneeRule, PickRule

# the kinds whose people depend on the step (its values, its previous approver)
STEP_KINDS = frozenset({"field_department_head", "field_user", "previous_approver_manager"})
# the form field types each field kind reads (engines/forms FieldType values)
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "field_department_head": ("department",),
    "field_user": ("user", "users"),
}

AddProblem = Callable[[str, str, str], None]


def parse_pick(value: str | None, path: str, add: AddProblem) -> PickRule | None:
    """A role rule's `pick`: round_robin or least_loaded (None: everyone in the role)."""
    if value is None:
        return None
    for rule in PICK_RULES:
        if value == rule:
            return rule
    add(path, "invalid_choice", f"pick is one of: {', '.join(PICK_RULES)}")
    return None


def needs_step(rule: AssigneeRule) -> bool:
    """Whether `rule` names people from the step's values or previous approver."""
    return rule.kind in STEP_KINDS
