"""Who stands in for whom (代理) at one step: the out-of-office rules of one org
generation, kept per process (services/delegations.py manages the rules)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Rule:
    delegate_id: str
    app_key: str | None
    starts_at: datetime
    ends_at: datetime


class StandIns:
    """The rules in force or to come, by principal; asked at a step's time."""

    def __init__(self, rules: Mapping[str, tuple[Rule, ...]]) -> None:
        self._rules = rules

    def __bool__(self) -> bool:
        return bool(self._rules)

    def delegate_of(self, principal: str, app_key: str, at: datetime) -> str | None:
        for rule in self._rules.get(principal, ()):
            if rule.starts_at <= at < rule.ends_at and rule.app_key in (None, app_key):
                return rule.delegate_id
        return None

    def apply(
        self,
        assignees: Sequence[str],
        app_key: str,
        at: datetime,
        on_behalf: dict[str, str],
        never: str = "",
    ) -> tuple[str, ...]:
        """`assignees` with each away principal replaced by their delegate (recorded in
        `on_behalf`), unless the delegate already is one of them or is `never` (the
        applicant, who never approves their own ticket)."""
        if not self._rules:
            return tuple(assignees)
        result = []
        for person in assignees:
            delegate = self.delegate_of(person, app_key, at)
            if delegate is not None and delegate not in assignees and delegate != never:
                on_behalf[delegate] = person
                person = delegate
            result.append(person)
        return tuple(dict.fromkeys(result))


NO_STAND_INS = StandIns({})


class DelegationCache:
    """The rules of one org generation, shared by a process's threads."""

    def __init__(self) -> None:
        self._generation = -1
        self._stand_ins = NO_STAND_INS
        self._lock = threading.Lock()

    def at(self, generation: int, load: Callable[[], StandIns]) -> StandIns:
        with self._lock:
            if generation == self._generation:
                return self._stand_ins
        stand_ins = load()
        with self._lock:
            if generation >= self._generation:
                self._generation, self._stand_ins = generation, stand_ins
        return stand_ins
