"""Timers and message waits as a definition holds them (ADR 0023): parsed and checked here,
run by timers.py.

    - id: remind_handler                 # a boundary timer on a user task
      type: boundary_timer
      attached_to: handle
      interrupting: false
      timer: {after: PT1H30M, working: true, action: remind, repeat: 2, every: PT1H}
    - id: escalate_handler
      type: boundary_timer
      attached_to: handle
      interrupting: false
      timer: {after: PT2H, working: true, action: escalate,
              to: {kind: previous_approver_manager}}
    - id: wait_two_days                  # an intermediate timer catch event
      type: timer_catch
      timer: {after: P2D}                # or {at: "2027-01-04T09:00:00+08:00"}
    - id: wait_payment                   # a message catch event / receive task
      type: message_catch
      message: {name: payment_received, key: order_no}

`after` is an ISO 8601 duration in calendar time, or in working time with `working: true`
(the business calendar's hours and holidays: working days `P2D`, or working time `PT4H`,
never both). The engine keeps the text; the service turns it into a UTC due time with the
calendar when it writes the timer's row. An escalation's `to` is an assignee rule
resolved when the timer fires, with the task's holder as the "previous approver", so
`previous_approver_manager` names the holder's manager.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .spec import AssigneeRule

AddProblem = Callable[[str, str, str], None]
ParseRule = Callable[[object, str], "AssigneeRule | None"]

TimerAction = Literal["", "remind", "escalate", "approve", "reject", "return"]
# "": no action of its own, the token leaves by the boundary's outgoing flow (BPMN's plain
# boundary timer); the others act on the task it is attached to
TIMER_ACTIONS: tuple[TimerAction, ...] = ("", "remind", "escalate", "approve", "reject", "return")
DECIDING_ACTIONS = frozenset({"approve", "reject", "return"})  # they end the task: interrupting
NOTICE_ACTIONS = frozenset({"remind", "escalate"})  # the task stays: non-interrupting
MAX_REPEAT = 100
MESSAGE_TYPES = frozenset({"message_catch", "boundary_message"})  # ADR 0023, 0035
# a process's start may name the message that files a ticket (ADR 0035): its `key` is the
# form field the message's key is written into
MESSAGE_ALLOWED = MESSAGE_TYPES | {"start"}
MAX_MESSAGE_NAME = 100
_TIMER_KEYS = frozenset({"after", "at", "working", "action", "repeat", "every", "to"})
_MESSAGE_KEYS = frozenset({"name", "key"})
_ISO = re.compile(
    r"P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_CYCLE = re.compile(r"R(?P<count>\d+)/(?P<interval>P.+)")
_NAME = re.compile(r"[A-Za-z_][\w.\-:]*")


@dataclass(frozen=True, slots=True)
class Delay:
    """An ISO 8601 duration of days and time (no years, months or weeks: they have no
    fixed length in working time)."""

    days: int = 0
    seconds: int = 0

    @property
    def mixed(self) -> bool:
        return bool(self.days and self.seconds)

    def as_timedelta(self) -> timedelta:
        return timedelta(days=self.days, seconds=self.seconds)


def parse_delay(text: object) -> Delay | None:
    """`PT4H`, `P2D`, `PT1H30M` → a Delay; None for anything else (or zero)."""
    if not isinstance(text, str):
        return None
    stripped = text.strip().upper()
    match = _ISO.fullmatch(stripped)
    if match is None or stripped in ("P", "PT") or stripped.endswith("T"):
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    if not parts:
        return None
    delay = Delay(
        parts.get("days", 0),
        parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60 + parts.get("seconds", 0),
    )
    return delay if delay.days or delay.seconds else None


def parse_cycle(text: object) -> tuple[int, str] | None:
    """BPMN's timeCycle `R3/PT1H` → (3 fires, "PT1H"); None for another form."""
    if not isinstance(text, str):
        return None
    match = _CYCLE.fullmatch(text.strip().upper())
    if match is None or parse_delay(match["interval"]) is None or int(match["count"]) < 1:
        return None
    return int(match["count"]), match["interval"]


def parse_instant(text: object) -> datetime | None:
    """An ISO 8601 instant with its offset (a timer's `at`, BPMN's timeDate)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class Timer:
    """When a timer fires and, on a boundary, what it does. `after` (a duration) or `at`
    (an instant); `repeat` further fires `every` (default: `after`) for a
    non-interrupting boundary; `to` the people an escalation adds."""

    after: str = ""
    at: str = ""
    working: bool = False
    action: TimerAction = ""
    repeat: int = 0
    every: str = ""
    to: AssigneeRule | None = None

    def delay(self, fire: int) -> str:
        """The duration before fire number `fire` (1 is the first), from the one before."""
        return self.after if fire <= 1 or not self.every else self.every

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {}
        if self.after:
            data["after"] = self.after
        if self.at:
            data["at"] = self.at
        if self.working:
            data["working"] = True
        if self.action:
            data["action"] = self.action
        if self.repeat:
            data["repeat"] = self.repeat
        if self.every:
            data["every"] = self.every
        if self.to is not None:
            data["to"] = self.to.to_dict()
        return data


@dataclass(frozen=True, slots=True)
class MessageWait:
    """A message catch event or receive task: resumed by message `name` whose key equals
    the value of form field `key` when the token arrived."""

    name: str
    key: str

    def to_dict(self) -> dict[str, object]:
        if not self.key:  # a message start that keeps no key (ADR 0035)
            return {"name": self.name}
        return {"name": self.name, "key": self.key}


def parse_timer(
    raw: Mapping[str, object],
    node_type: str | None,
    path: str,
    add: AddProblem,
    parse_rule: ParseRule,
) -> Timer | None:
    """A boundary_timer's or timer_catch's `timer`: required there, refused elsewhere."""
    has_timer = node_type in ("boundary_timer", "timer_catch")
    if "timer" not in raw:
        if has_timer:
            add(f"{path}.timer", "required", "A timer event says when it fires")
        return None
    if node_type is not None and not has_timer:
        add(f"{path}.timer", "timer_not_allowed", "Only timer events have a timer")
        return None
    value = raw["timer"]
    at = f"{path}.timer"
    if not isinstance(value, Mapping):
        add(at, "wrong_type", "timer is a mapping: {after: PT4H} or {at: <instant>}")
        return None
    problems: list[tuple[str, str, str]] = []

    def note(where: str, code: str, message: str) -> None:
        problems.append((where, code, message))

    for key in value:
        if key not in _TIMER_KEYS:
            note(f"{at}.{key}", "unknown_key", f"Expected one of: {', '.join(sorted(_TIMER_KEYS))}")
    after = value.get("after", "")
    instant = value.get("at", "")
    working = value.get("working", False)
    if not isinstance(working, bool):
        note(f"{at}.working", "wrong_type", "true (working time) or false (calendar time)")
        working = False
    if bool(after) == bool(instant):
        note(at, "timer_when", "Give either after (a duration) or at (an instant)")
    delay = None
    if after:
        delay = parse_delay(after)
        if delay is None:
            note(
                f"{at}.after",
                "duration_invalid",
                "Write an ISO 8601 duration of days or time, e.g. PT4H, PT1H30M or P2D",
            )
        elif working and delay.mixed:
            note(
                f"{at}.after",
                "duration_mixed",
                "In working time give either working days (P2D) or working time (PT4H), not both",
            )
    if instant and parse_instant(instant) is None:
        note(f"{at}.at", "instant_invalid", "An ISO 8601 instant with its offset")
    action = value.get("action", "")
    if action not in TIMER_ACTIONS:
        note(f"{at}.action", "invalid_choice", "remind, escalate, approve, reject or return")
        action = ""
    elif action and node_type == "timer_catch":
        note(f"{at}.action", "action_not_allowed", "Only a boundary timer acts on a task")
        action = ""
    repeat = value.get("repeat", 0)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 0 <= repeat <= MAX_REPEAT:
        note(f"{at}.repeat", "wrong_type", f"A whole number from 0 to {MAX_REPEAT}")
        repeat = 0
    every = value.get("every", "")
    if every:
        every_delay = parse_delay(every)
        if every_delay is None:
            note(f"{at}.every", "duration_invalid", "An ISO 8601 duration, e.g. PT1H")
        elif working and every_delay.mixed:
            note(f"{at}.every", "duration_mixed", "Working days or working time, not both")
        if not repeat:
            note(f"{at}.every", "every_without_repeat", "every is the interval of repeats")
    if (repeat or every) and node_type == "timer_catch":
        note(f"{at}.repeat", "repeat_not_allowed", "Only a boundary timer repeats")
    to: AssigneeRule | None = None
    if "to" in value:
        if action != "escalate":
            note(f"{at}.to", "to_not_allowed", "Only an escalation names whom it adds")
        else:
            to = parse_rule(value["to"], f"{at}.to")
            if to is None:  # parse_rule said why
                problems.append((f"{at}.to", "", ""))
    elif action == "escalate":
        note(f"{at}.to", "required", "An escalation names whom it adds (an assignee rule)")
    for problem in problems:
        if problem[1]:
            add(*problem)
    if problems:
        return None
    return Timer(
        after=str(after).strip().upper() if after else "",
        at=str(instant).strip() if instant else "",
        working=working,
        action=action,
        repeat=repeat,
        every=str(every).strip().upper() if every else "",
        to=to,
    )


def parse_message(
    raw: Mapping[str, object], node_type: str | None, path: str, add: AddProblem
) -> MessageWait | None:
    if "message" not in raw:
        if node_type in MESSAGE_TYPES:
            add(f"{path}.message", "required", "A message event names its message and key")
        return None
    if node_type is not None and node_type not in MESSAGE_ALLOWED:
        add(f"{path}.message", "message_not_allowed", "Only message events wait for one")
        return None
    value = raw["message"]
    at = f"{path}.message"
    if not isinstance(value, Mapping):
        add(at, "wrong_type", "message is {name: <message name>, key: <form field>}")
        return None
    for key in value:
        if key not in _MESSAGE_KEYS:
            add(f"{at}.{key}", "unknown_key", "Expected name or key")
    name, key = value.get("name"), value.get("key")
    ok = True
    if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > MAX_MESSAGE_NAME:
        add(f"{at}.name", "invalid_name", "A message name: letters, digits, _ . - :")
        ok = False
    if node_type == "start" and key is None:
        key = ""  # a message start without a key field: the message's key is not kept
    elif not isinstance(key, str) or not key.strip():
        add(f"{at}.key", "required", "The form field whose value the message's key matches")
        ok = False
    if not ok:
        return None
    assert isinstance(name, str) and isinstance(key, str)
    return MessageWait(name, key.strip())


def check_timers(
    nodes: Mapping[str, object],
    node_paths: Mapping[str, str],
    exits: Mapping[str, int],
    add: AddProblem,
) -> None:
    """A boundary timer's action fits the way it is attached: one that decides the task
    (approve, reject, return) interrupts it and has no outgoing flow (the decision says
    where the ticket goes); one that notifies (remind, escalate) leaves the task open and
    may start a token on its outgoing flow; one without an action leaves by its one
    outgoing flow. Only a non-interrupting timer repeats."""
    for node_id, node in nodes.items():
        if getattr(node, "type", "") != "boundary_timer":
            continue
        timer: Timer | None = getattr(node, "timer", None)
        if timer is None:
            continue
        path = node_paths[node_id]
        interrupting = bool(getattr(node, "interrupting", True))
        count = exits.get(node_id, 0)
        if timer.action in DECIDING_ACTIONS:
            if not interrupting:
                add(
                    f"{path}.interrupting",
                    "timer_action_interrupts",
                    f"A timer that does '{timer.action}' ends the task: it interrupts",
                )
            if count:
                add(
                    path,
                    "timer_action_has_outgoing",
                    f"A timer that does '{timer.action}' decides where the ticket goes; "
                    "it has no outgoing flow",
                )
        elif timer.action in NOTICE_ACTIONS:
            if interrupting:
                add(
                    f"{path}.interrupting",
                    "timer_action_keeps_task",
                    f"A timer that does '{timer.action}' leaves the task open: interrupting: false",
                )
        elif count != 1:
            add(
                path,
                "no_outgoing",
                "A boundary timer without an action leaves by exactly one outgoing flow",
            )
        if timer.repeat and interrupting:
            add(
                f"{path}.timer.repeat",
                "repeat_interrupting",
                "Only a non-interrupting timer fires again",
            )


def quiet_boundary(node: object, exits: int) -> bool:
    """A boundary timer whose action is all it does (no outgoing flow): it needs no path
    to an end."""
    timer = getattr(node, "timer", None)
    return getattr(node, "type", "") == "boundary_timer" and exits == 0 and timer is not None
