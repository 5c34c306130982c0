"""De-duplication, "approve once" (APPROVALS.md edge cases 30 and 31; ADR 0041).

    - {id: final, type: user_task, approve_once: true, …}

A user task with `approve_once` does not ask again an approver who already approved an
earlier step of the ticket (Lark's "approved at any earlier step", yudao's REMOVE_REPEAT,
per task): their task there is approved at once, closed `approved` with the reason
`same_approver` and `decided_by` the person whose earlier approval stands for it. When
those approvals are all the step needs (its one approver, an 或签 holder, every
countersigner, a vote's count), the step passes as `node_skipped same_approver` naming
them; otherwise the others still decide. The checks use the principal: an approval a
substitute gave on A's behalf is A's, and a substitute holding A's task there stands
for A (edge case 30).

No de-duplication, so the person decides again, when
- the form changed since that approval (by anyone, also by them while approving);
- the step is entered again (a return, a resubmission, a loop), or a return or the
  applicant's withdrawal came after that approval (approvals given later count again);
- the approval was withdrawn (撤回);
- the person is there through the empty-approver fallback, a transfer, an add-sign or
  an admin's repair (only the step's own rule, as the step starts, is de-duplicated).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from .commands import (
    Command,
    CompleteTask,
    RetractDecision,
    ReturnTask,
    Start,
    Withdraw,
)
from .effects import NodeSkipped, TaskClosed, TaskOpened
from .spec import ProcessSpec
from .state import NO_REPEATS, Repeats

if TYPE_CHECKING:
    from .walk import StepResult


class Seen(NamedTuple):
    """What one step may de-duplicate with: principal -> the form's digest before their
    approval, and the approve_once steps entered before."""

    approved: Mapping[str, str]
    entered: frozenset[str]


def principal_of(ctx: object, person: str) -> str:
    """Whom `person` stands in for at this step (themself when nobody); a Context may
    say so with `principal_of` (the services' out-of-office stand-ins)."""
    ask = getattr(ctx, "principal_of", None)
    return person if ask is None else str(ask(person))


def digest(values: Mapping[str, object]) -> str:
    """A short fingerprint of the form's values, the same for equal values however
    their numbers are typed."""
    text = json.dumps(values, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value.normalize())
    return str(value)


def _values(command: Command) -> Mapping[str, object] | None:
    values = getattr(command, "values", None)
    return values if isinstance(values, Mapping) and values else None


def before(repeats: Repeats, command: Command) -> tuple[Repeats, Seen]:
    """The repeats once `command` took approvals back (a return, a withdrawal, 撤回),
    and what this step may de-duplicate with, this very approval included."""
    approved = repeats.approved
    if isinstance(command, ReturnTask | Withdraw):
        approved = ()
    elif isinstance(command, RetractDecision):
        approved = tuple(entry for entry in approved if entry[1] != command.actor)
    if approved is not repeats.approved:
        repeats = repeats._replace(approved=approved)
    seen = {principal: form for principal, _, form in approved}
    if isinstance(command, CompleteTask) and command.outcome == "approve":
        seen[_acting(repeats, command.task_id, command.actor)] = repeats.form
    return repeats, Seen(seen, frozenset(repeats.entered))


def _acting(repeats: Repeats, task_id: str, actor: str) -> str:
    for task, delegate, principal in repeats.standing:
        if task == task_id and delegate == actor:
            return principal
    return actor


def after(
    spec: ProcessSpec,
    repeats: Repeats,
    command: Command,
    result: StepResult,
    ctx: object,
) -> Repeats:
    """`repeats` after the step: this approval added, the stand-ins of the tasks it
    opened, the approve_once steps it entered and the form as it now stands."""
    approved = list(repeats.approved)
    if isinstance(command, CompleteTask) and command.outcome == "approve":
        principal = _acting(repeats, command.task_id, command.actor)
        approved = [entry for entry in approved if entry[0] != principal]
        approved.append((principal, command.actor, repeats.form))
    standing = list(repeats.standing)
    entered = list(repeats.entered)
    dedup = spec.index.dedup
    for effect in result.effects:
        if isinstance(effect, TaskOpened):
            for person in effect.assignees:
                principal = principal_of(ctx, person)
                if principal != person:
                    standing.append((effect.task_id, person, principal))
            node_id = effect.node_id
        elif isinstance(effect, NodeSkipped):
            node_id = effect.node_id
        else:
            continue
        if node_id in dedup and node_id not in entered:
            entered.append(node_id)
    tasks = result.state.tasks
    values = _values(command)
    form = digest(values) if values is not None else repeats.form
    if isinstance(command, Start):
        form = digest(command.values)
    new = Repeats(
        tuple(approved),
        form,
        tuple(entry for entry in standing if entry[0] in tasks),
        tuple(entered),
    )
    return NO_REPEATS if new == NO_REPEATS else new


def repeated(
    seen: Seen | None,
    ctx: object,
    node_id: str,
    assignees: Sequence[str],
    values: Mapping[str, object],
) -> tuple[str, ...]:
    """Who of `assignees`, as step `node_id` starts, approved an earlier step on the
    form as it still is (their principal, for a substitute)."""
    if seen is None or not seen.approved or node_id in seen.entered:
        return ()
    now = digest(values)
    return tuple(p for p in assignees if seen.approved.get(principal_of(ctx, p)) == now)


def approved_at_once(task_id: str, node_id: str, person: str, ctx: object) -> TaskClosed:
    """`person`'s task at a step they are de-duplicated at, closed approved."""
    return TaskClosed(
        task_id, node_id, "approved", person, "", "same_approver", principal_of(ctx, person)
    )
