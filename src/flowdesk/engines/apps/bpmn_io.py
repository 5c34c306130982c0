"""An app's process as BPMN 2.0: imported into an existing app, exported with its diagram.

A BPMN file carries a process and nothing else (no form, no app key), so an import
replaces the process of an app that already exists and keeps the rest of it. The
result is checked by `parse_app` like any app YAML (the conditions against the form,
editable fields against the conditions), and every problem comes back with the BPMN
element id in its path, as the modeler shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

from .parse import parse_app
from .spec import AppSpec


@dataclass(frozen=True)
class BpmnAppImport:
    """The app with the imported process, and what the import read but did not use."""

    spec: AppSpec
    warnings: tuple[ErrorDetail, ...]


def load_app_bpmn(
    data: str | bytes, base: AppSpec, *, process_id: str | None = None
) -> BpmnAppImport:
    """`base` with its process (and diagram) replaced by the file's; DefinitionInvalid
    lists every problem, each at `bpmn[<element id>]`."""
    imported = read_bpmn(data, base=base.process, process_id=process_id)
    definition = base.to_dict()
    definition["process"] = imported.process
    definition.pop("diagram", None)
    if imported.diagram:
        definition["diagram"] = imported.diagram.to_dict()
    try:
        spec = parse_app(definition)
    except DefinitionInvalid as exc:
        raise DefinitionInvalid([imported.locate(error) for error in exc.errors]) from None
    return BpmnAppImport(spec, imported.warnings)


def dump_app_bpmn(spec: AppSpec) -> str:
    """The app's process as BPMN 2.0 XML with its diagram (drawn, or laid out)."""
    return write_bpmn(
        spec.process,
        process_id=spec.key,
        name={"en": spec.name.en, "zh": spec.name.zh},
        diagram=spec.diagram,
    )
