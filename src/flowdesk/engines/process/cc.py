"""CC nodes (抄送节点): a token passes through at once, copying the people the node's
assignee rule names on the ticket. No task opens and nothing waits; a rule that names
nobody skips the node (CopiesSent with no users, which the timeline shows), never a stall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Protocol

from .assignees import STEP_KINDS
from .effects import CopiesSent
from .spec import AssigneeRule, Node


class Resolver(Protocol):
    """The part of the step's Context (walk.Context) a CC node asks of."""

    def resolve_assignees(
        self,
        rule: AssigneeRule,
        starter: str,
        *,
        values: Mapping[str, object] | None = None,
        previous: str = "",
        exclude: AbstractSet[str] = frozenset(),
    ) -> Sequence[str]: ...


def copies(
    ctx: Resolver,
    node: Node,
    starter: str,
    values: Mapping[str, object] | None = None,
    previous: str = "",
) -> CopiesSent:
    """Whom CC node `node` copies for an instance started by `starter`, each once, in the
    rule's order (a rule reading the form or the previous approver gets them)."""
    rule = node.assignee
    if rule is None:  # parse_process requires one; an empty copy rather than a stall
        return CopiesSent(node.id, ())
    if rule.kind in STEP_KINDS:
        found = ctx.resolve_assignees(rule, starter, values=values, previous=previous)
    else:
        found = ctx.resolve_assignees(rule, starter)
    return CopiesSent(node.id, tuple(dict.fromkeys(found)))
