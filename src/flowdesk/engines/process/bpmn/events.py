"""BPMN's sub-processes, terminate and error events, boundary error events (ADR 0022),
timer and message events and receive tasks (ADR 0023): what read.py and write.py need
beyond plain elements.

An embedded sub-process is read by descending into its element: each node inside it
gets the sub-process's id as its `scope`. An error end event's code comes from the
`<error>` its errorEventDefinition refers to (its errorCode, else its name, else its
id); a boundary error event without an errorRef catches any error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element

from ..control import scopes_of
from ..spec import Node, ProcessSpec
from ..timer_spec import parse_cycle
from .namespaces import MODEL, XSI, ZEEBE, q, split

_VARIABLE = re.compile(r"[^\W\d]\w{0,99}")  # a form field key, as a Zeebe variable
# end event definitions flowdesk runs -> node type
END_DEFINITIONS = {"terminateEventDefinition": "terminate_end", "errorEventDefinition": "error_end"}


def walk_elements(
    container: Element, model: str, scope: str = ""
) -> Iterator[tuple[int, Element, str]]:
    """(position, child, scope) of a process's children, descending into embedded
    sub-processes right after each (their children carry its id as scope)."""
    for position, child in enumerate(container):
        yield position, child, scope
        if not isinstance(child.tag, str):
            continue
        uri, local = split(child.tag)
        if (
            uri == model
            and local == "subProcess"
            and child.get("id")
            and not _event_triggered(child)
        ):
            yield from walk_elements(child, model, child.get("id", ""))


def _event_triggered(element: Element) -> bool:
    return element.get("triggeredByEvent", "").strip() == "true"


def refusal(element: Element, local: str) -> str | None:
    """Why a sub-process flowdesk reads as a scope cannot run, or None."""
    if local == "subProcess" and _event_triggered(element):
        return "flowdesk cannot run an event sub-process (triggeredByEvent) yet"
    return None


def _definitions(element: Element) -> list[tuple[str, Element]]:
    return [
        (split(child.tag)[1], child)
        for child in element
        if isinstance(child.tag, str) and split(child.tag)[1].endswith("EventDefinition")
    ]


def end_type(element: Element) -> str | None:
    """ "terminate_end" or "error_end" for an end event with exactly that one definition."""
    found = _definitions(element)
    if len(found) == 1 and found[0][0] in END_DEFINITIONS:
        return END_DEFINITIONS[found[0][0]]
    return None


def is_error_boundary(element: Element) -> bool:
    found = _definitions(element)
    return len(found) == 1 and found[0][0] == "errorEventDefinition"


def error_code(root: Element, model: str, element: Element) -> str:
    """The code of the error `element`'s errorEventDefinition refers to ("" if none)."""
    for local, definition in _definitions(element):
        if local != "errorEventDefinition":
            continue
        ref = (definition.get("errorRef") or "").strip().rpartition(":")[2]
        if not ref:
            return ""
        for error in root.iter(q(model, "error") if model else "error"):
            if error.get("id") == ref:
                return (error.get("errorCode") or error.get("name") or ref).strip()
        return ref
    return ""


def boundary_node(root: Element, model: str, element: Element) -> dict[str, object]:
    """A boundary error event as a plain-definition node (names are the caller's)."""
    node: dict[str, object] = {
        "id": element.get("id", ""),
        "type": "boundary_error",
        "attached_to": (element.get("attachedToRef") or "").strip().rpartition(":")[2],
    }
    if element.get("cancelActivity", "").strip() == "false":
        node["interrupting"] = False  # parse refuses it: an error always interrupts
    code = error_code(root, model, element)
    if code:
        node["error_code"] = code
    return node


# --- writing -----------------------------------------------------------------------------


def error_id(code: str) -> str:
    return "Error_" + "".join(c if c.isalnum() or c in "_-." else "_" for c in code)


def write_event(element: ET.Element, node: Node, errors: Mapping[str, str]) -> None:
    """The event definition of a terminate/error end or boundary error event, and its
    attachment; `errors` maps each error code to its `<error>` element's id."""
    if node.type == "terminate_end":
        ET.SubElement(element, q(MODEL, "terminateEventDefinition"))
    elif node.type in ("error_end", "boundary_error"):
        if node.type == "boundary_error" and node.attached_to is not None:
            element.set("attachedToRef", node.attached_to)
        attributes = {}
        if node.error_code:
            attributes["errorRef"] = errors[node.error_code]
        ET.SubElement(element, q(MODEL, "errorEventDefinition"), attributes)


def write_errors(definitions: ET.Element, errors: Mapping[str, str]) -> None:
    """The `<error>` root elements, before the process (their ids never collide with a
    node's: the caller reserves them)."""
    for position, (code, element_id) in enumerate(sorted(errors.items())):
        error = ET.Element(q(MODEL, "error"), {"id": element_id, "name": code, "errorCode": code})
        definitions.insert(position, error)


# node keys that BPMN spells as structure (nesting, attachedToRef, event definitions)
STRUCTURE_KEYS = frozenset({"scope", "attached_to", "interrupting", "error_code"})


def outer_first(spec: ProcessSpec) -> list[Node]:
    """The nodes in definition order, each sub-process before the nodes inside it."""
    depth = {node_id: len(scopes_of(spec.nodes, node_id)) for node_id in spec.nodes}
    return sorted(spec.nodes.values(), key=lambda node: depth[node.id])


def error_ids(spec: ProcessSpec, fresh: Callable[[str], str]) -> dict[str, str]:
    """Error code -> the id of its `<error>` element, fresh in the document."""
    codes = sorted({node.error_code for node in spec.nodes.values() if node.error_code})
    return {code: fresh(error_id(code)) for code in codes}


# --- timers and messages (ADR 0023) ------------------------------------------------------

TIMER_PARTS = ("timeDuration", "timeDate", "timeCycle")


def definition_of(element: Element) -> tuple[str, Element] | None:
    """The one event definition of `element` (None for none or several)."""
    found = _definitions(element)
    return found[0] if len(found) == 1 else None


def is_timer(element: Element) -> bool:
    found = definition_of(element)
    return found is not None and found[0] == "timerEventDefinition"


def is_message(element: Element) -> bool:
    found = definition_of(element)
    return found is not None and found[0] == "messageEventDefinition"


def read_timer(element: Element) -> tuple[dict[str, object], str]:
    """The timer of a timer event as flowdesk's `timer` keys, and what is wrong ("")."""
    found = definition_of(element)
    if found is None:
        return {}, "no timer definition"
    parts = {
        split(child.tag)[1]: "".join(child.itertext()).strip()
        for child in found[1]
        if isinstance(child.tag, str) and split(child.tag)[1] in TIMER_PARTS
    }
    if len(parts) != 1:
        return {}, "a timer definition needs exactly one of timeDuration, timeDate, timeCycle"
    ((kind, text),) = parts.items()
    if text.startswith(("=", "$", "#")):
        return {}, f"flowdesk cannot evaluate a timer expression ({text})"
    if kind == "timeDuration":
        return {"after": text}, ""
    if kind == "timeDate":
        return {"at": text}, ""
    cycle = parse_cycle(text)
    if cycle is None:
        return {}, f"flowdesk reads a timeCycle as Rn/<duration>, e.g. R3/PT1H, not {text}"
    count, interval = cycle
    timer: dict[str, object] = {"after": interval}
    if count > 1:
        timer["repeat"] = count - 1
    return timer, ""


def message_name(root: Element, model: str, ref: str) -> str:
    """The name of the `<message>` `ref` refers to (its id when it has no name)."""
    ref = ref.strip().rpartition(":")[2]
    for message in root.iter(q(model, "message") if model else "message"):
        if message.get("id") == ref:
            return (message.get("name") or ref).strip()
    return ref


def zeebe_correlation(root: Element, model: str, ref: str) -> str:
    """The form field a Camunda 8 `<message>` correlates by: its zeebe:subscription's
    correlationKey when it is a plain variable (`=order_no`); "" for an expression."""
    ref = ref.strip().rpartition(":")[2]
    for message in root.iter(q(model, "message") if model else "message"):
        if message.get("id") != ref:
            continue
        for subscription in message.iter(q(ZEEBE, "subscription")):
            key = (subscription.get("correlationKey") or "").strip().removeprefix("=").strip()
            if _VARIABLE.fullmatch(key):
                return key
    return ""


def message_ref(element: Element, local: str) -> str:
    """The messageRef of a receive task or of a message event's definition."""
    if local == "receiveTask":
        return (element.get("messageRef") or "").strip()
    found = definition_of(element)
    return (found[1].get("messageRef") or "").strip() if found is not None else ""


def message_id(name: str) -> str:
    return "Message_" + "".join(c if c.isalnum() or c in "_-." else "_" for c in name)


def message_ids(spec: ProcessSpec, fresh: Callable[[str], str]) -> dict[str, str]:
    """Message name -> the id of its `<message>` element, fresh in the document."""
    names = sorted({n.message.name for n in spec.nodes.values() if n.message is not None})
    return {name: fresh(message_id(name)) for name in names}


def write_wait(element: ET.Element, node: Node, messages: Mapping[str, str]) -> None:
    """A boundary timer's attachment and its (or a catch event's) event definition; the
    timer's flowdesk settings, the truth on re-import, are its flowdesk:option."""
    if node.type in ("boundary_timer", "boundary_message") and node.attached_to is not None:
        element.set("attachedToRef", node.attached_to)
        if not node.interrupting:
            element.set("cancelActivity", "false")
    if node.timer is not None:
        definition = ET.SubElement(element, q(MODEL, "timerEventDefinition"))
        timer = node.timer
        if timer.at:
            part, text = "timeDate", timer.at
        elif timer.repeat and timer.every in ("", timer.after):
            part, text = "timeCycle", f"R{timer.repeat + 1}/{timer.after}"
        else:
            part, text = "timeDuration", timer.after
        expression = ET.SubElement(
            definition, q(MODEL, part), {q(XSI, "type"): "bpmn:tFormalExpression"}
        )
        expression.text = text
    elif node.message is not None:
        ET.SubElement(
            element,
            q(MODEL, "messageEventDefinition"),
            {"messageRef": messages[node.message.name]},
        )


def write_messages(definitions: ET.Element, messages: Mapping[str, str]) -> None:
    for position, (name, element_id) in enumerate(sorted(messages.items())):
        definitions.insert(
            position, ET.Element(q(MODEL, "message"), {"id": element_id, "name": name})
        )
