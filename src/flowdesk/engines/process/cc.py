"""CC nodes (抄送节点): a token passes through at once, copying the people the node's
assignee rule names on the ticket. No task opens and nothing waits; a rule that names
nobody skips the node (CopiesSent with no users, which the timeline shows), never a stall.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .effects import CopiesSent
from .spec import AssigneeRule, Node


class Resolver(Protocol):
    """The part of the step's Context (walk.Context) a CC node asks of."""

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]: ...


def copies(ctx: Resolver, node: Node, starter: str) -> CopiesSent:
    """Whom CC node `node` copies for an instance started by `starter`, each once, in the
    rule's order."""
    rule = node.assignee
    if rule is None:  # parse_process requires one; an empty copy rather than a stall
        return CopiesSent(node.id, ())
    return CopiesSent(node.id, tuple(dict.fromkeys(ctx.resolve_assignees(rule, starter))))
