"""Where the vendored bpmn-js files are (static/vendor/README.md lists them).

One place names the version, so an upgrade changes this folder name and the table in the
vendor README. Only the designer page and the ticket page's diagram load these files.
"""

from __future__ import annotations

BPMN_JS = "vendor/bpmn-js-18.31.1"
MODELER_SCRIPT = f"{BPMN_JS}/bpmn-modeler.production.min.js"
VIEWER_SCRIPT = f"{BPMN_JS}/bpmn-navigated-viewer.production.min.js"
DIAGRAM_STYLES = (f"{BPMN_JS}/assets/diagram-js.css", f"{BPMN_JS}/assets/bpmn-js.css")
FONT_STYLES = (f"{BPMN_JS}/assets/bpmn-font/css/bpmn.css",)
