"""Service tasks (webhooks, ADR 0024) in the engine: parsed with every problem at its path,
a secret never in the definition, the call asked for with the values of the moment while
the token passes on, and BPMN out and in (a <serviceTask> with flowdesk's webhook option)
to the same behaviour; a service task without one stays refused."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from process_fakes import FakeContext

from flowdesk.engines.process import Start, WebhookRequested, parse_process, step
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _process(webhook: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hook", "type": "service_task", "name": {"zh": "通知核心"}, "webhook": webhook},
            {"id": "review", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "hook"},
            {"from": "hook", "to": "review"},
            {"from": "review", "to": "end"},
        ],
    }


GOOD = {
    "url": "https://hooks.example.com/loans?source=flowdesk",
    "headers": {"X-Source": "flowdesk"},
    "secret": "core_hook",
    "body": {"amount": "form.amount", "serial": "ticket.serial"},
}


def _problems(webhook: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as invalid:
        parse_process(_process(webhook))
    return [(e.path, e.code) for e in invalid.value.errors]


def test_a_service_task_asks_for_its_call_and_passes_on() -> None:
    spec = parse_process(_process(GOOD))
    result = step(spec, None, Start("alice", {"amount": "10.00"}), FakeContext())
    requested = [e for e in result.effects if isinstance(e, WebhookRequested)]
    assert [(e.node_id, e.form) for e in requested] == [("hook", (("amount", "10.00"),))]
    assert [t.node_id for t in result.state.tasks.values()] == ["review"]
    assert parse_process(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("webhook", "expected"),
    [
        ("https://x", [("process.nodes[1].webhook", "wrong_type")]),
        ({}, [("process.nodes[1].webhook.url", "required")]),
        ({"url": "ftp://files.example.com/x"}, [("process.nodes[1].webhook.url", "invalid_url")]),
        ({"url": "https:///nohost"}, [("process.nodes[1].webhook.url", "invalid_url")]),
        (
            {"url": "https://h.example.com:99999/"},
            [("process.nodes[1].webhook.url", "invalid_url")],
        ),
        (
            {"url": "https://user:pw@h.example.com/"},
            [("process.nodes[1].webhook.url", "secret_in_definition")],
        ),
        (
            {"url": "https://h.example.com/", "headers": {"Authorization": "Bearer abc"}},
            [("process.nodes[1].webhook.headers.Authorization", "secret_in_definition")],
        ),
        (
            {"url": "https://h.example.com/", "headers": {"Idempotency-Key": "x"}},
            [("process.nodes[1].webhook.headers.Idempotency-Key", "reserved_header")],
        ),
        (
            {"url": "https://h.example.com/", "method": "GET", "secret": "has space"},
            [
                ("process.nodes[1].webhook.method", "unsupported_method"),
                ("process.nodes[1].webhook.secret", "invalid_secret_name"),
            ],
        ),
        (
            {"url": "https://h.example.com/", "body": {"a": "values.amount", "b": "ticket.owner"}},
            [
                ("process.nodes[1].webhook.body.a", "invalid_body_value"),
                ("process.nodes[1].webhook.body.b", "invalid_body_value"),
            ],
        ),
        (
            {"url": "https://h.example.com/", "timeout": 3},
            [("process.nodes[1].webhook.timeout", "unknown_key")],
        ),
    ],
)
def test_every_problem_is_named_at_its_path(webhook: Any, expected: list[tuple[str, str]]) -> None:
    assert _problems(webhook) == expected


def test_only_service_tasks_call_and_they_must() -> None:
    process = _process(GOOD)
    process["nodes"][2]["webhook"] = GOOD
    del process["nodes"][1]["webhook"]
    with pytest.raises(DefinitionInvalid) as invalid:
        parse_process(process)
    assert [(e.path, e.code) for e in invalid.value.errors] == [
        ("process.nodes[1].webhook", "required"),
        ("process.nodes[2].webhook", "webhook_not_allowed"),
    ]


def test_a_service_task_is_a_bpmn_service_task_and_round_trips() -> None:
    spec = parse_process(_process(GOOD))
    xml = write_bpmn(spec, process_id="hooked")
    root = ET.fromstring(xml.encode())
    (task,) = root.iter(f"{{{MODEL}}}serviceTask")
    assert task.get("id") == "hook" and task.get("name") == "通知核心"
    imported = read_bpmn(xml)
    assert imported.warnings == ()
    again = imported.spec()
    assert again == spec
    values = {"amount": "99.00"}
    ours = step(spec, None, Start("alice", values), FakeContext())
    theirs = step(again, None, Start("alice", values), FakeContext())
    assert ours.effects == theirs.effects


def test_a_service_task_without_a_webhook_stays_refused() -> None:
    xml = write_bpmn(parse_process(_process(GOOD)), process_id="hooked")
    xml = xml.replace('key="webhook"', 'key="note"', 1)
    with pytest.raises(FlowdeskError) as refused:
        read_bpmn(xml).spec()
    assert "unsupported_element" in [e.code for e in refused.value.errors]
