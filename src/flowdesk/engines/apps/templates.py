"""The app templates shipped inside flowdesk, so a new installation has working apps.

Templates are YAML files in the `flowdesk.templates.apps` package, read with
importlib.resources (they work from a wheel or a zip as well as a checkout).
"""

from __future__ import annotations

from importlib import resources

from flowdesk.kernel.errors import NotFound

from .spec import AppSpec
from .yaml_io import load_app_yaml

TEMPLATE_PACKAGE = "flowdesk.templates.apps"
_SUFFIX = ".yaml"


def bundled_template_names() -> list[str]:
    """Names of the bundled templates (file names without ".yaml"), sorted."""
    root = resources.files(TEMPLATE_PACKAGE)
    return sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in root.iterdir()
        if entry.name.endswith(_SUFFIX) and entry.is_file()
    )


def load_bundled_template(name: str) -> AppSpec:
    """The bundled template `name`, parsed and checked; NotFound if there is none."""
    if name not in bundled_template_names():
        raise NotFound(f"There is no bundled app template named '{name}'", "template_not_found")
    text = resources.files(TEMPLATE_PACKAGE).joinpath(name + _SUFFIX).read_text(encoding="utf-8")
    return load_app_yaml(text)
