"""Many races of two and of eight actors on one step, on SQLite and PostgreSQL (issue 8,
"Correctness"; RELIABILITY.md promise 2).

Each round files a ticket, then releases its actors together (a barrier), each doing a
mixed action: approve, reject, 退回 to the applicant, or the applicant's 撤回. Three
shapes:

- one task shared by two candidates (single mode): exactly one wins, the other 409;
- 或签 of eight holders, one task each (sometimes the applicant withdraws in place of one
  of them): exactly one wins, the other seven 409, their tasks cancelled;
- 会签 of two holders: both approvals count (both win, the next step opens once); a
  rejection or return always wins, the other holder's approval only if it came first;
  a withdraw, or two non-approvals, have exactly one winner.

After every round the ticket is where the winner's action put it, with no duplicate
successor task: the next step opens at most once, the applicant holds at most one task.

The default size runs in seconds per database; `FLOWDESK_RACES=1000` runs the issue's
1,000 races per shape. Run with `-s` to see the figures.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from loan_desk import Desk, loan_values
from sqlalchemy import func, select
from test_concurrency import Racers

from approval_apps import Step, line_app, yaml_of
from flowdesk.kernel.errors import Conflict
from flowdesk.services import apps, audit, task_returns, tickets, withdrawals
from flowdesk.store.tables import Task

RACES = int(os.environ.get("FLOWDESK_RACES") or 50)
APPLICANT = "zhang.wei"
EIGHT = ("wang.fang", "liu.yang", "ma.li", "chen.jing", "yang.guang", "luo.xin", "sun.li", "hu.bin")
NEXT = "gao.feng"  # holds the step after the raced one

Action = Literal["approve", "reject", "return", "withdraw"]
DECISIONS: tuple[Action, ...] = ("approve", "reject", "return")


@dataclass
class Figures:
    """What the races came to, printed at the end of each test."""

    shape: str
    backend: str
    races: int = 0
    wins: int = 0
    conflicts: int = 0
    duplicates: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    won_by: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def report(self) -> str:
        return (
            f"races[{self.shape}/{self.backend}]: {self.races} races, {self.wins} wins, "
            f"{self.conflicts} 409s {dict(self.codes)}, duplicates {self.duplicates}, "
            f"won by {dict(self.won_by)}, {time.monotonic() - self.started:.1f}s"
        )


def _publish(desk: Desk, key: str, mode: str, holders: tuple[str, ...]) -> None:
    steps = (Step("decide", holders, mode), Step("next", (NEXT,)))
    prefix = key.upper().replace("_", "")
    apps.publish_yaml(desk.ctx, yaml_of(line_app(key, steps, serial_prefix=prefix)))


def _submit(desk: Desk, key: str) -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors[APPLICANT], app_key=key, values=loan_values()
    ).ticket_id


def _tasks_of(desk: Desk, ticket_id: str) -> dict[str, str]:
    """username -> their open task at the raced step."""
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return {
        names[person.id]: task.id
        for task in desk.view(ticket_id).open_tasks
        for person in task.assignees
    }


def _call(desk: Desk, ticket_id: str, who: str, task_id: str, action: Action) -> Callable[[], Any]:
    actor = desk.actors[who]
    if action == "approve":
        return partial(tickets.approve, desk.ctx, actor=actor, task_id=task_id)
    if action == "reject":
        return partial(tickets.reject, desk.ctx, actor=actor, task_id=task_id, comment="不同意")
    if action == "return":
        return partial(
            task_returns.return_task,
            desk.ctx,
            actor=actor,
            task_id=task_id,
            target=task_returns.APPLICANT,
            comment="请补充材料",
        )
    return partial(
        withdrawals.withdraw_ticket, desk.ctx, actor=desk.actors[APPLICANT], ticket_id=ticket_id
    )


def _tally(figures: Figures, actions: list[Action], results: list[Any]) -> list[Action]:
    """Counts the round; the actions that won. Every loser is a 409."""
    figures.races += 1
    won = []
    for action, result in zip(actions, results, strict=True):
        if isinstance(result, tickets.StepOutcome):
            figures.wins += 1
            figures.won_by[action] += 1
            won.append(action)
        else:
            assert isinstance(result, Conflict) and result.status == 409, repr(result)
            figures.conflicts += 1
            figures.codes[result.code] += 1
    return won


def _check_where_it_went(desk: Desk, ticket_id: str, figures: Figures, outcome: str) -> None:
    """The ticket is where `outcome` put it ("pending": still at the raced step), and no
    step opened twice."""
    tasks = Task.__table__
    with desk.ctx.db.read() as conn:
        opened = dict(
            conn.execute(
                select(tasks.c.node_id, func.count())
                .where(tasks.c.ticket_id == ticket_id, tasks.c.node_id.in_(["next", "start"]))
                .group_by(tasks.c.node_id)
            ).all()
        )
    figures.duplicates += sum(count > 1 for count in opened.values())
    view = desk.view(ticket_id)
    open_nodes = [t.node_id for t in view.open_tasks]
    if outcome == "approve":
        assert (view.status, open_nodes, opened) == ("running", ["next"], {"next": 1})
    elif outcome == "pending":
        assert (view.status, open_nodes, opened) == ("running", ["decide"], {})
    elif outcome == "reject":
        assert (view.status, open_nodes, opened) == ("rejected", [], {})
    else:  # returned or withdrawn: the applicant's one task
        assert (view.status, open_nodes, opened) == ("running", ["start"], {"start": 1})


def test_two_actors_on_one_shared_task_exactly_one_wins(desk: Desk, backend: str) -> None:
    _publish(desk, "race_single", "single", ("zhao.lei", "qian.yu"))  # one task, two candidates
    figures, rng, racers = Figures("single-2", backend), random.Random(2), Racers(2)
    for _ in range(RACES):
        ticket_id = _submit(desk, "race_single")
        (task_id,) = set(_tasks_of(desk, ticket_id).values())
        actions: list[Action] = [rng.choice(DECISIONS), rng.choice((*DECISIONS, "withdraw"))]
        calls = [
            _call(desk, ticket_id, who, task_id, action)
            for who, action in zip(("zhao.lei", "qian.yu"), actions, strict=True)
        ]
        won = _tally(figures, actions, racers.race(calls))
        assert len(won) == 1, (actions, won)
        _check_where_it_went(desk, ticket_id, figures, won[0])
    print(figures.report())
    assert figures.duplicates == 0
    assert figures.wins == RACES and figures.conflicts == RACES
    assert audit.verify(desk.ctx).ok


def test_eight_holders_of_an_or_sign_exactly_one_wins(desk: Desk, backend: str) -> None:
    _publish(desk, "race_any", "any", EIGHT)  # 或签: one task each
    figures, rng, racers = Figures("any-8", backend), random.Random(8), Racers(8)
    for round_no in range(RACES):
        ticket_id = _submit(desk, "race_any")
        held = _tasks_of(desk, ticket_id)
        assert sorted(held) == sorted(EIGHT)
        actions: list[Action] = [rng.choice(DECISIONS) for _ in EIGHT]
        if round_no % 4 == 3:  # the applicant withdraws in place of one holder
            actions[rng.randrange(len(EIGHT))] = "withdraw"
        calls = [
            _call(desk, ticket_id, who, held[who], action)
            for who, action in zip(EIGHT, actions, strict=True)
        ]
        won = _tally(figures, actions, racers.race(calls))
        assert len(won) == 1, (actions, won)
        _check_where_it_went(desk, ticket_id, figures, won[0])
        # the losers' tasks are cancelled, never left open (a withdraw cancels all eight)
        cancelled = [t for t in desk.view(ticket_id).tasks if t.state == "cancelled"]
        assert len(cancelled) == len(EIGHT) - (won[0] != "withdraw")
    print(figures.report())
    assert figures.duplicates == 0
    assert figures.wins == RACES and figures.conflicts == 7 * RACES
    assert audit.verify(desk.ctx).ok


def test_two_holders_of_a_countersign_both_count_or_one_decides(desk: Desk, backend: str) -> None:
    holders = ("wang.fang", "ma.li")
    _publish(desk, "race_all", "all", holders)  # 会签: one task each, both must approve
    figures, rng, racers = Figures("all-2", backend), random.Random(3), Racers(2)
    for _ in range(RACES):
        ticket_id = _submit(desk, "race_all")
        held = _tasks_of(desk, ticket_id)
        actions: list[Action] = [rng.choice(DECISIONS), rng.choice((*DECISIONS, "withdraw"))]
        calls = [
            _call(desk, ticket_id, who, held[who], action)
            for who, action in zip(holders, actions, strict=True)
        ]
        won = _tally(figures, actions, racers.race(calls))
        if actions == ["approve", "approve"]:
            assert won == actions  # both count: the last opens the next step, once
            outcome = "approve"
        elif "withdraw" in actions or "approve" not in actions:
            assert len(won) == 1, (actions, won)
            # one approval alone leaves the step waiting for the other holder
            outcome = "pending" if won == ["approve"] else won[0]
        else:  # a rejection or return decides; the approval counts only if it came first
            (decisive,) = [a for a in actions if a != "approve"]
            assert decisive in won, (actions, won)
            outcome = decisive
        _check_where_it_went(desk, ticket_id, figures, outcome)
    print(figures.report())
    assert figures.duplicates == 0
    assert audit.verify(desk.ctx).ok
