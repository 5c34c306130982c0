"""An app with CC nodes (抄送节点) for the CC tests: the loan form, then
start → copy_start (CC) → review → copy_mid (CC) → final → end."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from approval_apps import Step, line_app, yaml_of
from flowdesk.services import apps, org
from flowdesk.services.context import ServiceContext

START_COPIES = ("luo.xin", "song.jie")
EMPTY_ROLE = "cc_nobody"


def cc_definition(key: str = "memo", *, mid_rule: dict[str, Any] | None = None) -> dict[str, Any]:
    definition = line_app(
        key,
        (
            Step("review", ("wang.fang",), name={"en": "Review", "zh": "法务审查"}),
            Step("final", ("chen.jing",), name={"en": "Final", "zh": "终审"}),
        ),
        name={"en": "Memo", "zh": "备忘"},
        serial_prefix="BW",
    )
    nodes = definition["process"]["nodes"]
    nodes.insert(
        1,
        {
            "id": "copy_start",
            "type": "cc",
            "name": {"en": "Copy the team", "zh": "抄送团队"},
            "assignee": {"kind": "users", "users": list(START_COPIES)},
        },
    )
    nodes.insert(
        3,
        {
            "id": "copy_mid",
            "type": "cc",
            "name": {"en": "Copy the risk head", "zh": "抄送风控"},
            "assignee": mid_rule or {"kind": "department_head", "department": "risk"},
        },
    )
    ids = [n["id"] for n in nodes]
    definition["process"]["flows"] = [{"from": a, "to": b} for a, b in pairwise(ids)]
    return definition


def publish_cc_app(ctx: ServiceContext, key: str = "memo", **kw: Any) -> None:
    org.ensure_role(ctx, key=EMPTY_ROLE, name_en="Nobody", name_zh="无人")
    apps.publish_yaml(ctx, yaml_of(cc_definition(key, **kw)))


def memo_values() -> dict[str, object]:
    """Valid values of the memo's (the loan template's) form."""
    return {
        "applicant_name": "张三",
        "amount": "120000.00",
        "term_months": 36,
        "credit_rating": "A",
        "region": "north",
        "purpose": "Working capital for a bakery",
    }
