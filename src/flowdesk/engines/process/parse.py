"""Turn a plain process definition (from app YAML) into a checked ProcessSpec.

Builders are not programmers, so a definition is checked completely before it
can be published and every problem is reported at once, each with the path of
the offending key (`process.nodes[3].assignee.role`) and a stable code. Branch
conditions are only collected here; the app layer type-checks them against the
form with the expression engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

from .assignees import parse_pick
from .calls import parse_call
from .control import BOUNDARY_TYPES, CONTROL_TYPES, END_TYPES
from .control_parse import (
    CONTROL_KEYS,
    check_control,
    check_event_gateways,
    control_closures,
    parse_control_fields,
)
from .once import parse_flag, parse_node_flag
from .policies import parse_auto, parse_on_empty
from .soundness import check_soundness
from .spec import (
    APPROVAL_MODES,
    ASSIGNEE_KINDS,
    FIELD_ACCESS,
    MAX_MANAGER_LEVEL,
    NODE_TYPES,
    RESUBMIT_SETTINGS,
    SINGLE,
    VOTE_FAILURES,
    Approval,
    AssigneeRule,
    AutoDecision,
    EmptyPolicy,
    FieldAccess,
    Flow,
    Node,
    ProcessSpec,
    ResubmitSetting,
    default_flow_id,
)
from .timer_spec import check_timers, parse_message, parse_timer, quiet_boundary
from .webhook import Webhook, parse_webhook

SUPPORTED_LOCALES = ("en", "zh")
MAX_ID_LENGTH = 100
_NODE_ID = re.compile(r"[^\W\d][\w.\-]*")

_PROCESS_KEYS = frozenset({"nodes", "flows", "once_per_ticket"})
_NODE_KEYS = frozenset(
    {
        "id",
        "type",
        "name",
        "assignee",
        "editable",
        "fields",
        "approval",
        "resubmit",
        "withdraw",
        "add_sign_depth",
        "auto",
        "on_empty",
        "approve_once",
        "webhook",
        "once_per_ticket",
        "timer",
        "message",
        "call",
    }
    | CONTROL_KEYS
)
_APPROVAL_KEYS = frozenset({"mode", "pass_count", "pass_percent", "fail"})
_VOTE_KEYS = frozenset({"pass_count", "pass_percent", "fail"})
MAX_LISTED_USERS = 100
_FLOW_KEYS = frozenset({"id", "from", "to", "condition", "default"})
# the keys each assignee kind takes besides "kind", and whether they are required
_ASSIGNEE_KEYS: dict[str, dict[str, bool]] = {
    "user": {"user": True},
    "users": {"users": True},
    "role": {"role": True, "pick": False},
    "department_head": {"department": True},
    "applicant_department_head": {},
    "applicant_manager": {"level": False},
    "field_department_head": {"field": True},
    "field_user": {"field": True},
    "previous_approver_manager": {},
}


class _Problems:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[ErrorDetail] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.errors.append(ErrorDetail(path=path, code=code, message=message))

    def unknown_keys(self, data: Mapping[str, object], allowed: frozenset[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                self.add(
                    f"{path}.{key}",
                    "unknown_key",
                    f"Unknown key; expected one of: {', '.join(sorted(allowed))}",
                )

    def text(
        self, data: Mapping[str, object], key: str, path: str, *, required: bool
    ) -> str | None:
        """A non-empty string under `key`, or None (with a problem noted if wrong)."""
        if key not in data:
            if required:
                self.add(f"{path}.{key}", "required", "This key is required")
            return None
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.add(f"{path}.{key}", "wrong_type", "Must be non-empty text")
            return None
        return value


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def parse_process(data: Mapping[str, object], path: str = "process") -> ProcessSpec:
    """Check `data` completely and build a spec; raise DefinitionInvalid listing all problems."""
    problems = _Problems()
    if not isinstance(data, Mapping):
        problems.add(path, "wrong_type", "A process must be a mapping with nodes and flows")
        raise DefinitionInvalid(problems.errors)
    problems.unknown_keys(data, _PROCESS_KEYS, path)
    once = parse_flag(data, "once_per_ticket", path, problems.add)

    nodes, node_paths, declared = _parse_nodes(data, path, problems)
    flows, flow_paths = _parse_flows(data, path, nodes, declared, problems)
    # checks of the whole graph would only echo nodes or flows already reported
    whole = not problems.errors
    _check_graph(nodes, node_paths, flows, flow_paths, path, problems, whole=whole)
    if problems.errors:
        raise DefinitionInvalid(problems.errors)

    spec = ProcessSpec(nodes=nodes, flows=tuple(flows), once_per_ticket=once)
    for node_id, code, message in check_soundness(spec):
        problems.add(node_paths[node_id], code, message)
    if problems.errors:
        raise DefinitionInvalid(problems.errors)
    return spec


def _parse_nodes(
    data: Mapping[str, object], path: str, problems: _Problems
) -> tuple[dict[str, Node], dict[str, str], set[str]]:
    """The valid nodes, the path of each, and every id declared (valid node or not)."""
    nodes: dict[str, Node] = {}
    node_paths: dict[str, str] = {}
    seen: set[str] = set()
    if "nodes" not in data:
        problems.add(f"{path}.nodes", "required", "A process needs a list of nodes")
        return nodes, node_paths, seen
    raw_nodes = data["nodes"]
    if not _is_list(raw_nodes):
        problems.add(f"{path}.nodes", "wrong_type", "Must be a list of nodes")
        return nodes, node_paths, seen
    for i, raw in enumerate(cast(Sequence[object], raw_nodes)):
        node_path = f"{path}.nodes[{i}]"
        if not isinstance(raw, Mapping):
            problems.add(node_path, "wrong_type", "A node must be a mapping")
            continue
        problems.unknown_keys(raw, _NODE_KEYS, node_path)
        node_id = problems.text(raw, "id", node_path, required=True)
        if node_id is not None:
            if len(node_id) > MAX_ID_LENGTH or not _NODE_ID.fullmatch(node_id):
                problems.add(
                    f"{node_path}.id",
                    "invalid_id",
                    "An id starts with a letter or _ and holds only letters, "
                    f"digits, _, - and . (at most {MAX_ID_LENGTH})",
                )
                node_id = None
            elif node_id in seen:
                problems.add(
                    f"{node_path}.id",
                    "duplicate_id",
                    f"Another node already has the id '{node_id}'",
                )
                node_id = None
            else:
                seen.add(node_id)
        node_type = problems.text(raw, "type", node_path, required=True)
        if node_type is not None and node_type not in NODE_TYPES:
            problems.add(
                f"{node_path}.type",
                "unknown_node_type",
                f"Unknown node type; expected one of: {', '.join(NODE_TYPES)}",
            )
            node_type = None
        name = _parse_name(raw, node_path, problems)
        assignee: AssigneeRule | None = None
        if node_type in ("user_task", "cc"):
            if "assignee" not in raw:
                problems.add(
                    f"{node_path}.assignee",
                    "required",
                    "A user task needs an assignee rule"
                    if node_type == "user_task"
                    else "A CC node needs an assignee rule naming whom it copies",
                )
            else:
                assignee = _parse_assignee(raw["assignee"], f"{node_path}.assignee", problems)
        elif node_type is not None and "assignee" in raw:
            problems.add(
                f"{node_path}.assignee",
                "assignee_not_allowed",
                "Only user tasks and CC nodes have assignees",
            )
        fields = _parse_fields(raw, node_type, node_path, problems)
        approval = _parse_approval(raw, node_type, node_path, problems)
        if (
            approval.mode == "vote"
            and approval.pass_count is not None
            and assignee is not None
            and assignee.kind in ("user", "users")
        ):
            listed = 1 if assignee.kind == "user" else len(assignee.users)
            if approval.pass_count > listed:
                problems.add(
                    f"{node_path}.approval.pass_count",
                    "pass_count_unreachable",
                    f"The vote needs {approval.pass_count} approvals but the node "
                    f"names only {listed} approver(s)",
                )
        resubmit = _parse_resubmit(raw, node_type, node_path, problems)
        withdraw = _parse_withdraw(raw, node_type, node_path, problems)
        add_sign_depth = _parse_add_sign_depth(raw, node_type, node_path, problems)
        auto, on_empty = _parse_policies(raw, node_type, node_path, problems)
        approve_once = _parse_approve_once(raw, node_type, node_path, problems)
        scope, attached_to, interrupting, error_code = parse_control_fields(
            raw, node_type, node_path, problems.add
        )
        webhook = _parse_service(raw, node_type, node_path, problems)
        once_per_ticket = parse_node_flag(raw, node_type, node_path, problems.add)
        timer = parse_timer(
            raw,
            node_type,
            node_path,
            problems.add,
            lambda rule, at: _parse_assignee(rule, at, problems),
        )
        message = parse_message(raw, node_type, node_path, problems.add)
        call = parse_call(raw, node_type, node_path, problems.add)
        if node_id is None or node_type is None:
            continue
        nodes[node_id] = Node(
            id=node_id,
            type=node_type,
            name=name,
            assignee=assignee,
            fields=fields,
            approval=approval,
            resubmit=resubmit,
            withdraw=withdraw,
            add_sign_depth=add_sign_depth,
            auto=auto,
            on_empty=on_empty,
            approve_once=approve_once,
            scope=scope,
            attached_to=attached_to,
            interrupting=interrupting,
            error_code=error_code,
            webhook=webhook,
            once_per_ticket=once_per_ticket,
            timer=timer,
            message=message,
            call=call,
        )
        node_paths[node_id] = node_path
    return nodes, node_paths, seen


def _parse_name(raw: Mapping[str, object], path: str, problems: _Problems) -> dict[str, str]:
    if "name" not in raw:
        return {}
    value = raw["name"]
    if not isinstance(value, Mapping):
        problems.add(
            f"{path}.name",
            "wrong_type",
            "A name maps a locale (en, zh) to text, e.g. {en: Review, zh: 审批}",
        )
        return {}
    name: dict[str, str] = {}
    for locale, text in value.items():
        if locale not in SUPPORTED_LOCALES:
            problems.add(
                f"{path}.name.{locale}",
                "unknown_locale",
                f"Unknown locale; expected one of: {', '.join(SUPPORTED_LOCALES)}",
            )
        elif not isinstance(text, str) or not text.strip():
            problems.add(f"{path}.name.{locale}", "wrong_type", "Must be non-empty text")
        else:
            name[locale] = text
    return name


def _parse_fields(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> tuple[tuple[str, FieldAccess], ...]:
    """Per-node field permissions (ADR 0037) of a user task or the start event:
    `fields: {amount: read_only, notes: hidden, purpose: editable}`, or the shorthand
    `editable: [purpose]` (each listed field editable). Whether each key names a field
    the process may open is the app layer's check (it knows the form and the conditions).
    """
    if "fields" not in raw and "editable" not in raw:
        return ()
    allowed = node_type is None or node_type in ("user_task", "start")
    found: dict[str, FieldAccess] = {}
    if "editable" in raw:
        where = f"{path}.editable"
        value = raw["editable"]
        if not allowed:
            problems.add(where, "editable_not_allowed", "Only user tasks have editable fields")
        elif not _is_list(value) or not all(
            isinstance(key, str) and key for key in cast(Sequence[object], value)
        ):
            problems.add(
                where, "wrong_type", "Must be a list of form field keys, such as [purpose]"
            )
        else:
            for i, key in enumerate(cast(Sequence[str], value)):
                if key in found:
                    problems.add(f"{where}[{i}]", "duplicate", "This field is listed twice")
                found[key] = "editable"
    if "fields" in raw:
        where = f"{path}.fields"
        value = raw["fields"]
        if not allowed:
            problems.add(
                where,
                "fields_not_allowed",
                "Only user tasks and the start event have field permissions",
            )
        elif not isinstance(value, Mapping):
            problems.add(
                where,
                "wrong_type",
                "Must map form field keys to editable, read_only or hidden, "
                "such as {amount: read_only}",
            )
        else:
            for key, access in value.items():
                if not isinstance(key, str) or not key:
                    problems.add(where, "wrong_type", "Field keys are text")
                elif access not in FIELD_ACCESS:
                    problems.add(
                        f"{where}.{key}",
                        "unknown_access",
                        f"Expected one of: {', '.join(FIELD_ACCESS)}",
                    )
                elif key in found:
                    problems.add(
                        f"{where}.{key}", "duplicate", "This field is listed under editable too"
                    )
                else:
                    found[key] = cast(FieldAccess, access)
    return tuple(found.items())


def _parse_policies(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> tuple[AutoDecision | None, EmptyPolicy | None]:
    """A user task's `auto` decision and `on_empty` answer (policies.py)."""
    if node_type is not None and node_type != "user_task":
        for key in ("auto", "on_empty"):
            if key in raw:
                problems.add(f"{path}.{key}", f"{key}_not_allowed", "Only user tasks have it")
        return None, None
    auto = parse_auto(raw["auto"], f"{path}.auto", problems.add) if "auto" in raw else None
    on_empty = (
        parse_on_empty(
            raw["on_empty"],
            f"{path}.on_empty",
            problems.add,
            lambda rule, at: _parse_assignee(rule, at, problems),
        )
        if "on_empty" in raw
        else None
    )
    return auto, on_empty


def _parse_service(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> Webhook | None:
    """A service task's `webhook` (webhook.py): required there, refused elsewhere."""
    if node_type != "service_task":
        if node_type is not None and "webhook" in raw:
            problems.add(f"{path}.webhook", "webhook_not_allowed", "Only service tasks")
        return None
    if "webhook" not in raw:
        problems.add(f"{path}.webhook", "required", "A service task needs a webhook to call")
        return None
    return parse_webhook(raw["webhook"], f"{path}.webhook", problems.add)


def _parse_approve_once(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> bool:
    """`approve_once: true`: the approver of the step just before, when they are this
    step's only approver, approves it once (policies.py)."""
    if "approve_once" not in raw:
        return False
    value = raw["approve_once"]
    if node_type is not None and node_type != "user_task":
        problems.add(f"{path}.approve_once", "approve_once_not_allowed", "Only user tasks")
        return False
    if not isinstance(value, bool):
        problems.add(f"{path}.approve_once", "wrong_type", "true or false")
        return False
    return value


MAX_ADD_SIGN_DEPTH = 5


def _parse_add_sign_depth(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> int:
    """`add_sign_depth: n` (1 to 5): how deep 加签 nests at this user task (ADR 0020)."""
    if "add_sign_depth" not in raw:
        return 0
    value = raw["add_sign_depth"]
    path = f"{path}.add_sign_depth"
    if node_type is not None and node_type != "user_task":
        problems.add(path, "add_sign_depth_not_allowed", "Only user tasks have add-signs")
        return 0
    if type(value) is not int or not 1 <= value <= MAX_ADD_SIGN_DEPTH:
        problems.add(
            path,
            "wrong_type",
            f"add_sign_depth is a whole number from 1 (an added signer cannot add again) "
            f"to {MAX_ADD_SIGN_DEPTH}",
        )
        return 0
    return value


def _parse_withdraw(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> bool:
    """`withdraw: false`: an approver cannot withdraw an approval given here (ADR 0019)."""
    if "withdraw" not in raw:
        return True
    value = raw["withdraw"]
    path = f"{path}.withdraw"
    if node_type is not None and node_type != "user_task":
        problems.add(path, "withdraw_not_allowed", "Only user tasks have approvals to withdraw")
        return True
    if not isinstance(value, bool):
        problems.add(path, "wrong_type", "withdraw is true (the default) or false")
        return True
    return value


def _parse_resubmit(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> ResubmitSetting:
    if "resubmit" not in raw:
        return "rerun"
    value = raw["resubmit"]
    path = f"{path}.resubmit"
    if node_type is not None and node_type != "user_task":
        problems.add(path, "resubmit_not_allowed", "Only user tasks return tickets")
        return "rerun"
    if value not in RESUBMIT_SETTINGS:
        problems.add(
            path,
            "unknown_resubmit",
            "resubmit is rerun (every node between the return's target and this one runs "
            "again, the default), straight_back (the ticket comes straight back here) or "
            "returner_chooses",
        )
        return "rerun"
    return value


def _parse_approval(
    raw: Mapping[str, object], node_type: str | None, path: str, problems: _Problems
) -> Approval:
    """`approval: {mode: all}` and the like (spec.Approval); the single-approver default
    when absent or wrong (the problem is reported, the spec is never built)."""
    if "approval" not in raw:
        return SINGLE
    value = raw["approval"]
    path = f"{path}.approval"
    if node_type is not None and node_type != "user_task":
        problems.add(path, "approval_not_allowed", "Only user tasks have an approval mode")
        return SINGLE
    if not isinstance(value, Mapping):
        problems.add(
            path,
            "wrong_type",
            "An approval is a mapping with a mode, e.g. {mode: all} or "
            "{mode: vote, pass_percent: 60}",
        )
        return SINGLE
    problems.unknown_keys(value, _APPROVAL_KEYS, path)
    mode = problems.text(value, "mode", path, required=True)
    if mode is None:
        return SINGLE
    if mode not in APPROVAL_MODES:
        problems.add(
            f"{path}.mode",
            "unknown_approval_mode",
            f"Unknown approval mode; expected one of: {', '.join(APPROVAL_MODES)} "
            "(single: one shared task; all: 会签; any: 或签; sequential: 依次审批; "
            "vote: passes at a count or percentage of approvals)",
        )
        return SINGLE
    if mode != "vote":
        for key in sorted(_VOTE_KEYS & set(value)):
            problems.add(
                f"{path}.{key}",
                "vote_key_not_allowed",
                f"'{key}' belongs to mode vote only",
            )
        return Approval(mode=mode)
    count = _whole_number(value, "pass_count", path, problems, 1, MAX_LISTED_USERS)
    percent = _whole_number(value, "pass_percent", path, problems, 1, 100)
    if "pass_count" in value and "pass_percent" in value:
        problems.add(
            f"{path}.pass_percent",
            "pass_rule_conflict",
            "Give either pass_count or pass_percent, not both",
        )
    elif "pass_count" not in value and "pass_percent" not in value:
        problems.add(
            path,
            "pass_rule_required",
            "A vote needs pass_count (approvals needed) or pass_percent (of the approvers)",
        )
    fail = value.get("fail", "unreachable")
    if fail not in VOTE_FAILURES:
        problems.add(
            f"{path}.fail",
            "unknown_vote_failure",
            "fail is unreachable (the vote fails once it can no longer pass, the default) "
            "or first_reject (one rejection fails it)",
        )
        fail = "unreachable"
    if count is None and percent is None:
        return SINGLE  # a problem is reported
    return Approval(mode="vote", pass_count=count, pass_percent=percent, fail=fail)


def _whole_number(
    value: Mapping[str, object], key: str, path: str, problems: _Problems, low: int, high: int
) -> int | None:
    if key not in value:
        return None
    number = value[key]
    if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
        problems.add(
            f"{path}.{key}",
            f"invalid_{key}",
            f"{key} is a whole number from {low} to {high}",
        )
        return None
    return number


def _parse_users(value: Mapping[str, object], path: str, problems: _Problems) -> tuple[str, ...]:
    """`users: [a, b, c]`: usernames, in the order 依次审批 follows."""
    path = f"{path}.users"
    if "users" not in value:
        problems.add(path, "required", "This key is required")
        return ()
    listed = value["users"]
    items = cast(Sequence[object], listed) if _is_list(listed) else ()
    if not items or not all(isinstance(name, str) and name.strip() for name in items):
        problems.add(path, "wrong_type", "Must be a non-empty list of usernames, such as [li.na]")
        return ()
    names = cast(Sequence[str], items)
    if len(names) > MAX_LISTED_USERS:
        problems.add(path, "too_many_users", f"At most {MAX_LISTED_USERS} users")
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            problems.add(f"{path}[{i}]", "duplicate", "This user is listed twice")
        seen.add(name)
    return tuple(names)


def _parse_assignee(value: object, path: str, problems: _Problems) -> AssigneeRule | None:
    if not isinstance(value, Mapping):
        problems.add(path, "wrong_type", "An assignee rule must be a mapping with a kind")
        return None
    kind = problems.text(value, "kind", path, required=True)
    if kind is None:
        return None
    if kind not in ASSIGNEE_KINDS:
        problems.add(
            f"{path}.kind",
            "unknown_assignee_kind",
            f"Unknown assignee kind; expected one of: {', '.join(ASSIGNEE_KINDS)}",
        )
        return None
    keys = _ASSIGNEE_KEYS[kind]
    problems.unknown_keys(value, frozenset({"kind", *keys}), path)
    before = len(problems.errors)
    texts = {
        key: problems.text(value, key, path, required=required)
        for key, required in keys.items()
        if key not in ("level", "users")
    }
    users = _parse_users(value, path, problems) if kind == "users" else ()
    level = 1
    if "level" in keys and "level" in value:
        raw_level = value["level"]
        if (
            not isinstance(raw_level, int)
            or isinstance(raw_level, bool)
            or not 1 <= raw_level <= MAX_MANAGER_LEVEL
        ):
            problems.add(
                f"{path}.level",
                "invalid_level",
                f"The manager level is a whole number from 1 (direct manager) "
                f"to {MAX_MANAGER_LEVEL}",
            )
        else:
            level = raw_level
    pick = parse_pick(texts.get("pick"), f"{path}.pick", problems.add)
    if len(problems.errors) > before:
        return None
    return AssigneeRule(
        kind=kind,
        user=texts.get("user"),
        role=texts.get("role"),
        department=texts.get("department"),
        level=level,
        users=users,
        field=texts.get("field"),
        pick=pick,
    )


def _parse_flows(
    data: Mapping[str, object],
    path: str,
    nodes: Mapping[str, Node],
    declared: set[str],
    problems: _Problems,
) -> tuple[list[Flow], list[str]]:
    """Flows whose endpoints are known nodes, and the path of each."""
    flows: list[Flow] = []
    flow_paths: list[str] = []
    if "flows" not in data:
        problems.add(f"{path}.flows", "required", "A process needs a list of flows")
        return flows, flow_paths
    raw_flows = data["flows"]
    if not _is_list(raw_flows):
        problems.add(f"{path}.flows", "wrong_type", "Must be a list of flows")
        return flows, flow_paths
    seen: set[str] = set()
    for i, raw in enumerate(cast(Sequence[object], raw_flows)):
        flow_path = f"{path}.flows[{i}]"
        if not isinstance(raw, Mapping):
            problems.add(flow_path, "wrong_type", "A flow must be a mapping with from and to")
            continue
        problems.unknown_keys(raw, _FLOW_KEYS, flow_path)
        ok = True
        ends: list[str] = []
        for key in ("from", "to"):
            node_id = problems.text(raw, key, flow_path, required=True)
            if node_id is None or (node_id in declared and node_id not in nodes):
                ok = False  # missing, or a node whose own problems are already reported
            elif node_id not in nodes:
                problems.add(
                    f"{flow_path}.{key}", "unknown_node", f"No node has the id '{node_id}'"
                )
                ok = False
            ends.append(node_id or "")
        condition = problems.text(raw, "condition", flow_path, required=False)
        if "condition" in raw and condition is None:
            ok = False
        default = raw.get("default", False)
        if not isinstance(default, bool):
            problems.add(f"{flow_path}.default", "wrong_type", "Must be true or false")
            ok = False
        flow_id = problems.text(raw, "id", flow_path, required=False)
        if "id" in raw and flow_id is None:
            ok = False
        flow_id = flow_id or default_flow_id(ends[0], ends[1])
        if flow_id in seen:
            where = f"{flow_path}.id" if "id" in raw else flow_path
            problems.add(
                where,
                "duplicate_id",
                f"Another flow already has the id '{flow_id}'"
                + ("" if "id" in raw else "; give one of them an id"),
            )
            ok = False
        seen.add(flow_id)
        if ok:
            flows.append(
                Flow(
                    id=flow_id,
                    source=ends[0],
                    target=ends[1],
                    condition=condition,
                    default=default is True,
                )
            )
            flow_paths.append(flow_path)
    return flows, flow_paths


def _check_graph(
    nodes: Mapping[str, Node],
    node_paths: Mapping[str, str],
    flows: list[Flow],
    flow_paths: list[str],
    path: str,
    problems: _Problems,
    *,
    whole: bool,
) -> None:
    """Checks of the graph; those of connectivity only when no node or flow was dropped."""
    starts = [node for node in nodes.values() if node.type == "start" and not node.scope]
    if not starts:
        problems.add(f"{path}.nodes", "no_start", "A process needs exactly one start node")
    for extra in starts[1:]:
        problems.add(
            f"{node_paths[extra.id]}.type",
            "multiple_starts",
            "A process has exactly one start node",
        )
    if not any(node.type in END_TYPES for node in nodes.values()):
        problems.add(f"{path}.nodes", "no_end", "A process needs at least one end node")

    outgoing: dict[str, list[Flow]] = {node_id: [] for node_id in nodes}
    incoming: dict[str, list[Flow]] = {node_id: [] for node_id in nodes}
    flow_path_by_id: dict[str, str] = {}
    for flow, flow_path in zip(flows, flow_paths, strict=True):
        outgoing[flow.source].append(flow)
        incoming[flow.target].append(flow)
        flow_path_by_id[flow.id] = flow_path
        source_type = nodes[flow.source].type
        if nodes[flow.target].type == "start":
            problems.add(
                f"{flow_path}.to", "start_has_incoming", "No flow may lead into the start node"
            )
        if source_type in END_TYPES:
            problems.add(f"{flow_path}.from", "end_has_outgoing", "No flow may leave an end node")
        if source_type not in ("exclusive_gateway", "inclusive_gateway"):
            if flow.condition is not None:
                problems.add(
                    f"{flow_path}.condition",
                    "condition_not_allowed",
                    "Only flows leaving an exclusive or inclusive gateway have conditions",
                )
            if flow.default:
                problems.add(
                    f"{flow_path}.default",
                    "default_not_allowed",
                    "Only flows leaving an exclusive or inclusive gateway can be the default",
                )
        elif flow.default and flow.condition is not None:
            problems.add(
                f"{flow_path}.condition",
                "default_with_condition",
                "The default flow is taken when no condition holds; it has none",
            )

    for node_id, node in nodes.items():
        node_path = node_paths[node_id]
        exits = outgoing[node_id]
        if whole and node.type not in END_TYPES and not exits and node.type != "boundary_timer":
            problems.add(node_path, "no_outgoing", f"Node '{node_id}' needs an outgoing flow")
        if node.type in ("start", "user_task", "cc", "service_task") and len(exits) > 1:
            problems.add(
                node_path,
                "too_many_outgoing",
                f"A {node.type.replace('_', ' ')} has exactly one outgoing flow; "
                "branch with a gateway",
            )
        if node.type == "exclusive_gateway":
            defaults = [flow for flow in exits if flow.default]
            for extra_default in defaults[1:]:
                problems.add(
                    f"{flow_path_by_id[extra_default.id]}.default",
                    "multiple_defaults",
                    f"Exclusive gateway '{node_id}' can have only one default flow",
                )
            if len(exits) > 1:
                for flow in exits:
                    if flow.condition is None and not flow.default:
                        problems.add(
                            flow_path_by_id[flow.id],
                            "condition_required",
                            f"Each flow leaving exclusive gateway '{node_id}' needs "
                            "a condition, except one default flow",
                        )

    check_control(nodes, node_paths, flows, flow_paths, problems.add)  # ADR 0022
    check_event_gateways(nodes, node_paths, flows, flow_paths, problems.add)  # ADR 0035
    check_timers(nodes, node_paths, {k: len(v) for k, v in outgoing.items()}, problems.add)
    if not starts or not whole:
        return
    reached = _closure([starts[0].id], outgoing, lambda flow: flow.target)
    ends = [node_id for node_id, node in nodes.items() if node.type == "end"]
    finishing = _closure(ends, incoming, lambda flow: flow.source)
    if any(n.type in CONTROL_TYPES or n.type in BOUNDARY_TYPES for n in nodes.values()):
        reached, ends, finishing = control_closures(nodes, outgoing, starts[0].id)
    for node_id, node in nodes.items():
        if node.type == "start":  # a second start is reported as such
            continue
        if node_id not in reached:
            problems.add(
                node_paths[node_id],
                "unreachable",
                f"Node '{node_id}' cannot be reached from the start",
            )
        elif ends and node_id not in finishing and not quiet_boundary(node, len(outgoing[node_id])):
            problems.add(
                node_paths[node_id],
                "cannot_reach_end",
                f"No path leads from node '{node_id}' to an end node",
            )
    for node_id in _automatic_cycle(nodes, outgoing, incoming):
        problems.add(
            node_paths[node_id],
            "automatic_cycle",
            f"Node '{node_id}' lies on a loop of gateways with no user task; "
            "a ticket would loop forever",
        )


def _closure(
    roots: list[str], links: Mapping[str, list[Flow]], follow: Callable[[Flow], str]
) -> set[str]:
    """Every node reachable from `roots` by walking `links` to `follow(flow)`."""
    seen = set(roots)
    todo = list(roots)
    while todo:
        for flow in links[todo.pop()]:
            nxt = follow(flow)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _automatic_cycle(
    nodes: Mapping[str, Node],
    outgoing: Mapping[str, list[Flow]],
    incoming: Mapping[str, list[Flow]],
) -> list[str]:
    """Nodes on (or between) loops made only of automatic nodes, first one per loop set.

    Peels off automatic nodes with no automatic predecessor or no automatic
    successor until nothing changes; whatever remains lies on such a loop.
    """
    auto = {
        node_id
        for node_id, node in nodes.items()
        if node.type not in ("user_task", "timer_catch", "message_catch", "call_activity")
    }
    changed = True
    while changed:
        changed = False
        for node_id in list(auto):
            has_in = any(flow.source in auto for flow in incoming[node_id])
            has_out = any(flow.target in auto for flow in outgoing[node_id])
            if not (has_in and has_out):
                auto.discard(node_id)
                changed = True
    return [node_id for node_id in nodes if node_id in auto][:1]
