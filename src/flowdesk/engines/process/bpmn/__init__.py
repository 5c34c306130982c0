"""BPMN 2.0 in and out of flowdesk's process engine: a pure reader and a pure writer.

`read_bpmn(xml)` gives the plain definition `parse_process` checks (one set of
definition rules for YAML and BPMN), the warnings of what was read but not used, and
the drawn diagram; `write_bpmn(spec)` gives BPMN 2.0 XML with flowdesk's settings in
the `flowdesk:` extension namespace and a BPMNDI diagram that opens in bpmn.io.
The mapping is documented in docs/bpmn.md.
"""

from .diagram import Diagram, layout, parse_diagram
from .namespaces import FLOWDESK, FLOWDESK_EXPRESSION
from .read import BpmnImport, read_bpmn
from .write import write_bpmn
from .xml_input import MAX_BPMN_BYTES

__all__ = [
    "FLOWDESK",
    "FLOWDESK_EXPRESSION",
    "MAX_BPMN_BYTES",
    "BpmnImport",
    "Diagram",
    "layout",
    "parse_diagram",
    "read_bpmn",
    "write_bpmn",
]
