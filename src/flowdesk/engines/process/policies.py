"""What a user task does without a person deciding it: an automatic decision by condition,
and what happens when its assignee rule names nobody (issue 8: "never a silent stall").

    auto: {when: "amount <= 5000 and credit_rating == 'A'", action: approve}
    on_empty: {action: skip}
    on_empty: {action: assign, assignee: {kind: role, role: process_admin}}

`auto` is checked when a token arrives at the task going forward (never when a return
re-enters it, APPROVALS.md edge case 21); it passes the task with the reason recorded
("auto-approved: amount <= 5000 …"). `on_empty` applies when the rule resolves to nobody
(everyone inactive, or only the applicant, whom maker-checker leaves out): skip the task,
or give it to a fallback rule's people; a fallback that names nobody either is the step's
clear error (no_assignee), never a task nobody holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .spec import AUTO_ACTIONS, AssigneeRule, AutoDecision, EmptyPolicy

_AUTO_KEYS = frozenset({"when", "action"})
_EMPTY_KEYS = frozenset({"action", "assignee"})

AddProblem = Callable[[str, str, str], None]
ParseRule = Callable[[object, str], AssigneeRule | None]


def parse_auto(value: object, path: str, add: AddProblem) -> AutoDecision | None:
    if not isinstance(value, Mapping):
        add(path, "wrong_type", "auto is a mapping: {when: <condition>, action: approve|skip}")
        return None
    for key in value:
        if key not in _AUTO_KEYS:
            add(f"{path}.{key}", "unknown_key", "Expected when or action")
    when = value.get("when")
    if not isinstance(when, str) or not when.strip():
        add(f"{path}.when", "required", "The condition under which the step decides itself")
        return None
    action = value.get("action", "approve")
    if action not in AUTO_ACTIONS:
        add(f"{path}.action", "invalid_choice", "approve or skip")
        return None
    return AutoDecision(when.strip(), action)


def parse_on_empty(
    value: object, path: str, add: AddProblem, parse_rule: ParseRule
) -> EmptyPolicy | None:
    if not isinstance(value, Mapping):
        add(path, "wrong_type", "on_empty is {action: skip} or {action: assign, assignee: …}")
        return None
    for key in value:
        if key not in _EMPTY_KEYS:
            add(f"{path}.{key}", "unknown_key", "Expected action or assignee")
    action = value.get("action")
    if action == "skip":
        if "assignee" in value:
            add(f"{path}.assignee", "assignee_not_allowed", "A skipped step assigns nobody")
        return EmptyPolicy()
    if action == "assign":
        if "assignee" not in value:
            add(f"{path}.assignee", "required", "Whom the step goes to when its rule names nobody")
            return None
        rule = parse_rule(value["assignee"], f"{path}.assignee")
        return EmptyPolicy(rule) if rule is not None else None
    add(f"{path}.action", "invalid_choice", "skip or assign")
    return None
