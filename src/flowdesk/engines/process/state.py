"""The running instance's state: small, immutable, and persisted as versioned JSON.

The state holds only what decides the next step: the status, the applicant
(needed to resolve later assignees), the open tasks and the parallel joins still
waiting. Nothing in it grows with the ticket's history (that lives in events)
and the spec is stored once by the caller, so a finished instance is a few dozen
bytes. `load_state` upgrades documents written by older versions through
forward-only functions, one per version, so stored tickets never need a
big-bang migration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, cast

from flowdesk.kernel.errors import FlowdeskError

InstanceStatus = Literal["running", "approved", "rejected"]
STATUSES: frozenset[str] = frozenset({"running", "approved", "rejected"})

STATE_VERSION = 1
StateDocument = dict[str, object]
# UPGRADES[n] turns a version-n document into a version-n+1 one; `load_state`
# stamps the new version number itself.
UPGRADES: dict[int, Callable[[StateDocument], StateDocument]] = {}


class OpenTask(NamedTuple):
    """A user task waiting for one of its assignees (a named tuple: cheap to build and load)."""

    task_id: str
    node_id: str
    assignees: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InstanceState:
    """Where a running instance's tokens rest; never mutated, `step` returns a new one.

    `tasks` maps task id to open task, in the order the tasks were opened;
    `joins` maps a parallel join node to the incoming flows a token has already
    come through.
    """

    status: InstanceStatus
    starter: str
    tasks: Mapping[str, OpenTask] = field(default_factory=dict, hash=False)
    joins: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)


def open_tasks(state: InstanceState | None) -> tuple[OpenTask, ...]:
    """The open tasks in the order they were opened; none before the start."""
    return () if state is None else tuple(state.tasks.values())


class StateInvalid(FlowdeskError):
    """A stored state document cannot be read: corrupted, or from a newer flowdesk."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "state_invalid", [], 500)


def dump_state(state: InstanceState) -> StateDocument:
    """A compact JSON-ready dict; empty parts are left out."""
    data: StateDocument = {"v": STATE_VERSION, "status": state.status, "starter": state.starter}
    if state.tasks:
        data["tasks"] = {
            task_id: [task.node_id, list(task.assignees)] for task_id, task in state.tasks.items()
        }
    if state.joins:
        data["joins"] = {node_id: sorted(arrived) for node_id, arrived in state.joins.items()}
    return data


def _upgrade(data: Mapping[str, object]) -> Mapping[str, object]:
    version = data.get("v", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateInvalid("The state document has no valid version")
    if version > STATE_VERSION:
        raise StateInvalid(f"The state was written by a newer flowdesk (version {version})")
    while version < STATE_VERSION:
        upgrade = UPGRADES.get(version)
        if upgrade is None:
            raise StateInvalid(f"No upgrade from state version {version}")
        version += 1
        data = {**upgrade(dict(data)), "v": version}
    return data


def load_state(data: Mapping[str, object]) -> InstanceState:
    """Read a document from `dump_state` (any version), upgrading it first if older."""
    if data.get("v") != STATE_VERSION:
        data = _upgrade(data)
    try:
        status = data["status"]
        starter = data["starter"]
        if status not in STATUSES or not isinstance(starter, str):
            raise ValueError("bad status or starter")
        raw_tasks = cast("Mapping[str, tuple[str, list[str]]] | None", data.get("tasks"))
        tasks = (
            {
                task_id: OpenTask(task_id, node_id, tuple(assignees))
                for task_id, (node_id, assignees) in raw_tasks.items()
            }
            if raw_tasks
            else {}
        )
        raw_joins = cast("Mapping[str, list[str]] | None", data.get("joins"))
        joins = (
            {node_id: frozenset(arrived) for node_id, arrived in raw_joins.items()}
            if raw_joins
            else {}
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateInvalid("The state document is malformed") from exc
    return InstanceState(cast(InstanceStatus, status), starter, tasks, joins)
