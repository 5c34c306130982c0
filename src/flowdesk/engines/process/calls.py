"""Call activities (ADR 0033): a token waits while another app's ticket, the child, runs.

A `call_activity` node names the app it calls (`call.app`, its key) and how form values
go in and come out: `inputs` maps a child form field to a parent form field (or a
literal, written `=text`), `outputs` maps a parent form field to a child form field.
When a token arrives, the engine records a wait (state.waits, so OR-joins, sub-processes,
terminate and error ends, withdraw and cancel see it as they see a message wait) and
emits `ChildCalled` with the child's values; the services start the child ticket and,
when it ends, send `ChildFinished`. Approved: the outputs were applied to the values the
command carries and the token goes on. Rejected or cancelled: a `boundary_error` on the
call activity whose `error_code` is "child_rejected" / "child_cancelled" (or empty: any)
catches it and the token leaves by the boundary's flow; without one the parent ends
rejected, as an uncaught error end does (ADR 0022).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import ClassVar, Literal

from flowdesk.kernel.errors import Conflict
from flowdesk.kernel.records import record

CallOutcome = Literal["approved", "rejected", "cancelled"]
CALL_OUTCOMES: tuple[CallOutcome, ...] = ("approved", "rejected", "cancelled")
# the error code a failed child throws at its call activity, by the child's outcome
CALL_ERRORS: Mapping[str, str] = {"rejected": "child_rejected", "cancelled": "child_cancelled"}
LATEST = 0  # CallSpec.version: the version current when the call happens (ADR 0033)
MAX_VERSION = 1_000_000
_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_FIELD = re.compile(r"[^\W\d][\w]{0,99}")
_CALL_KEYS = frozenset({"app", "version", "inputs", "outputs", "each", "as", "order"})
CallOrder = Literal["parallel", "sequential"]
CALL_ORDERS: tuple[CallOrder, ...] = ("parallel", "sequential")
_ITEM_SEPARATORS = re.compile(r"[\s,，、;；]+")
AddProblem = Callable[[str, str, str], None]


@record
class CallSpec:
    """What a call activity calls: app `app` at `version` (LATEST: the version current at
    the moment of the call; else that published version number, pinned, ADR 0035);
    `inputs` (child field, parent field or "=literal") pairs, `outputs` (parent field,
    child field) pairs, sorted by the field they fill."""

    app: str
    version: int = LATEST
    inputs: tuple[tuple[str, str], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    # multi-instance (ADR 0035): one child per item of the parent's list field `each`, the
    # item written into the child's field `item_field` (YAML `as`), all at once or in order
    each: str = ""
    item_field: str = ""
    order: CallOrder = "parallel"

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"app": self.app}
        if self.version != LATEST:
            data["version"] = self.version
        if self.inputs:
            data["inputs"] = dict(self.inputs)
        if self.outputs:
            data["outputs"] = dict(self.outputs)
        if self.each:
            data["each"] = self.each
            data["as"] = self.item_field
            if self.order != "parallel":
                data["order"] = self.order
        return data

    def items(self, parent: Mapping[str, object]) -> list[str]:
        """The items of a multi-instance call: the list field's values (a multi-choice
        list, or a users field's "a,b"), in order, each once; none: no child at all."""
        raw = parent.get(self.each)
        found = (
            [str(item) for item in raw]
            if isinstance(raw, list | tuple)
            else _ITEM_SEPARATORS.split(raw)
            if isinstance(raw, str)
            else []
        )
        return list(dict.fromkeys(item.strip() for item in found if item.strip()))

    def child_values(self, parent: Mapping[str, object]) -> dict[str, object]:
        """The child's submitted values: each input read from the parent's values (a
        parent field without a value is left out, so the child's form says if it is
        required), a literal as written."""
        values: dict[str, object] = {}
        for child_field, source in self.inputs:
            if source.startswith("="):
                values[child_field] = source[1:]
            elif parent.get(source) is not None:
                values[child_field] = parent[source]
        return values

    def output_values(self, child: Mapping[str, object]) -> dict[str, object]:
        """The parent fields the approved child's values set (absent child values skip)."""
        return {
            parent_field: child[child_field]
            for parent_field, child_field in self.outputs
            if child.get(child_field) is not None
        }


def _pairs(value: object, at: str, add: AddProblem) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        add(at, "wrong_type", "A mapping of form field to form field")
        return ()
    pairs: list[tuple[str, str]] = []
    for target, source in value.items():
        ok_target = isinstance(target, str) and _FIELD.fullmatch(target)
        ok_source = isinstance(source, str) and (source.startswith("=") or _FIELD.fullmatch(source))
        if not ok_target or not ok_source:
            add(f"{at}.{target}", "invalid_mapping", "Map a form field key to a form field key")
            continue
        assert isinstance(target, str) and isinstance(source, str)
        pairs.append((target, source))
    return tuple(sorted(pairs))  # a mapping's order means nothing: the same in any file


def parse_call(
    raw: Mapping[str, object], node_type: str | None, path: str, add: AddProblem
) -> CallSpec | None:
    """A call_activity's `call`: required there, refused elsewhere."""
    if "call" not in raw:
        if node_type == "call_activity":
            add(f"{path}.call", "required", "A call activity names the app it calls")
        return None
    if node_type is not None and node_type != "call_activity":
        add(f"{path}.call", "call_not_allowed", "Only call activities call another app")
        return None
    value = raw["call"]
    at = f"{path}.call"
    if not isinstance(value, Mapping):
        add(at, "wrong_type", "call is {app: <app key>, inputs: {...}, outputs: {...}}")
        return None
    for key in value:
        if key not in _CALL_KEYS:
            add(f"{at}.{key}", "unknown_key", "Expected app, version, inputs or outputs")
    app = value.get("app")
    if not isinstance(app, str) or not _KEY.fullmatch(app):
        add(f"{at}.app", "invalid_app_key", "The key of the app to call (a-z, 0-9, _)")
        return None
    version = value.get("version", "latest")
    if version == "latest":
        version = LATEST
    elif isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not LATEST <= version <= MAX_VERSION
    ):
        add(
            f"{at}.version",
            "invalid_version_policy",
            "'latest' (the version current at the call) or a published version number",
        )
        return None
    inputs = _pairs(value.get("inputs"), f"{at}.inputs", add)
    outputs = _pairs(value.get("outputs"), f"{at}.outputs", add)
    for parent_field, child_field in outputs:
        if child_field.startswith("="):
            add(f"{at}.outputs.{parent_field}", "invalid_mapping", "An output reads a field")
    each, item_field, order = _multi(value, at, add, bool(outputs))
    return CallSpec(app, version, inputs, outputs, each, item_field, order)


def _multi(
    value: Mapping[str, object], at: str, add: AddProblem, has_outputs: bool
) -> tuple[str, str, CallOrder]:
    """A multi-instance call's `each` (the parent's list field), `as` (the child's field
    for the item) and `order`; all empty for a single call."""
    each, item_field, order = value.get("each"), value.get("as"), value.get("order", "parallel")
    if each is None and item_field is None and "order" not in value:
        return "", "", "parallel"
    ok = True
    for key, given in (("each", each), ("as", item_field)):
        if not isinstance(given, str) or not _FIELD.fullmatch(given):
            add(
                f"{at}.{key}",
                "invalid_mapping",
                "each names the parent's list field, as the child's field for the item",
            )
            ok = False
    if order not in CALL_ORDERS:
        add(f"{at}.order", "invalid_choice", "parallel (all children at once) or sequential")
        ok = False
    if has_outputs:
        add(
            f"{at}.outputs",
            "outputs_with_each",
            "Several children cannot each fill one parent field: a multi-instance call "
            "has no outputs",
        )
        ok = False
    if not ok:
        return "", "", "parallel"
    assert isinstance(each, str) and isinstance(item_field, str)
    return each, item_field, order  # type: ignore[return-value]


@record
class ChildCalled:
    """A token waits at call activity `node_id` (wait `wait_id`) for a ticket of app `app`
    filed with `values` on the parent's applicant's behalf."""

    kind: ClassVar[str] = "child_called"
    wait_id: str
    node_id: str
    app: str
    values: Mapping[str, object]
    version: int = LATEST  # the pinned version number of `app` (ADR 0035)
    item: str = ""  # a multi-instance call's item this child is for (ADR 0035)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "wait_id": self.wait_id,
            "node_id": self.node_id,
            "app": self.app,
            "values": dict(self.values),
            "version": self.version,
            "item": self.item,
        }


@record
class ChildEnded:
    """The child of wait `wait_id` ended with `outcome`; `caught_by` the boundary_error
    that took a failed child's token ("" when none: the parent ended rejected)."""

    kind: ClassVar[str] = "child_ended"
    wait_id: str
    node_id: str
    outcome: str
    caught_by: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "wait_id": self.wait_id,
            "node_id": self.node_id,
            "outcome": self.outcome,
            "caught_by": self.caught_by,
        }


def call_stale() -> Conflict:
    return Conflict("The parent no longer waits for this child", "call_stale")
