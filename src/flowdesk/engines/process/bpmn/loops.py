"""BPMN multi-instance user tasks read as flowdesk approval modes, where the meaning is plain.

A multi-instance user task is how Camunda, Flowable and Activiti users draw 会签 and
或签. flowdesk's approvers come from the task's assignee rule (a role, a list of users),
not from a collection variable, so only the shape is read:

- sequential (`isSequential="true"`), no completion condition: 依次审批 (`sequential`);
- parallel, no completion condition: 会签 (`all`: every approver approves);
- a completion condition on the count of completed instances: `>= 1` or `== 1` is 或签
  (`any`, the first decision wins); `>= N` a vote passing at N approvals; a share of
  `nrOfInstances` (`nrOfCompletedInstances / nrOfInstances >= 0.6`) a vote passing at
  that percentage.

Anything else (a loop cardinality, another completion condition) is not guessed at:
the caller refuses the task by its id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from .conditions import convert
from .namespaces import q

_COUNT = re.compile(r"\A\(?\s*nrOfCompletedInstances\s*\)?\s*(>=|==|=)\s*(\d{1,4})\s*\Z")
_SHARE = re.compile(
    r"\A\(?\s*nrOfCompletedInstances\s*/\s*nrOfInstances\s*\)?\s*>=\s*(0?\.\d{1,4}|1(?:\.0+)?)\s*\Z"
)


@dataclass(frozen=True, slots=True)
class LoopReading:
    """The approval the loop means, or None with the reason it cannot be read."""

    approval: dict[str, object] | None
    explanation: str


def read_loop(loop: Element, model: str) -> LoopReading:
    sequential = loop.get("isSequential", "").strip() == "true"
    if loop.find(q(model, "loopCardinality")) is not None:
        return LoopReading(
            None, "a loop cardinality (flowdesk takes the approvers from the assignee rule)"
        )
    condition = loop.find(q(model, "completionCondition"))
    text = convert("".join(condition.itertext())).text if condition is not None else None
    if text is None:
        if sequential:
            return LoopReading({"mode": "sequential"}, "sequential: 依次审批 (sequential)")
        return LoopReading({"mode": "all"}, "parallel: 会签 (all must approve)")
    if sequential:
        return LoopReading(None, "a sequential loop with a completion condition")
    count = _COUNT.match(text)
    if count:
        number = int(count.group(2))
        if number == 1:
            return LoopReading({"mode": "any"}, "one completion ends it: 或签 (any)")
        if number >= 1:
            return LoopReading(
                {"mode": "vote", "pass_count": number}, f"a vote passing at {number} approvals"
            )
    share = _SHARE.match(text)
    if share:
        percent = round(float(share.group(1)) * 100)
        if 1 <= percent <= 100:
            return LoopReading(
                {"mode": "vote", "pass_percent": percent},
                f"a vote passing at {percent}% of approvers",
            )
    return LoopReading(None, f"the completion condition {text[:80]!r}")
