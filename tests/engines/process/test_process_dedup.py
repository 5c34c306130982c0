"""De-duplication by the principal (APPROVALS.md edge case 30, ADR 0041), in the pure
engine: a Context whose stand-ins put bea in bob's place says so with `principal_of`;
an approval bea gives on bob's behalf is bob's, her own step is not de-duplicated by
it, and a later step of bob's (bea again standing in) is. The state survives JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

from process_fakes import FakeContext

from flowdesk.engines.process import (
    AssigneeRule,
    CompleteTask,
    InstanceState,
    NodeSkipped,
    Start,
    dump_state,
    load_state,
    parse_process,
    step,
)


class AwayContext(FakeContext):
    """bob is away; bea stands in for him wherever a rule names him."""

    def __init__(self) -> None:
        super().__init__()
        self.on_behalf: dict[str, str] = {}

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]:
        found = super().resolve_assignees(
            rule, starter, values=values, previous=previous, exclude=exclude
        )
        if "bob" in found and "bea" not in found:
            self.on_behalf["bea"] = "bob"
            return ["bea" if p == "bob" else p for p in found]
        return found

    def principal_of(self, person: str) -> str:
        return self.on_behalf.get(person, person)


SPEC = parse_process(
    {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "n1", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {
                "id": "n2",
                "type": "user_task",
                "assignee": {"kind": "user", "user": "bea"},
                "approve_once": True,
            },
            {
                "id": "n3",
                "type": "user_task",
                "assignee": {"kind": "user", "user": "bob"},
                "approve_once": True,
            },
            {"id": "n4", "type": "user_task", "assignee": {"kind": "user", "user": "carol"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "n1"},
            {"from": "n1", "to": "n2"},
            {"from": "n2", "to": "n3"},
            {"from": "n3", "to": "n4"},
            {"from": "n4", "to": "end"},
        ],
    }
)


def _saved(state: InstanceState) -> InstanceState:
    restored = load_state(json.loads(json.dumps(dump_state(state))))
    assert restored == state
    return restored


def test_the_substitutes_approval_is_the_principals() -> None:
    ctx = AwayContext()
    state = _saved(step(SPEC, None, Start("alice"), ctx).state)
    (n1,) = state.tasks.values()
    assert n1.assignees == ("bea",)
    ctx.on_behalf.clear()  # a later step's Context knows only the tasks it opens
    result = step(SPEC, state, CompleteTask(n1.task_id, "bea", "approve"), ctx)
    assert not [e for e in result.effects if isinstance(e, NodeSkipped)]  # n2 is bea's own
    state = _saved(result.state)
    (n2,) = state.tasks.values()
    assert (n2.node_id, n2.assignees) == ("n2", ("bea",))
    ctx.on_behalf.clear()
    result = step(SPEC, state, CompleteTask(n2.task_id, "bea", "approve"), ctx)
    skipped = [e for e in result.effects if isinstance(e, NodeSkipped)]
    assert skipped == [NodeSkipped("n3", "same_approver", approvers=("bea",))]  # for bob
    assert [t.node_id for t in result.state.tasks.values()] == ["n4"]
