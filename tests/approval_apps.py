"""Apps for approval tests: the loan template's form with a straight line of user tasks,
each naming its approvers and mode, published as YAML as a business admin would."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import yaml

from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps

REVIEWERS = ("wang.fang", "liu.yang", "ma.li")
DEPUTIES = ("chen.jing", "yang.guang")


@dataclass(frozen=True)
class Step:
    node_id: str
    users: tuple[str, ...]
    mode: str = "single"
    name: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # more node settings, as in YAML


# 会签 of three reviewers, then 或签 of two deputy heads (issue 8's contract review).
CONTRACT_STEPS = (
    Step("review", REVIEWERS, "all", {"en": "Review", "zh": "会签审查"}),
    Step("deputies", DEPUTIES, "any", {"en": "Deputy head", "zh": "副行长审批"}),
)


def line_app(key: str, steps: tuple[Step, ...], **top: Any) -> dict[str, Any]:
    """The app's definition as a dict, for a test to adjust before `yaml_of`."""
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    definition.pop("serial_prefix")  # the key in capitals unless given: prefixes are unique
    definition.update({"key": key, **top})
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    for s in steps:
        node: dict[str, Any] = {
            "id": s.node_id,
            "type": "user_task",
            "assignee": {"kind": "users", "users": list(s.users)},
            "approval": {"mode": s.mode},
            **s.extra,
        }
        if s.name:
            node["name"] = s.name
        nodes.append(node)
    nodes.append({"id": "end", "type": "end"})
    ids = [n["id"] for n in nodes]
    definition["process"] = {
        "nodes": nodes,
        "flows": [{"from": a, "to": b} for a, b in pairwise(ids)],
    }
    return definition


def yaml_of(definition: dict[str, Any]) -> str:
    return yaml.safe_dump(definition, allow_unicode=True)
