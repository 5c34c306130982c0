"""XML ids for flows flowdesk names implicitly.

A YAML flow without an id is called `source->target`, which is not a valid XML id
(BPMN ids are xsd:ID). The writer gives such a flow `Flow_source_target` instead, and
the reader turns exactly that id back into the implicit one, so an export re-imports
to an equal spec and an imported file's generated ids stay out of the YAML.
"""

from __future__ import annotations

import re

_NOT_NCNAME = re.compile(r"[^\w.\-]")


def implicit_flow_element_id(source: str, target: str) -> str:
    return f"Flow_{_NOT_NCNAME.sub('_', source)}_{_NOT_NCNAME.sub('_', target)}"
