"""What Camunda 7 and Camunda 8 (Zeebe) say about a call activity, read into flowdesk's
`call` (ADR 0033, 0035): the called process, its version binding, and the variables
mapped in and out.

- Camunda 7: `calledElement`, `camunda:calledElementBinding` (`latest`, `version` with
  `camunda:calledElementVersion`, `deployment`, `versionTag`), `<camunda:in source=…
  target=…/>` and `<camunda:out source=… target=…/>` in extensionElements.
- Camunda 8: `<zeebe:calledElement processId=… bindingType=…/>` and `<zeebe:ioMapping>`
  with `<zeebe:input source="=x" target="y"/>` / `<zeebe:output …/>`.

A variable is a form field of the same key; a Zeebe source `="text"` is a literal. What
flowdesk cannot honour exactly — an expression (`sourceExpression`, `=a + b`), all
variables at once (`variables="all"`, `propagateAllChildVariables`), a binding to a
deployment or version tag — is an error or a warning naming the element, never dropped
in silence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from .namespaces import CAMUNDA, ZEEBE, q

Report = Callable[[str, str, str], None]  # (path, code, message)
_FIELD = re.compile(r"[^\W\d]\w{0,99}")
_LITERAL = re.compile(r'"([^"\\]{0,200})"')
_BINDING = q(CAMUNDA, "calledElementBinding")
_VERSION = q(CAMUNDA, "calledElementVersion")


@dataclass
class VendorCall:
    """The call read from the vendor notations ("" / 0 / empty where they say nothing)
    and the vendor attributes and elements it consumed (no vendor warning for them)."""

    app: str = ""
    version: int = 0
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)


def read_vendor_call(
    element: Element, extensions: Element | None, path: str, error: Report, warn: Report
) -> VendorCall:
    found = VendorCall()
    binding = (element.get(_BINDING) or "").strip()
    if binding or element.get(_VERSION) is not None:
        found.consumed.update({_BINDING, _VERSION})
        found.version = _camunda_version(binding, element.get(_VERSION), path, error, warn)
    if extensions is None:
        return found
    for child in extensions:
        if not isinstance(child.tag, str):
            continue
        if child.tag in (q(CAMUNDA, "in"), q(CAMUNDA, "out")):
            found.consumed.add(child.tag)
            _camunda_mapping(child, found, path, error)
        elif child.tag == q(ZEEBE, "calledElement"):
            found.consumed.add(child.tag)
            _zeebe_called(child, found, path, error, warn)
        elif child.tag == q(ZEEBE, "ioMapping"):
            found.consumed.add(child.tag)
            for mapping in child:
                if mapping.tag in (q(ZEEBE, "input"), q(ZEEBE, "output")):
                    _zeebe_mapping(mapping, found, path, error)
    return found


def _camunda_version(
    binding: str, number: str | None, path: str, error: Report, warn: Report
) -> int:
    if binding in ("", "latest") and number is None:
        return 0
    if binding in ("", "version") and number is not None:
        text = number.strip()
        if text.isdigit() and 0 < int(text) <= 1_000_000:
            return int(text)
        error(
            f"{path}.calledElementVersion",
            "unsupported_call_binding",
            f"flowdesk pins a call to a published version number, not '{text}'",
        )
        return 0
    warn(
        f"{path}.calledElementBinding",
        "call_binding_read_as_latest",
        f"Binding '{binding}' read as 'latest': flowdesk calls the app's current version "
        '(or a version number pinned with calledElementBinding="version")',
    )
    return 0


def _zeebe_called(
    child: Element, found: VendorCall, path: str, error: Report, warn: Report
) -> None:
    process_id = (child.get("processId") or "").strip()
    if process_id.startswith("="):
        error(
            f"{path}.processId",
            "unsupported_element",
            f"flowdesk calls an app named in the file, not one computed ({process_id})",
        )
    elif process_id:
        found.app = process_id
    binding = (child.get("bindingType") or "").strip()
    if binding not in ("", "latest"):
        warn(
            f"{path}.bindingType",
            "call_binding_read_as_latest",
            f"Binding '{binding}' read as 'latest': flowdesk calls the app's current version",
        )
    if (child.get("propagateAllChildVariables") or "").strip() == "true":
        warn(
            f"{path}.propagateAllChildVariables",
            "call_variables_not_all",
            "flowdesk copies back only the mapped outputs, not every variable of the child",
        )


def _camunda_mapping(child: Element, found: VendorCall, path: str, error: Report) -> None:
    """`<camunda:in source="a" target="b"/>`: child field b from parent field a;
    `<camunda:out source="b" target="a"/>`: parent field a from child field b."""
    direction = "in" if child.tag.endswith("}in") else "out"
    source = (child.get("source") or "").strip()
    target = (child.get("target") or "").strip()
    if child.get("variables") is not None or child.get("sourceExpression") is not None:
        what = "all variables" if child.get("variables") is not None else "an expression"
        error(
            f"{path}.camunda:{direction}",
            "unsupported_mapping",
            f"flowdesk maps named form fields, not {what}; map each field with source and "
            'target, or in <flowdesk:option key="call">',
        )
        return
    if not _FIELD.fullmatch(source) or not _FIELD.fullmatch(target):
        error(
            f"{path}.camunda:{direction}",
            "unsupported_mapping",
            f"A mapping names a form field on each side (source '{source}', target '{target}')",
        )
        return
    (found.inputs if direction == "in" else found.outputs)[target] = source


def _zeebe_mapping(child: Element, found: VendorCall, path: str, error: Report) -> None:
    """`<zeebe:input source="=a" target="b"/>` (child b from parent a, or a quoted literal);
    `<zeebe:output source="=b" target="a"/>` (parent a from child b)."""
    direction = "input" if child.tag.endswith("}input") else "output"
    source = (child.get("source") or "").strip().removeprefix("=").strip()
    target = (child.get("target") or "").strip()
    literal = _LITERAL.fullmatch(source)
    if direction == "input" and literal is not None and _FIELD.fullmatch(target):
        found.inputs[target] = "=" + literal[1]
        return
    if not _FIELD.fullmatch(source) or not _FIELD.fullmatch(target):
        error(
            f"{path}.zeebe:{direction}",
            "unsupported_mapping",
            f"flowdesk maps a form field (or a quoted text into the child), not the "
            f"expression '{child.get('source', '')}' to '{target}'",
        )
        return
    (found.inputs if direction == "input" else found.outputs)[target] = source
