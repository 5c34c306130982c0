"""BPMN's sub-processes, terminate and error events, boundary error events (ADR 0022):
what read.py and write.py need beyond plain elements.

An embedded sub-process is read by descending into its element: each node inside it
gets the sub-process's id as its `scope`. An error end event's code comes from the
`<error>` its errorEventDefinition refers to (its errorCode, else its name, else its
id); a boundary error event without an errorRef catches any error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element

from ..control import scopes_of
from ..spec import Node, ProcessSpec
from .namespaces import MODEL, q, split

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
