"""A test Context: conditions from a lookup table, assignees from a small org chart.

The expression engine is not imported on purpose: the process engine only sees
conditions through its Context, and these tests pin down exactly that contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet

from flowdesk.engines.process import AssigneeRule

CONDITIONS: dict[str, Callable[[Mapping[str, object]], bool]] = {
    "amount <= 50000": lambda v: _number(v, "amount") <= 50000,
    "amount > 50000": lambda v: _number(v, "amount") > 50000,
    "amount > 1000000": lambda v: _number(v, "amount") > 1000000,
    "category == 'travel'": lambda v: v.get("category") == "travel",
    "category == 'it'": lambda v: v.get("category") == "it",
    "docs_complete == false": lambda v: v.get("docs_complete") is False,
}

# (kind, department or role, applicant, level) -> usernames
ASSIGNEES: dict[tuple[str, str | None], list[str]] = {
    ("applicant_manager", "alice@1"): ["bob"],
    ("applicant_manager", "alice@2"): ["dave"],
    ("applicant_department_head", "alice"): ["hank"],
    ("department_head", "legal"): ["carol"],
    ("department_head", "compliance"): ["cora"],
    ("role", "finance_reviewer"): ["frank", "fiona"],
    ("role", "credit_committee"): ["chen", "wang"],
    ("role", "risk_officer"): ["rita"],
    ("role", "cro"): ["victor"],
    ("role", "credit_officer"): ["olga"],
    ("role", "loan_clerk"): ["lily"],
    ("role", "travel_desk"): ["tina"],
    ("role", "it_desk"): ["ivan"],
    ("role", "vacant_role"): [],
    ("role", "applicant_only"): ["alice"],  # the applicant of the scenarios, alone
    ("applicant_manager", "erin@1"): [],  # erin has no manager
    ("process_admin", None): ["root"],
    ("role", "risk_committee"): ["amy", "ben", "cai", "dan", "eva"],
}
# a person's manager, for previous_approver_manager
MANAGERS: dict[str, str] = {"alice": "bob", "bob": "dave", "carol": "hank", "frank": "fred"}


def _number(values: Mapping[str, object], key: str) -> float:
    value = values[key]
    assert isinstance(value, int | float)
    return float(value)


class FakeContext:
    """Deterministic ids t1, t2, … so traces and states are reproducible."""

    def __init__(self) -> None:
        self.issued = 0
        self.evaluated: list[str] = []

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        self.evaluated.append(condition)
        return CONDITIONS[condition](values)

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]:
        found = self._named(rule, starter, values or {}, previous)
        found = [person for person in found if person not in exclude and person != starter]
        if rule.pick is not None:  # the services pick by load or turn; here the first
            return found[:1]
        return found

    def _named(
        self, rule: AssigneeRule, starter: str, values: Mapping[str, object], previous: str
    ) -> Sequence[str]:
        if rule.kind == "field_user":  # a user field holds a username, users "a,b"
            named = values.get(rule.field or "")
            return [p for p in str(named).split(",") if p] if isinstance(named, str) else []
        if rule.kind == "field_department_head":
            named = values.get(rule.field or "")
            return ASSIGNEES.get(("department_head", str(named)), [])
        if rule.kind == "previous_approver_manager":
            manager = MANAGERS.get(previous or starter)
            return [manager] if manager else []
        if rule.kind == "user":
            assert rule.user is not None
            return [rule.user]
        if rule.kind == "users":
            return list(rule.users)
        if rule.kind == "applicant_manager":
            return ASSIGNEES[(rule.kind, f"{starter}@{rule.level}")]
        if rule.kind == "applicant_department_head":
            return ASSIGNEES[(rule.kind, starter)]
        return ASSIGNEES[(rule.kind, rule.role or rule.department)]

    def names_only_applicant(
        self, rule: AssigneeRule, starter: str, values: Mapping[str, object], previous: str
    ) -> bool:
        """Maker-checker (the services' rule): the rule named the applicant alone."""
        return list(self._named(rule, starter, values, previous)) == [starter]

    def new_id(self) -> str:
        self.issued += 1
        return f"t{self.issued}"
