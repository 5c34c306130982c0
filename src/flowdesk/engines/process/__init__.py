"""The process engine: approval graphs as pure data and a pure `step` function.

`parse_process` checks a definition and builds an immutable `ProcessSpec`;
`step(spec, state, command, ctx)` advances one instance and returns the new
`InstanceState` plus the effects for the caller to persist; `dump_state` and
`load_state` store the state as small versioned JSON.
"""

from .commands import Command, CompleteTask, Outcome, Start
from .effects import (
    Effect,
    FinalStatus,
    InstanceFinished,
    NodePassed,
    TaskClosed,
    TaskOpened,
    TaskOutcome,
)
from .parse import SUPPORTED_LOCALES, parse_process
from .runtime import Context, StepFailed, StepResult, step
from .spec import (
    ASSIGNEE_KINDS,
    NODE_TYPES,
    AssigneeKind,
    AssigneeRule,
    Branches,
    Flow,
    Node,
    NodeType,
    ProcessSpec,
    SpecIndex,
)
from .state import (
    STATE_VERSION,
    UPGRADES,
    InstanceState,
    InstanceStatus,
    OpenTask,
    StateDocument,
    StateInvalid,
    dump_state,
    load_state,
    open_tasks,
)

__all__ = [
    "ASSIGNEE_KINDS",
    "NODE_TYPES",
    "STATE_VERSION",
    "SUPPORTED_LOCALES",
    "UPGRADES",
    "AssigneeKind",
    "AssigneeRule",
    "Branches",
    "Command",
    "CompleteTask",
    "Context",
    "Effect",
    "FinalStatus",
    "Flow",
    "InstanceFinished",
    "InstanceState",
    "InstanceStatus",
    "Node",
    "NodePassed",
    "NodeType",
    "OpenTask",
    "Outcome",
    "ProcessSpec",
    "SpecIndex",
    "Start",
    "StateDocument",
    "StateInvalid",
    "StepFailed",
    "StepResult",
    "TaskClosed",
    "TaskOpened",
    "TaskOutcome",
    "dump_state",
    "load_state",
    "open_tasks",
    "parse_process",
    "step",
]
