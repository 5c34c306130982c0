"""Branch conditions evaluated on a ticket's stored values, each compiled once per app.

The process engine asks its Context whether a condition holds; the service layer
answers with this evaluator (plus assignee resolution). Conditions are compiled
when the evaluator is built, so a running ticket never parses text again.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.engines.expr import CompiledExpression, ExprType, compile_expression
from flowdesk.engines.forms import FormSpec, typed_values

from .parse import field_types
from .spec import AppSpec


class ConditionEvaluator:
    """Evaluates the app's branch conditions on STORED values (money as "120000.00").

    Stored values are converted with `forms.typed_values` first, so
    `amount <= 50000` compares Decimal("50000.00"). A condition whose result is
    null (it compares an absent value) does not hold.
    """

    def __init__(self, app: AppSpec) -> None:
        self._form: FormSpec = app.form
        self._fields: dict[str, ExprType] = field_types(app.form)
        self._compiled: dict[str, CompiledExpression] = {}
        for _path, text in app.process.conditions():
            self._compile(text)

    def _compile(self, condition: str) -> CompiledExpression:
        compiled = self._compiled.get(condition)
        if compiled is None:
            compiled = compile_expression(condition, self._fields, expect=ExprType.BOOL)
            self._compiled[condition] = compiled
        return compiled

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        """Whether `condition` holds for the stored `values`; raises ExprError if it cannot run."""
        result = self._compile(condition).evaluate(typed_values(self._form, values))
        return result is True
