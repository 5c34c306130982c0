"""Apps as YAML files, the portable format builders keep in version control.

YAML is read with PyYAML's safe loader, made stricter for definitions a bank
publishes: a repeated key (where YAML silently keeps the last value) is refused,
as are anchors and aliases (which let a small file expand into a huge one),
nesting deeper than 50 levels, and files over 1 MB. Problems come back as
`DefinitionInvalid` at path "yaml" naming the line and column.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

from .parse import parse_app
from .spec import AppSpec

MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 50
_MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys, anchors and aliases, and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        problem = None
        if self.check_event(AliasEvent):
            problem = "anchors and aliases (*name) are not supported"
        elif self._depth >= MAX_YAML_DEPTH:
            problem = f"nested more than {MAX_YAML_DEPTH} levels deep"
        if problem:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable; the base class reports it
            if duplicate:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key '{key}'",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str) -> object:
    """The YAML document as plain data; DefinitionInvalid at path "yaml" if unreadable."""
    if len(text) > MAX_YAML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise _yaml_error("too_large", f"An app file may be at most {MAX_YAML_BYTES:,} bytes")
    try:
        return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        code = "duplicate_key" if problem.startswith("found duplicate key") else "yaml_syntax"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _yaml_error(code, f"YAML error{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise _yaml_error("yaml_syntax", f"YAML error: {exc}") from None
    except ValueError:  # an integer past Python's 4,300-digit conversion limit
        raise _yaml_error("number_too_long", "A number in the file is too long") from None
    except RecursionError:
        raise _yaml_error("too_deep", "The file is nested too deeply") from None


def load_app_yaml(text: str) -> AppSpec:
    """Parse an app from YAML text; every problem comes back in one DefinitionInvalid."""
    return parse_app(read_yaml(text))


class _AppDumper(yaml.SafeDumper):
    """SafeDumper writing lists of numbers (a diagram's bounds and waypoints) on one line."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    numeric = bool(data) and all(
        _is_number(item) or (isinstance(item, list) and item and all(map(_is_number, item)))
        for item in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=numeric or None)


_AppDumper.add_representer(list, _represent_list)


def dump_app_yaml(spec: AppSpec) -> str:
    """The app as YAML that `load_app_yaml` reads back into an equal spec."""
    return yaml.dump(
        spec.to_dict(),
        Dumper=_AppDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )


def _yaml_error(code: str, message: str) -> DefinitionInvalid:
    return DefinitionInvalid([ErrorDetail(path="yaml", code=code, message=message)])
