"""Why this module exists: a checked tree becomes plain Python closures, evaluated fast
and safely without ever handing user text to eval/exec.

`compile_expression` is the front door: parse, type-check against the form's fields,
check the result type the caller expects, and build one closure per node. The closures
read fields from an environment that `CompiledExpression.evaluate` fills through
`normalize_value`, so an evaluation only ever sees Decimal, str, bool, date and None.
Evaluating never raises for data reasons except for a refused input value
("float_value", "invalid_value"); anything that cannot be computed is null.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from flowdesk.engines.expr.checker import CheckedTree, check
from flowdesk.engines.expr.context import CONTEXT_KEY, NO_CONTEXT, EvalContext
from flowdesk.engines.expr.errors import TYPE_MISMATCH, ExprError
from flowdesk.engines.expr.functions import FUNCTIONS, FunctionSpec, Thunk
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
from flowdesk.engines.expr.parser import parse
from flowdesk.engines.expr.runtime import arithmetic, compare
from flowdesk.engines.expr.valuetypes import ExprType, matches, normalize_value

Env = Mapping[str, object]
Evaluator = Callable[[Env], object]


@dataclass(frozen=True)
class CompiledExpression:
    """A checked, compiled expression; immutable and safe to share between threads.

    `evaluate` returns a value of `result_type` (Decimal, str, bool or date) or None.
    """

    text: str
    result_type: ExprType
    fields_used: frozenset[str]
    _inputs: tuple[tuple[str, ExprType, int], ...] = field(repr=False)
    _evaluator: Evaluator = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, object], context: EvalContext = NO_CONTEXT) -> object:
        """Evaluate with the given field values; missing fields and None are null.

        `context` carries the clock and business calendar TODAY, NOW and WORKDAYS read
        (without one they give null).

        Numbers may be given as Decimal, int or kernel Money (its amount is used);
        floats are refused with ExprError code "float_value", values that do not fit
        the field's type with "invalid_value".
        """
        env: dict[str, object] = {
            name: normalize_value(name, values.get(name), declared, position)
            for name, declared, position in self._inputs
        }
        env[CONTEXT_KEY] = context
        return self._evaluator(env)


def compile_expression(
    text: str, fields: Mapping[str, ExprType], *, expect: ExprType | None = None
) -> CompiledExpression:
    """Parse, type-check and compile `text`; raises ExprError.

    `fields` maps every field the expression may use to its type. With `expect`, the
    result must have that type (code "type_mismatch" otherwise); an ANY or null result
    is accepted and then narrowed: a run-time value of another type evaluates to None.
    """
    root = parse(text)
    checked = check(root, fields)
    evaluator = _Compiler(checked, FUNCTIONS).build(root)
    result = checked.result_type
    if expect is not None and expect is not ExprType.ANY and result is not expect:
        if result is ExprType.ANY:
            evaluator = partial(_narrow, evaluator, expect)
        elif result is not ExprType.NULL:
            raise ExprError(
                f"the expression must give a {expect.value} value, but it gives {result.value}",
                TYPE_MISMATCH,
                root.start,
            )
        result = expect
    inputs = tuple(
        sorted(
            ((name, fields[name], position) for name, position in checked.field_positions.items()),
            key=lambda item: item[2],
        )
    )
    return CompiledExpression(
        text=text,
        result_type=result,
        fields_used=checked.fields_used,
        _inputs=inputs,
        _evaluator=evaluator,
    )


def _narrow(evaluator: Evaluator, expect: ExprType, env: Env) -> object:
    value = evaluator(env)
    return value if value is None or matches(expect, value) else None


def _constant(value: object) -> Evaluator:
    def evaluate(env: Env) -> object:
        return value

    return evaluate


class _Compiler:
    def __init__(self, checked: CheckedTree, functions: Mapping[str, FunctionSpec]) -> None:
        self._checked = checked
        self._functions = functions

    def build(self, node: Node) -> Evaluator:
        if isinstance(node, NumberLit | TextLit | BoolLit):
            return _constant(node.value)
        if isinstance(node, NullLit):
            return _constant(None)
        if isinstance(node, FieldRef):
            return self._field(node)
        if isinstance(node, Negate):
            return self._negate(node)
        if isinstance(node, Not):
            return self._not(node)
        if isinstance(node, Logic):
            return self._logic(node)
        if isinstance(node, Arithmetic):
            return self._arithmetic(node)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, InList):
            return self._in_list(node)
        if isinstance(node, Call):
            return self._call(node)
        raise AssertionError(f"unknown node {type(node).__name__}")

    def _is_null_literal(self, node: Node) -> bool:
        return self._checked.type_of(node) is ExprType.NULL

    def _field(self, node: FieldRef) -> Evaluator:
        name = node.name

        def evaluate(env: Env) -> object:
            return env.get(name)

        return evaluate

    def _negate(self, node: Negate) -> Evaluator:
        operand = self.build(node.operand)

        def evaluate(env: Env) -> object:
            value = operand(env)
            return value.copy_negate() if isinstance(value, Decimal) else None

        return evaluate

    def _not(self, node: Not) -> Evaluator:
        operand = self.build(node.operand)

        def evaluate(env: Env) -> object:
            return operand(env) is not True

        return evaluate

    def _logic(self, node: Logic) -> Evaluator:
        operands = tuple(self.build(operand) for operand in node.operands)
        if node.op == "and":

            def evaluate_and(env: Env) -> object:
                return all(operand(env) is True for operand in operands)

            return evaluate_and

        def evaluate_or(env: Env) -> object:
            return any(operand(env) is True for operand in operands)

        return evaluate_or

    def _arithmetic(self, node: Arithmetic) -> Evaluator:
        op = node.op
        left = self.build(node.left)
        right = self.build(node.right)

        def evaluate(env: Env) -> object:
            return arithmetic(op, left(env), right(env))

        return evaluate

    def _compare(self, node: Compare) -> Evaluator:
        op = node.op
        left = self.build(node.left)
        right = self.build(node.right)
        if self._is_null_literal(node.left) or self._is_null_literal(node.right):
            # '= null' / '!= null' test whether the other side is missing.
            other = right if self._is_null_literal(node.left) else left
            want_null = op == "="

            def evaluate_null_test(env: Env) -> object:
                return (other(env) is None) == want_null

            return evaluate_null_test

        def evaluate(env: Env) -> object:
            return compare(op, left(env), right(env))

        return evaluate

    def _in_list(self, node: InList) -> Evaluator:
        subject = self.build(node.subject)
        items = tuple((self._is_null_literal(item), self.build(item)) for item in node.items)

        if not node.negated:

            def evaluate_in(env: Env) -> object:
                value = subject(env)
                for is_null, item in items:
                    if value is None if is_null else compare("=", value, item(env)):
                        return True
                return False

            return evaluate_in

        def evaluate_not_in(env: Env) -> object:
            # x not in (a, b) means x != a and x != b, so a null x gives false.
            value = subject(env)
            for is_null, item in items:
                if not (value is not None if is_null else compare("!=", value, item(env))):
                    return False
            return True

        return evaluate_not_in

    def _call(self, node: Call) -> Evaluator:
        spec = self._functions[node.name]
        args = tuple(self.build(arg) for arg in node.args)
        lazy = spec.lazy_impl
        if lazy is not None:

            def evaluate_lazy(env: Env) -> object:
                thunks: list[Thunk] = [partial(arg, env) for arg in args]
                return lazy(thunks)

            return evaluate_lazy

        if spec.context_impl is not None:

            def evaluate_with_context(env: Env) -> object:
                context = env.get(CONTEXT_KEY)
                assert isinstance(context, EvalContext)
                return spec.apply([arg(env) for arg in args], context)

            return evaluate_with_context

        def evaluate(env: Env) -> object:
            return spec.apply([arg(env) for arg in args])

        return evaluate
