"""CC nodes (抄送) in BPMN: written as a <sendTask> marked flowdesk:option type "cc",
read back to the same node that behaves the same; any other send task stays refused."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from process_fakes import FakeContext

from flowdesk.engines.process import CopiesSent, Start, parse_process, step
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.kernel.errors import FlowdeskError

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPEC = parse_process(
    {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "copy",
                "type": "cc",
                "name": {"en": "Copy finance", "zh": "抄送财务"},
                "assignee": {"kind": "role", "role": "finance_reviewer"},
            },
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "copy"},
            {"from": "copy", "to": "review"},
            {"from": "review", "to": "end"},
        ],
    }
)


def test_a_cc_node_is_a_marked_send_task_and_round_trips() -> None:
    xml = write_bpmn(SPEC, process_id="memo")
    root = ET.fromstring(xml.encode())
    (task,) = root.iter(f"{{{MODEL}}}sendTask")
    assert task.get("id") == "copy" and task.get("name") == "抄送财务"
    imported = read_bpmn(xml)
    assert imported.warnings == ()
    again = imported.spec()
    assert again == SPEC
    # re-imported, it behaves the same: copies at the start, then the review's task
    ours = step(SPEC, None, Start("alice"), FakeContext())
    theirs = step(again, None, Start("alice"), FakeContext())
    assert ours.effects == theirs.effects
    assert CopiesSent("copy", ("frank", "fiona")) in theirs.effects


def test_a_plain_send_task_is_still_refused() -> None:
    xml = write_bpmn(SPEC, process_id="memo").replace('"cc"', '"user_task"', 1)
    # the marker now says user_task: not ours to run as a CC node, and a send task
    with pytest.raises(FlowdeskError) as refused:
        read_bpmn(xml).spec()
    assert "unsupported_element" in [e.code for e in refused.value.errors]
