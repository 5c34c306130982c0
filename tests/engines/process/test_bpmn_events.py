"""BPMN for message boundary events and event-based gateways (ADR 0035): a modeler's
file (Camunda 7 with flowdesk's option, Camunda 8 with zeebe:subscription) imports,
runs, exports and re-imports to the same spec and the same behaviour; what flowdesk
cannot run is refused by element id."""

from __future__ import annotations

import pytest
from process_fakes import FakeContext
from test_bpmn_write import round_trip
from test_process_events import _race, _with_boundary

from flowdesk.engines.process import (
    CompleteTask,
    MessageAwaited,
    ProcessSpec,
    ReceiveMessage,
    Start,
    parse_process,
    step,
)
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.kernel.errors import DefinitionInvalid

CAMUNDA_7 = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:fd="https://flowdesk.dev/schema/bpmn" id="d" targetNamespace="x">
  <bpmn2:message id="Msg_Paid" name="payment_received" />
  <bpmn2:message id="Msg_Stop" name="order_cancelled" />
  <bpmn2:process id="p" isExecutable="true">
    <bpmn2:startEvent id="Start" />
    <bpmn2:userTask id="Handle" name="Handle" camunda:assignee="bob" />
    <bpmn2:boundaryEvent id="Stop" attachedToRef="Handle" cancelActivity="false">
      <bpmn2:extensionElements>
        <fd:option key="message">{"key": "order_no"}</fd:option>
      </bpmn2:extensionElements>
      <bpmn2:messageEventDefinition messageRef="Msg_Stop" />
    </bpmn2:boundaryEvent>
    <bpmn2:userTask id="Refund" name="Refund" camunda:assignee="carol" />
    <bpmn2:eventBasedGateway id="Wait" />
    <bpmn2:intermediateCatchEvent id="Paid">
      <bpmn2:extensionElements>
        <fd:option key="message">{"key": "order_no"}</fd:option>
      </bpmn2:extensionElements>
      <bpmn2:messageEventDefinition messageRef="Msg_Paid" />
    </bpmn2:intermediateCatchEvent>
    <bpmn2:intermediateCatchEvent id="Expired">
      <bpmn2:timerEventDefinition>
        <bpmn2:timeDuration xsi:type="bpmn2:tFormalExpression">P3D</bpmn2:timeDuration>
      </bpmn2:timerEventDefinition>
    </bpmn2:intermediateCatchEvent>
    <bpmn2:endEvent id="End" />
    <bpmn2:sequenceFlow id="f1" sourceRef="Start" targetRef="Handle" />
    <bpmn2:sequenceFlow id="f2" sourceRef="Handle" targetRef="Wait" />
    <bpmn2:sequenceFlow id="f3" sourceRef="Stop" targetRef="Refund" />
    <bpmn2:sequenceFlow id="f4" sourceRef="Refund" targetRef="End" />
    <bpmn2:sequenceFlow id="f5" sourceRef="Wait" targetRef="Paid" />
    <bpmn2:sequenceFlow id="f6" sourceRef="Wait" targetRef="Expired" />
    <bpmn2:sequenceFlow id="f7" sourceRef="Paid" targetRef="End" />
    <bpmn2:sequenceFlow id="f8" sourceRef="Expired" targetRef="End" />
  </bpmn2:process>
</bpmn2:definitions>
"""

CAMUNDA_8 = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:message id="Message_1" name="order_cancelled">
    <bpmn:extensionElements>
      <zeebe:subscription correlationKey="=order_no" />
    </bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:userTask id="Handle">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition assignee="bob" />
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Stop" attachedToRef="Handle">
      <bpmn:messageEventDefinition messageRef="Message_1" />
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="End" />
    <bpmn:endEvent id="Stopped" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Handle" />
    <bpmn:sequenceFlow id="f2" sourceRef="Handle" targetRef="End" />
    <bpmn:sequenceFlow id="f3" sourceRef="Stop" targetRef="Stopped" />
  </bpmn:process>
</bpmn:definitions>
"""


def _waiting_names(spec: ProcessSpec) -> list[tuple[str, str]]:
    """(node, message) the instance listens for after its start, with order_no PO-7."""
    result = step(spec, None, Start("alice", {"order_no": "PO-7"}), FakeContext())
    return [(e.node_id, e.name) for e in result.effects if isinstance(e, MessageAwaited)]


@pytest.mark.parametrize("process", [_race(), _with_boundary(True), _with_boundary(False)])
def test_boundary_messages_and_event_gateways_round_trip_to_the_same_spec(
    process: dict[str, object],
) -> None:
    spec = parse_process(process)
    xml = write_bpmn(spec)
    assert "eventBasedGateway" in xml or "messageEventDefinition" in xml
    again, diagram = round_trip(spec)
    assert again == spec
    assert round_trip(again, diagram) == (again, diagram)


def test_a_camunda_7_file_imports_runs_and_re_imports_to_the_same_behaviour() -> None:
    imported = read_bpmn(CAMUNDA_7)
    spec = imported.spec()
    stop = spec.nodes["Stop"]
    assert (stop.type, stop.attached_to, stop.interrupting) == ("boundary_message", "Handle", False)
    assert stop.message is not None and (stop.message.name, stop.message.key) == (
        "order_cancelled",
        "order_no",
    )
    assert spec.nodes["Wait"].type == "event_gateway"
    assert _waiting_names(spec) == [("Stop", "order_cancelled")]
    again = read_bpmn(write_bpmn(spec)).spec()
    assert again == spec
    ctx = FakeContext()
    state = step(again, None, Start("alice", {"order_no": "PO-7"}), ctx).state
    handle = next(iter(state.tasks))
    state = step(
        again, state, CompleteTask(handle, "bob", "approve", values={"order_no": "X"}), ctx
    ).state
    assert sorted(w.node_id for w in state.waits.values()) == ["Expired", "Paid"]
    done = step(again, state, ReceiveMessage("payment_received", "X"), ctx)
    assert done.state.status == "approved"
    assert not done.state.waits  # the timer after the gateway was cancelled


def test_a_camunda_8_message_correlates_by_its_zeebe_subscription() -> None:
    imported = read_bpmn(CAMUNDA_8)
    spec = imported.spec()
    stop = spec.nodes["Stop"]
    assert stop.type == "boundary_message" and stop.interrupting
    assert stop.message is not None and stop.message.key == "order_no"
    codes = {(w.path, w.code) for w in imported.warnings}
    assert ("bpmn[Stop]", "message_key_from_zeebe") in codes
    assert _waiting_names(spec) == [("Stop", "order_cancelled")]


def test_an_expression_correlation_key_is_not_guessed() -> None:
    text = CAMUNDA_8.replace('correlationKey="=order_no"', 'correlationKey="=order.no + 1"')
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    assert ("bpmn[Stop]", "message_key_required") in {(e.path, e.code) for e in caught.value.errors}


@pytest.mark.parametrize(
    "attributes", ['instantiate="true"', 'eventGatewayType="Parallel"'], ids=["start", "all"]
)
def test_an_instantiating_or_parallel_event_gateway_is_refused(attributes: str) -> None:
    text = CAMUNDA_7.replace(
        '<bpmn2:eventBasedGateway id="Wait" />',
        f'<bpmn2:eventBasedGateway id="Wait" {attributes} />',
    )
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    assert ("bpmn[Wait]", "unsupported_element") in {(e.path, e.code) for e in caught.value.errors}


def test_a_message_boundary_on_a_sub_process_is_refused_at_its_element() -> None:
    text = CAMUNDA_8.replace('attachedToRef="Handle"', 'attachedToRef="Start"')
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    assert any(e.path.startswith("bpmn[Stop]") for e in caught.value.errors)


def _start_file(definition: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:fd="https://flowdesk.dev/schema/bpmn" id="d" targetNamespace="x">
  <bpmn:message id="Msg_Order" name="order_placed" />
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="Start">{definition}</bpmn:startEvent>
    <bpmn:userTask id="Handle"><bpmn:extensionElements>
      <fd:assignee kind="user" user="bob" /></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="End" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Handle" />
    <bpmn:sequenceFlow id="f2" sourceRef="Handle" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_message_start_event_is_read_and_round_trips() -> None:
    spec = read_bpmn(_start_file('<bpmn:messageEventDefinition messageRef="Msg_Order" />')).spec()
    assert spec.start.id == "Start" and spec.start_message == "order_placed"
    assert spec.start.message is not None and spec.start.message.key == ""  # none kept
    again, _ = round_trip(spec)
    assert again == spec and again.start_message == "order_placed"
    keyed = _start_file(
        '<bpmn:extensionElements><fd:option key="message">{"key": "order_no"}</fd:option>'
        '</bpmn:extensionElements><bpmn:messageEventDefinition messageRef="Msg_Order" />'
    )
    spec = read_bpmn(keyed).spec()
    assert spec.start.message is not None and spec.start.message.key == "order_no"
    assert round_trip(spec)[0] == spec


def test_a_timer_start_event_is_refused_saying_what_flowdesk_offers() -> None:
    text = _start_file(
        "<bpmn:timerEventDefinition><bpmn:timeCycle>R/P1D</bpmn:timeCycle>"
        "</bpmn:timerEventDefinition>"
    )
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text).spec()
    (error,) = caught.value.errors
    assert (error.path, error.code) == ("bpmn[Start]", "unsupported_event")
    assert "schedule" in error.message and "message start event" in error.message


def test_a_sub_process_is_not_started_by_a_message() -> None:
    process = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "sub", "type": "sub_process"},
            {
                "id": "inner",
                "type": "start",
                "scope": "sub",
                "message": {"name": "go", "key": "order_no"},
            },
            {"id": "inner_end", "type": "end", "scope": "sub"},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "sub"},
            {"from": "inner", "to": "inner_end"},
            {"from": "sub", "to": "end"},
        ],
    }
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(process)
    assert "message_start_in_scope" in {e.code for e in caught.value.errors}
