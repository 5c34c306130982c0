"""The namespace URIs the BPMN reader and writer know, resolved by URI, never by prefix.

Modelers spell the same namespace with different prefixes (bpmn:, bpmn2:, semantic:,
model:, or none at all), so every look-up here goes through the URI in Clark notation
(`{uri}local`), which is what ElementTree reports whatever the prefix was.
"""

from __future__ import annotations

# The OMG BPMN 2.0 model namespace; the 20100501 one is the beta's, still written by
# a few older tools.
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MODEL_URIS = (MODEL, "http://www.omg.org/spec/BPMN/20100501/MODEL")
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"

# flowdesk's own extension: approval settings BPMN has no element for (docs/bpmn.md).
FLOWDESK = "https://flowdesk.dev/schema/bpmn"
# The language flowdesk writes on conditionExpression: its own expression language.
FLOWDESK_EXPRESSION = "https://flowdesk.dev/schema/expression"

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
FLOWABLE = "http://flowable.org/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
# Namespaces whose userTask attributes assignee / candidateUsers / candidateGroups
# mean the same thing (Camunda 7 and its ancestors).
JUEL_ENGINES = (CAMUNDA, FLOWABLE, ACTIVITI)

# Namespaces of attributes that describe the modeling tool, not the process
# (Camunda Modeler's execution platform, for instance): read silently.
TOOL_METADATA = ("http://camunda.org/schema/modeler/1.0",)


def q(uri: str, local: str) -> str:
    """The Clark-notation name ElementTree uses: `{uri}local`."""
    return f"{{{uri}}}{local}"


def split(tag: str) -> tuple[str, str]:
    """(namespace URI, local name) of a Clark-notation tag; '' for no namespace."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag
