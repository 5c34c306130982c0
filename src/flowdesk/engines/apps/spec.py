"""An app definition as one immutable value: what a builder publishes and tickets run on.

An app bundles a form and a process under a key; `to_dict()` is the portable
(YAML) form that `parse_app` reads back into an equal spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.engines.forms import FormSpec, LocalText
from flowdesk.engines.process import ProcessSpec


@dataclass(frozen=True)
class AppSpec:
    key: str
    name: LocalText
    form: FormSpec
    process: ProcessSpec
    description: LocalText | None = None
    category: str | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"key": self.key, "name": self.name.to_dict()}
        if self.description is not None:
            data["description"] = self.description.to_dict()
        if self.category is not None:
            data["category"] = self.category
        data["form"] = self.form.to_dict()
        data["process"] = self.process.to_dict()
        return data
