"""What a user task does without a person deciding it: an automatic decision by condition,
and what happens when its assignee rule names nobody (issue 8: "never a silent stall";
ADR 0041). De-duplication (`approve_once`) is dedup.py.

    auto: {when: "amount <= 5000 and credit_rating == 'A'", action: approve}
    on_empty: {action: skip}            # or approve: the step passes
    on_empty: {action: reject}          # the ticket is rejected
    on_empty: {action: assign, assignee: {kind: user, user: qian.yu}}
    on_empty: {action: admin}           # the process admins
    on_empty: {action: skip, requester: leader}

`auto` is checked when a token arrives at the task going forward (never when a return
re-enters it, APPROVALS.md edge case 21); it passes the task with the reason recorded
("auto-approved: amount <= 5000 …"). `on_empty` applies when the rule resolves to nobody
(everyone inactive, or only the applicant, whom maker-checker leaves out), each outcome
recorded with its reason: pass the step (`node_skipped no_assignee`), reject the ticket
(`node_skipped no_assignee_rejected`), or give it to a fallback rule's people; a
fallback naming nobody, and `admin`, go to the process admins (role process_admin,
else the administrators; the task opened `via` admin), so the step never hangs.
`requester` comes first when the rule named only the applicant (edge case 32): `skip`
passes the step (`node_skipped requester`), `leader` gives it to the applicant's
manager (past inactive ones, `via` leader); no manager at all goes on to `action`.
A step without `on_empty` whose rule names nobody is refused with 422 `no_assignee`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

from .spec import (
    AUTO_ACTIONS,
    EMPTY_ACTIONS,
    REQUESTER_ACTIONS,
    AssigneeRule,
    AutoDecision,
    EmptyAction,
    EmptyPolicy,
    RequesterAction,
)

_AUTO_KEYS = frozenset({"when", "action"})
_EMPTY_KEYS = frozenset({"action", "assignee", "requester"})

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
        add(
            path,
            "wrong_type",
            "on_empty is {action: skip|approve|reject|admin} or {action: assign, assignee: …}",
        )
        return None
    for key in value:
        if key not in _EMPTY_KEYS:
            add(f"{path}.{key}", "unknown_key", "Expected action, assignee or requester")
    requester = value.get("requester", "")
    if requester != "" and requester not in REQUESTER_ACTIONS:
        add(f"{path}.requester", "invalid_choice", "skip or leader")
        return None
    first = cast(RequesterAction, requester)
    action = value.get("action")
    if action == "assign":
        if "assignee" not in value:
            add(f"{path}.assignee", "required", "Whom the step goes to when its rule names nobody")
            return None
        rule = parse_rule(value["assignee"], f"{path}.assignee")
        return EmptyPolicy(rule, "assign", first) if rule is not None else None
    if action in EMPTY_ACTIONS:
        if "assignee" in value:
            add(f"{path}.assignee", "assignee_not_allowed", "Only assign names a fallback rule")
        return EmptyPolicy(None, cast(EmptyAction, action), first)
    add(f"{path}.action", "invalid_choice", "skip, approve, reject, assign or admin")
    return None
