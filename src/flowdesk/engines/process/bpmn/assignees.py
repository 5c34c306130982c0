"""Vendor assignee notations mapped to flowdesk rules, only where the meaning is plain.

Camunda 7 / Flowable / Activiti put `assignee`, `candidateUsers` and `candidateGroups`
attributes on the userTask; Camunda 8 (Zeebe) puts the same three on a
`zeebe:assignmentDefinition` extension element; plain BPMN has `humanPerformer` and
`potentialOwner` with a formal expression. One plain user becomes a `user` rule and one
plain group a `role` rule; expressions (`${initiator}`, `=owner`), lists of several
names and mixtures are not guessed at: the caller warns and falls back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from .namespaces import JUEL_ENGINES, ZEEBE, q, split

_PLAIN_NAME = re.compile(r"[\w.@\-]{1,100}")
_OWNER_CALL = re.compile(r"\A\s*(user|group)\s*\(\s*([\w.@\-]{1,100})\s*\)\s*\Z")
NOTATION_ATTRIBUTES = ("assignee", "candidateUsers", "candidateGroups")


@dataclass(frozen=True, slots=True)
class Notation:
    """What the file says about the task's assignee, and whether it maps to a rule."""

    rule: dict[str, object] | None
    described: str  # e.g. 'camunda:assignee="li.na"', for the warning


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _plain(value: str) -> bool:
    return bool(_PLAIN_NAME.fullmatch(value))


def _from_three(prefix: str, values: dict[str, str]) -> Notation:
    described = " ".join(f'{prefix}:{key}="{value}"' for key, value in values.items())
    users = _names(values.get("candidateUsers", ""))
    groups = _names(values.get("candidateGroups", ""))
    assignee = values.get("assignee", "").strip()
    rule: dict[str, object] | None = None
    if assignee and not users and not groups and _plain(assignee):
        rule = {"kind": "user", "user": assignee}
    elif not assignee and len(users) == 1 and not groups and _plain(users[0]):
        rule = {"kind": "user", "user": users[0]}
    elif not assignee and not users and len(groups) == 1 and _plain(groups[0]):
        rule = {"kind": "role", "role": groups[0]}
    return Notation(rule, described)


def vendor_notation(task: Element, model: str) -> Notation | None:
    """The task's vendor assignee notation, if it has one (mapped or not)."""
    for uri in JUEL_ENGINES:
        values = {
            key: task.get(q(uri, key), "") for key in NOTATION_ATTRIBUTES if task.get(q(uri, key))
        }
        if values:
            return _from_three(_prefix(uri), values)
    extensions = task.find(q(model, "extensionElements"))
    if extensions is not None:
        definition = extensions.find(q(ZEEBE, "assignmentDefinition"))
        if definition is not None:
            values = {key: definition.get(key, "") for key in NOTATION_ATTRIBUTES}
            return _from_three("zeebe", {k: v for k, v in values.items() if v})
    for child in task:
        uri, local = split(child.tag)
        if uri != model or local not in ("humanPerformer", "performer", "potentialOwner"):
            continue
        expression = child.find(f"{q(model, 'resourceAssignmentExpression')}/*")
        text = (expression.text or "").strip() if expression is not None else ""
        described = f"{local} {text!r}" if text else local
        call = _OWNER_CALL.match(text)
        if call:
            kind = "user" if call.group(1) == "user" else "role"
            return Notation({"kind": kind, kind: call.group(2)}, described)
        if local == "humanPerformer" and _plain(text):
            return Notation({"kind": "user", "user": text}, described)
        return Notation(None, described)
    return None


def consumed_attributes() -> set[str]:
    """The vendor attributes read here, so they are not warned about as ignored."""
    return {q(uri, key) for uri in JUEL_ENGINES for key in NOTATION_ATTRIBUTES}


def _prefix(uri: str) -> str:
    return {
        "http://camunda.org/schema/1.0/bpmn": "camunda",
        "http://flowable.org/bpmn": "flowable",
        "http://activiti.org/bpmn": "activiti",
    }.get(uri, uri)
