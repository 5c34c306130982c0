"""Why this module exists: mistakes in a condition must surface when a definition is
published, not when a loan application reaches the branch at 2 a.m.

`check` walks the syntax tree once, resolves every field against the form's field types,
every call against the function library, and gives every node a static type. It raises
ExprError for unknown fields (with a "did you mean" suggestion), unknown functions, wrong
argument counts and type mismatches, always pointing at the offending token.

Typing rules in short: ANY defers the check to run time; the literal `null` fits any
type; comparisons need two operands of the same type ('<' and friends are not defined on
bool, and only '=' / '!=' may compare with null); 'and', 'or', 'not' need bool operands.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowdesk.engines.expr.errors import (
    ARGUMENT_COUNT,
    TYPE_MISMATCH,
    UNKNOWN_FIELD,
    UNKNOWN_FUNCTION,
    ExprError,
)
from flowdesk.engines.expr.functions import FUNCTIONS, FunctionSpec
from flowdesk.engines.expr.nodes import (
    Arithmetic,
    BoolLit,
    Call,
    Compare,
    FieldRef,
    InList,
    Logic,
    Negate,
    Node,
    Not,
    NullLit,
    NumberLit,
    TextLit,
)
from flowdesk.engines.expr.valuetypes import LIST_TYPES, ExprType, accepts, element_type

NUMBER = ExprType.NUMBER
TEXT = ExprType.TEXT
BOOL = ExprType.BOOL
DATE = ExprType.DATE
NULL = ExprType.NULL
ANY = ExprType.ANY


@dataclass(frozen=True)
class CheckedTree:
    """A type-checked tree: its result type, the fields it reads and every node's type."""

    root: Node
    result_type: ExprType
    fields_used: frozenset[str]
    field_positions: Mapping[str, int]
    """Where each used field first appears in the text."""
    _types: Mapping[int, ExprType] = field(repr=False)

    def type_of(self, node: Node) -> ExprType:
        """The static type of `node`, which must belong to this tree."""
        return self._types[id(node)]


def check(
    root: Node,
    fields: Mapping[str, ExprType],
    functions: Mapping[str, FunctionSpec] = FUNCTIONS,
) -> CheckedTree:
    """Type-check `root` against the field types; raises ExprError."""
    checker = _Checker(fields, functions)
    result = checker.visit(root)
    return CheckedTree(
        root=root,
        result_type=result,
        fields_used=frozenset(checker.field_positions),
        field_positions=dict(checker.field_positions),
        _types=checker.types,
    )


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """ "; did you mean 'x'?" for the closest candidate, or '' when none is close."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1)
    return f"; did you mean '{by_folded[close[0]]}'?" if close else ""


def _describe_bool_operand(op: str) -> str:
    return f"'{op}' needs true/false values"


class _Checker:
    def __init__(self, fields: Mapping[str, ExprType], functions: Mapping[str, FunctionSpec]):
        self.fields = fields
        self.functions = functions
        self.types: dict[int, ExprType] = {}
        self.field_positions: dict[str, int] = {}

    def visit(self, node: Node) -> ExprType:
        result = self._visit(node)
        self.types[id(node)] = result
        return result

    def _visit(self, node: Node) -> ExprType:
        if isinstance(node, NumberLit):
            return NUMBER
        if isinstance(node, TextLit):
            return TEXT
        if isinstance(node, BoolLit):
            return BOOL
        if isinstance(node, NullLit):
            return NULL
        if isinstance(node, FieldRef):
            return self._field(node)
        if isinstance(node, Negate):
            self._require(NUMBER, node.operand, "'-' needs a number")
            return NUMBER
        if isinstance(node, Not):
            self._require(BOOL, node.operand, _describe_bool_operand("not"))
            return BOOL
        if isinstance(node, Logic):
            for operand in node.operands:
                self._require(BOOL, operand, _describe_bool_operand(node.op))
            return BOOL
        if isinstance(node, Arithmetic):
            return self._arithmetic(node)
        if isinstance(node, Compare):
            self._compare(node)
            return BOOL
        if isinstance(node, InList):
            self._in_list(node)
            return BOOL
        if isinstance(node, Call):
            return self._call(node)
        raise AssertionError(f"unknown node {type(node).__name__}")

    def _require(self, expected: ExprType, node: Node, what: str) -> None:
        actual = self.visit(node)
        if not accepts(expected, actual):
            raise ExprError(f"{what}, but this is {actual.value}", TYPE_MISMATCH, node.start)

    def _no_list(self, node: Node, actual: ExprType) -> None:
        if actual in LIST_TYPES:
            raise ExprError(
                "a sub-table's column holds one value per row; use SUM, COUNT, AVERAGE, MIN, "
                "MAX or COUNTIF on it",
                TYPE_MISMATCH,
                node.start,
            )

    def _field(self, node: FieldRef) -> ExprType:
        declared = self.fields.get(node.name)
        if declared is None:
            raise ExprError(
                f"unknown field '{node.name}'{did_you_mean(node.name, list(self.fields))}",
                UNKNOWN_FIELD,
                node.position,
            )
        self.field_positions.setdefault(node.name, node.position)
        return declared

    def _arithmetic(self, node: Arithmetic) -> ExprType:
        left = self.visit(node.left)
        right = self.visit(node.right)
        self._no_list(node.left, left)
        self._no_list(node.right, right)
        if node.op == "&":
            return TEXT
        if node.op == "+":
            for candidate in (NUMBER, TEXT):
                both_fit = accepts(candidate, left) and accepts(candidate, right)
                if both_fit and candidate in (left, right):
                    return candidate
            if left in (ANY, NULL) and right in (ANY, NULL):
                return ANY if ANY in (left, right) else NULL
            hint = "; use '&' to join text" if TEXT in (left, right) else ""
            raise ExprError(
                f"'+' needs two numbers or two texts, but got {left.value} and {right.value}"
                + hint,
                TYPE_MISMATCH,
                node.position,
            )
        for side, actual in ((node.left, left), (node.right, right)):
            if not accepts(NUMBER, actual):
                raise ExprError(
                    f"'{node.op}' needs numbers, but this is {actual.value}",
                    TYPE_MISMATCH,
                    side.start,
                )
        return NUMBER

    def _compare(self, node: Compare) -> None:
        left = self.visit(node.left)
        right = self.visit(node.right)
        self._no_list(node.left, left)
        self._no_list(node.right, right)
        self._comparable(node.op, left, right, node.position)

    def _comparable(self, op: str, left: ExprType, right: ExprType, position: int) -> None:
        ordering = op not in ("=", "!=")
        if NULL in (left, right):
            if ordering:
                raise ExprError(
                    f"cannot use '{op}' with null; use '= null' or '!= null' "
                    "to test for a missing value",
                    TYPE_MISMATCH,
                    position,
                )
            return
        if ANY not in (left, right) and left is not right:
            hint = "; write dates as DATE('YYYY-MM-DD')" if {left, right} == {DATE, TEXT} else ""
            raise ExprError(
                f"cannot compare {left.value} with {right.value}{hint}", TYPE_MISMATCH, position
            )
        if ordering and BOOL in (left, right):
            raise ExprError(
                f"cannot use '{op}' on bool values; only '=' and '!=' compare them",
                TYPE_MISMATCH,
                position,
            )

    def _in_list(self, node: InList) -> None:
        subject = self.visit(node.subject)
        self._no_list(node.subject, subject)
        for item in node.items:
            item_type = self.visit(item)
            if NULL in (subject, item_type) or ANY in (subject, item_type):
                continue
            if item_type is not subject:
                raise ExprError(
                    f"cannot compare {subject.value} with {item_type.value} in the list",
                    TYPE_MISMATCH,
                    item.start,
                )

    def _call(self, node: Call) -> ExprType:
        spec = self.functions.get(node.name)
        if spec is None:
            raise ExprError(
                f"unknown function '{node.name}'{did_you_mean(node.name, list(self.functions))}",
                UNKNOWN_FUNCTION,
                node.position,
            )
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise ExprError(
                f"{spec.name} takes {spec.arity_text()} but got {count}",
                ARGUMENT_COUNT,
                node.position,
            )
        types: list[ExprType] = []
        for index, arg in enumerate(node.args):
            expected = spec.param_type(index)
            actual = self.visit(arg)
            element = element_type(actual)
            if spec.lists and element is not None and accepts(expected, element):
                types.append(actual)  # a column where its values are wanted: SUM(lines.amount)
                continue
            if not accepts(expected, actual):
                if not spec.lists:
                    self._no_list(arg, actual)
                raise ExprError(
                    f"argument {index + 1} of {spec.name} must be {expected.value}, "
                    f"but this is {actual.value}",
                    TYPE_MISMATCH,
                    arg.start,
                )
            types.append(actual)
        if spec.refine is not None:
            return spec.refine(types, node.args)
        return spec.result
