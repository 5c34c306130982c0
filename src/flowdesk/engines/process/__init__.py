"""The process engine: approval graphs as pure data and a pure `step` function.

`parse_process` checks a definition and builds an immutable `ProcessSpec`;
`step(spec, state, command, ctx)` advances one instance and returns the new
`InstanceState` plus the effects for the caller to persist; `dump_state` and
`load_state` store the state as small versioned JSON.
"""

from .commands import Command, CompleteTask, Outcome, Resubmit, ResubmitMode, ReturnTask, Start
from .effects import (
    CloseReason,
    CopiesSent,
    Effect,
    FinalStatus,
    InstanceFinished,
    NodeDecided,
    NodePassed,
    TaskClosed,
    TaskOpened,
    TaskOutcome,
)
from .parse import SUPPORTED_LOCALES, parse_process
from .runtime import Context, StepFailed, StepResult, step
from .spec import (
    APPROVAL_MODES,
    ASSIGNEE_KINDS,
    NODE_TYPES,
    Approval,
    ApprovalMode,
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
    Activation,
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
    "APPROVAL_MODES",
    "ASSIGNEE_KINDS",
    "NODE_TYPES",
    "STATE_VERSION",
    "SUPPORTED_LOCALES",
    "UPGRADES",
    "Activation",
    "Approval",
    "ApprovalMode",
    "AssigneeKind",
    "AssigneeRule",
    "Branches",
    "CloseReason",
    "Command",
    "CompleteTask",
    "Context",
    "CopiesSent",
    "Effect",
    "FinalStatus",
    "Flow",
    "InstanceFinished",
    "InstanceState",
    "InstanceStatus",
    "Node",
    "NodeDecided",
    "NodePassed",
    "NodeType",
    "OpenTask",
    "Outcome",
    "ProcessSpec",
    "Resubmit",
    "ResubmitMode",
    "ReturnTask",
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
