"""BPMN for timers and messages (ADR 0023): boundary timers (cancelActivity), timer and
message catch events and receive tasks import from a modeler's file, export and re-import
to the same spec, and what flowdesk cannot run is refused by element id."""

from __future__ import annotations

import pytest
from test_bpmn_write import round_trip

from flowdesk.engines.process import parse_process
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.kernel.errors import DefinitionInvalid

SLA = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "handle", "type": "user_task", "assignee": {"kind": "user", "user": "bob"}},
        {
            "id": "remind",
            "type": "boundary_timer",
            "attached_to": "handle",
            "interrupting": False,
            "timer": {
                "after": "PT1H30M",
                "working": True,
                "action": "remind",
                "repeat": 2,
                "every": "PT1H",
            },
        },
        {
            "id": "escalate",
            "type": "boundary_timer",
            "attached_to": "handle",
            "interrupting": False,
            "timer": {
                "after": "PT2H",
                "action": "escalate",
                "to": {"kind": "previous_approver_manager"},
            },
        },
        {
            "id": "give_up",
            "type": "boundary_timer",
            "attached_to": "handle",
            "timer": {"after": "P5D", "working": True, "action": "reject"},
        },
        {"id": "cool_off", "type": "timer_catch", "timer": {"at": "2027-01-04T09:00:00+08:00"}},
        {
            "id": "paid",
            "type": "message_catch",
            "message": {"name": "payment_received", "key": "order_no"},
        },
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "handle"},
        {"from": "handle", "to": "cool_off"},
        {"from": "cool_off", "to": "paid"},
        {"from": "paid", "to": "end"},
    ],
}

MODELER = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:fd="https://flowdesk.dev/schema/bpmn" id="d" targetNamespace="x">
  <message id="Msg_Paid" name="payment_received" />
  <process id="p" isExecutable="true">
    <startEvent id="Start" />
    <userTask id="Handle" name="Handle" />
    <boundaryEvent id="Remind" attachedToRef="Handle" cancelActivity="false">
      <extensionElements>
        <fd:option key="timer">{"action": "remind", "working": true}</fd:option>
      </extensionElements>
      <timerEventDefinition>
        <timeCycle xsi:type="tFormalExpression">R3/PT1H</timeCycle>
      </timerEventDefinition>
    </boundaryEvent>
    <boundaryEvent id="Late" attachedToRef="Handle">
      <outgoing>Flow_Late</outgoing>
      <timerEventDefinition><timeDuration>P2D</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <userTask id="Deputy" name="Deputy" />
    <intermediateCatchEvent id="Wait">
      <timerEventDefinition><timeDuration>PT4H</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <receiveTask id="Receive" messageRef="Msg_Paid">
      <extensionElements>
        <fd:option key="message">{"key": "order_no"}</fd:option>
      </extensionElements>
    </receiveTask>
    <endEvent id="End" />
    <sequenceFlow id="f1" sourceRef="Start" targetRef="Handle" />
    <sequenceFlow id="f2" sourceRef="Handle" targetRef="Wait" />
    <sequenceFlow id="Flow_Late" sourceRef="Late" targetRef="Deputy" />
    <sequenceFlow id="f4" sourceRef="Deputy" targetRef="Wait" />
    <sequenceFlow id="f5" sourceRef="Wait" targetRef="Receive" />
    <sequenceFlow id="f6" sourceRef="Receive" targetRef="End" />
  </process>
</definitions>
"""


def test_timers_and_messages_round_trip_to_the_same_spec() -> None:
    spec = parse_process(SLA)
    xml = write_bpmn(spec)
    assert "timerEventDefinition" in xml and 'cancelActivity="false"' in xml
    assert "R3/PT1H" not in xml  # after and every differ: a duration, the rest in the option
    assert '<bpmn:message id="Message_payment_received" name="payment_received"' in xml
    again, diagram = round_trip(spec)
    assert again == spec
    assert round_trip(again, diagram) == (again, diagram)


def test_a_modelers_timers_and_receive_task_import() -> None:
    spec = read_bpmn(MODELER).spec()
    nodes = spec.nodes
    remind = nodes["Remind"]
    assert remind.type == "boundary_timer" and not remind.interrupting
    assert remind.timer is not None
    assert (remind.timer.after, remind.timer.repeat, remind.timer.action) == ("PT1H", 2, "remind")
    assert remind.timer.working
    late = nodes["Late"]
    assert late.interrupting and late.timer is not None and late.timer.action == ""
    assert nodes["Wait"].type == "timer_catch"
    receive = nodes["Receive"]
    assert receive.type == "message_catch" and receive.message is not None
    assert (receive.message.name, receive.message.key) == ("payment_received", "order_no")
    again = read_bpmn(write_bpmn(spec)).spec()
    assert again == spec


def test_what_flowdesk_cannot_run_is_refused_by_element_id() -> None:
    text = MODELER.replace(
        "<timeDuration>PT4H</timeDuration>", "<timeDuration>=later</timeDuration>"
    )
    text = text.replace('<fd:option key="message">{"key": "order_no"}</fd:option>', "")
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    found = {(e.path, e.code) for e in caught.value.errors}
    assert ("bpmn[Wait]", "unsupported_timer") in found
    assert ("bpmn[Receive]", "message_key_required") in found


def test_a_boundary_event_with_two_definitions_is_refused() -> None:
    text = MODELER.replace(
        "<timeDuration>P2D</timeDuration>", "<timeDuration>P2D</timeDuration><x/>"
    ).replace(
        '<boundaryEvent id="Late" attachedToRef="Handle">',
        '<boundaryEvent id="Late" attachedToRef="Handle">'
        '<messageEventDefinition messageRef="Msg_Paid" />',
    )
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    assert any(e.path == "bpmn[Late]" for e in caught.value.errors)


def test_the_complaint_template_round_trips_through_bpmn() -> None:
    from flowdesk.engines.apps import load_bundled_template

    spec = load_bundled_template("complaint").process
    again, _ = round_trip(spec)
    assert again == spec
    assert {n.id for n in again.nodes.values() if n.type == "boundary_timer"} == {
        "remind_handler",
        "escalate_to_manager",
        "back_to_applicant",
    }
