"""Refuse process graphs whose parallel joins could wait forever or lose tokens.

A parallel join continues only once a token has come through every incoming
flow; a join fed by alternatives of an exclusive gateway, or with more incoming
flows than branches were split, never fires and the ticket hangs. Likewise two
parallel tokens arriving at one user task (or twice through one join flow)
without a join in between are a modelling mistake. Such faults are easy to draw
and hard to see, so before publishing we play the token game: every exclusive
gateway may take any exit and user tasks may finish in any order, and we look at
every reachable combination of waiting tokens. Approval graphs are small, so
this is cheap; past a budget we stop and accept the graph rather than guess.
"""

from __future__ import annotations

import contextlib

from . import control_game
from .spec import Flow, ProcessSpec

MAX_MARKINGS = 5_000
MAX_MOVES = 200_000

# Tokens at rest: the user tasks holding a token, and the join flows a token
# has come through while its join still waits for others.
_Marking = tuple[frozenset[str], frozenset[str]]
_Pending = tuple[frozenset[str], frozenset[str], tuple[Flow, ...]]


# where a token rests until something outside moves it: a person, a timer, a message
_RESTING = frozenset({"user_task", "timer_catch", "message_catch", "call_activity"})


class _BudgetSpent(Exception):
    pass


class _TokenGame:
    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self.moves = 0
        self.problems: dict[tuple[str, str], str] = {}

    def problem(self, node_id: str, code: str, message: str) -> None:
        self.problems.setdefault((node_id, code), message)

    def advance(
        self, tasks: frozenset[str], arrivals: frozenset[str], flows: tuple[Flow, ...]
    ) -> list[_Marking]:
        """Move tokens along `flows` through automatic nodes, trying every exclusive exit."""
        spec = self.spec
        results: list[_Marking] = []
        stack: list[_Pending] = [(tasks, arrivals, flows)]
        while stack:
            self.moves += 1
            if self.moves > MAX_MOVES:
                raise _BudgetSpent
            tasks, arrivals, queue = stack.pop()
            if not queue:
                fired = control_game.settle(spec, tasks, arrivals, self.problem)  # OR-joins
                if fired:
                    stack.extend(fired)
                    continue
                results.append((tasks, arrivals))
                continue
            flow, rest = queue[0], queue[1:]
            target = flow.target
            node_type = spec.nodes[target].type
            if node_type in _RESTING:
                if target in tasks:
                    self.problem(
                        target,
                        "parallel_tokens_merge",
                        f"User task '{target}' can be reached by two parallel "
                        "branches at once; join them with a parallel gateway first",
                    )
                    continue
                stack.append((tasks | {target}, arrivals, rest))
            elif control_game.handles(spec, target):  # ADR 0022
                stack.extend(control_game.move(spec, tasks, arrivals, flow, rest, self.problem))
            elif node_type == "end":
                stack.append((tasks, arrivals, rest))
            elif node_type in ("exclusive_gateway", "event_gateway"):  # one exit is taken
                stack.extend(
                    (tasks, arrivals, (*rest, out)) for out in reversed(spec.outgoing(target))
                )
            elif spec.is_join(target):
                if flow.id in arrivals:
                    self.problem(
                        target,
                        "parallel_tokens_merge",
                        f"Parallel join '{target}' can receive two tokens through "
                        f"flow '{flow.id}' before it fires; join the branches first",
                    )
                    continue
                needed = frozenset(incoming.id for incoming in spec.incoming(target))
                arrived = arrivals | {flow.id}
                if needed <= arrived:
                    stack.append((tasks, arrived - needed, rest + spec.outgoing(target)))
                else:
                    stack.append((tasks, arrived, rest))
            else:  # a parallel gateway that only splits, or a CC node (passes at once)
                stack.append((tasks, arrivals, rest + spec.outgoing(target)))
        return results

    def deadlock(self, arrivals: frozenset[str]) -> None:
        spec = self.spec
        for join_id in spec.nodes:
            if not spec.is_join(join_id):
                continue
            incoming = [flow.id for flow in spec.incoming(join_id)]
            if not any(flow_id in arrivals for flow_id in incoming):
                continue
            missing = [flow_id for flow_id in incoming if flow_id not in arrivals]
            self.problem(
                join_id,
                "join_unbalanced",
                f"Parallel join '{join_id}' can wait forever: in some run no token "
                f"comes through {', '.join(repr(m) for m in missing)}. A join needs "
                "one token from each of its incoming flows; merge alternatives "
                "with an exclusive gateway instead",
            )

    def explore(self) -> None:
        spec = self.spec
        initial = self.advance(frozenset(), frozenset(), spec.outgoing(spec.start.id))
        seen = set(initial)
        todo = list(initial)
        while todo:
            tasks, arrivals = todo.pop()
            if not tasks:
                if arrivals:
                    self.deadlock(arrivals)
                continue
            for task in sorted(tasks):
                for marking in self.advance(tasks - {task}, arrivals, spec.outgoing(task)):
                    if marking not in seen:
                        if len(seen) >= MAX_MARKINGS:
                            raise _BudgetSpent
                        seen.add(marking)
                        todo.append(marking)


def check_soundness(spec: ProcessSpec) -> list[tuple[str, str, str]]:
    """(node id, code, message) for each join that can hang or node that can get two tokens.

    Assumes the graph already passed the structural checks in `parse`.
    """
    game = _TokenGame(spec)
    with contextlib.suppress(_BudgetSpent):  # past the budget, accept what we cannot judge
        game.explore()
    order = {node_id: i for i, node_id in enumerate(spec.nodes)}
    found = sorted(game.problems.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    return [(node_id, code, message) for (node_id, code), message in found]


def can_finish(spec: ProcessSpec, holding: frozenset[str], arrivals: frozenset[str]) -> bool:
    """Whether tokens resting at `holding` (user tasks, or the start for a resubmission)
    with `arrivals` at joins can always finish: no join left waiting forever and no two
    tokens merging, whatever exits the gateways take. A return (退回) that would strand a
    parallel branch is refused with this check; past the budget it is allowed, as
    publishing accepts what it cannot judge."""
    game = _TokenGame(spec)
    start = (holding, arrivals)
    seen = {start}
    todo = [start]
    try:
        while todo and not game.problems:
            tasks, arrived = todo.pop()
            if not tasks:
                if arrived:
                    game.deadlock(arrived)
                continue
            for task in sorted(tasks):
                for marking in game.advance(tasks - {task}, arrived, spec.outgoing(task)):
                    if marking not in seen:
                        if len(seen) >= MAX_MARKINGS:
                            raise _BudgetSpent
                        seen.add(marking)
                        todo.append(marking)
    except _BudgetSpent:
        return True
    return not game.problems
