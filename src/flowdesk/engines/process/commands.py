"""What a caller asks of a process instance; one frozen dataclass per command.

Commands carry the ticket's full current form values because branch conditions
read them, but the engine never stores them: form data belongs to the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Outcome = Literal["approve", "reject"]


@dataclass(frozen=True, slots=True)
class Start:
    """Start a new instance for `starter` (the applicant)."""

    starter: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class CompleteTask:
    """`actor` approves or rejects open task `task_id`."""

    task_id: str
    actor: str
    outcome: Outcome
    comment: str = ""
    values: Mapping[str, object] = field(default_factory=dict, hash=False)


Command: TypeAlias = Start | CompleteTask
