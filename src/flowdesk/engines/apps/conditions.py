"""Branch conditions evaluated on a ticket's stored values, each compiled once per app.

The process engine asks its Context whether a condition holds; the service layer
answers with this evaluator (plus assignee resolution). Conditions are compiled
when the evaluator is built, so a running ticket never parses text again.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.engines.expr import CompiledExpression, ExprType, compile_expression
from flowdesk.engines.forms import FormSpec, typed_values

from .applicant import NOBODY_KNOWN, Applicant, applicant_values, reads_applicant
from .parse import condition_types
from .spec import AppSpec


class ConditionEvaluator:
    """Evaluates the app's branch conditions on STORED values (money as "120000.00").

    Stored values are converted with `forms.typed_values` first, so
    `amount <= 50000` compares Decimal("50000.00"). A condition whose result is
    null (it compares an absent value) does not hold. A condition on the applicant
    (applicant.job_level …) reads the `applicant` the caller passes; the caller asks
    `reads_applicant` first, so conditions without one never cost a look-up.
    """

    def __init__(self, app: AppSpec) -> None:
        self._form: FormSpec = app.form
        self._fields: dict[str, ExprType] = condition_types(app.form)
        # each condition with the part of the form it reads: only those values are typed
        self._compiled: dict[str, tuple[CompiledExpression, FormSpec]] = {}
        # the conditions that read the applicant: one set look-up per evaluation
        self._on_applicant: set[str] = set()
        for _path, text in app.process.conditions():
            self._compile(text)

    def _compile(self, condition: str) -> tuple[CompiledExpression, FormSpec]:
        compiled = self._compiled.get(condition)
        if compiled is None:
            expression = compile_expression(condition, self._fields, expect=ExprType.BOOL)
            used = expression.fields_used
            # a sub-table's column (lines.amount) is read from its table (ADR 0036)
            keys = used | {name.partition(".")[0] for name in used}
            reads = FormSpec(tuple(f for f in self._form.fields if f.key in keys))
            compiled = self._compiled[condition] = (expression, reads)
            if reads_applicant(used):
                self._on_applicant.add(condition)
        return compiled

    def reads_applicant(self, condition: str) -> bool:
        """Whether `condition` reads an attribute of the applicant."""
        if condition not in self._compiled:
            self._compile(condition)
        return condition in self._on_applicant

    def evaluate(
        self,
        condition: str,
        values: Mapping[str, object],
        applicant: Applicant = NOBODY_KNOWN,
    ) -> bool:
        """Whether `condition` holds for the stored `values` and the `applicant`; raises
        ExprError if it cannot run."""
        expression, reads = self._compile(condition)
        typed = typed_values(reads, values)
        if condition in self._on_applicant:
            typed.update(applicant_values(applicant))
        return expression.evaluate(typed) is True
