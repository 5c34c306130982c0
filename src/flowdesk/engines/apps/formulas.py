"""Formula fields, conditional visibility and requiredness, and default values (ADR 0031).

A field's expressions (forms/spec.py: `formula`, `visible_when`, `required_when`,
`default`) are text in the form engine, which does not know the expression language; this
module, which knows both, checks them when an app is published and runs them on the
server every time values are stored:

- publish (`check_form_expressions`): each expression is parsed and type-checked against
  the form's fields and the applicant's attributes (applicant.py), errors pointing at the
  attribute (`form.fields[3].formula`) and the character; a formula's result type is
  inferred unless declared (a declared one must match); expressions that read each other
  in a circle are refused (`formula_cycle`) naming the fields of the circle.
- store (`FormComputer.complete`): in an order where every field comes after the fields
  its expressions read, each field takes its default when it was left empty (a full
  submission only), is dropped when `visible_when` does not hold (a hidden field's value
  is never stored, whatever a client sent), is computed when it is a formula, and is
  refused with `required` when it is visible, empty and required (`required: true` or
  `required_when` holds).

TODAY(), NOW() and WORKDAYS() read the `EvalContext` the service passes (its injected
clock and the business calendar), never the host's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flowdesk.engines.expr import (
    CompiledExpression,
    EvalContext,
    ExprError,
    ExprType,
    compile_expression,
)
from flowdesk.engines.expr.nodes import Call, FieldRef, Node
from flowdesk.engines.expr.parser import parse
from flowdesk.engines.forms import (
    FieldSpec,
    FieldType,
    FormSpec,
    expression_types,
    typed_values,
)
from flowdesk.engines.forms.messages import message
from flowdesk.engines.forms.validate import field_of_path, validate_submission
from flowdesk.engines.forms.values import (
    column_name,
    expression_type,
    typed_columns,
    typed_value,
)
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed

from .applicant import APPLICANT_FIELDS, NOBODY_KNOWN, Applicant, applicant_values

# what each attribute's expression must give; a default gives its field's own type
_BOOL_ATTRIBUTES = ("visible_when", "required_when")


def _expected(field: FieldSpec, attribute: str) -> ExprType | None:
    if attribute in _BOOL_ATTRIBUTES:
        return ExprType.BOOL
    if attribute == "formula":
        return ExprType(field.result) if field.result is not None else None
    return ExprType(expression_type(field))


def _reads(text: str) -> frozenset[str]:
    """The fields an expression names, before any type check (for the cycle search)."""
    try:
        root = parse(text)
    except ExprError:
        return frozenset()
    names: set[str] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldRef):
            names.add(node.name)
        stack.extend(node.children())
    return frozenset(names)


def _reads_of(field: FieldSpec) -> set[str]:
    return {name for _attribute, text in field.expressions() for name in _reads(text)}


def _owners(fields: Sequence[FieldSpec], names: Iterable[str]) -> set[str]:
    """The names with each sub-table column (`lines.amount`) also standing for its table
    (`lines`): reading a column is reading the table (ADR 0036)."""
    tables = {f.key for f in fields if f.type is FieldType.TABLE}
    found = set(names)
    for name in list(found):
        table, dot, _column = name.partition(".")
        if dot and table in tables:
            found.add(table)
    return found


def formula_inputs(form: FormSpec, keys: set[str]) -> set[str]:
    """`keys` and every field the formulas among them read, however deep: what a condition
    on those fields really depends on (a sub-table's column counting as its table)."""
    formulas = {f.key: f.formula for f in form.fields if f.formula is not None}
    found = _owners(form.fields, keys)
    pending = [key for key in found if key in formulas]
    while pending:
        text = formulas[pending.pop()]
        for name in _owners(form.fields, _reads(text or "")) - found:
            found.add(name)
            if name in formulas:
                pending.append(name)
    return found


def _calls(text: str) -> frozenset[str]:
    try:
        root = parse(text)
    except ExprError:
        return frozenset()
    names: set[str] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Call):
            names.add(node.name)
        stack.extend(node.children())
    return frozenset(names)


def _order(form: FormSpec) -> tuple[list[str], list[list[str]]]:
    """Field keys with every field after those its expressions read, and the cycles found
    (each as the keys around it, first key repeated last); a formula reading a sub-table's
    column comes after the table (whose row formulas are computed first)."""
    keys = set(form.keys())
    depends = {
        field.key: sorted(
            name
            for name in _owners(
                form.fields, (n for _a, text in field.expressions() for n in _reads(text))
            )
            if name in keys and name != field.key
        )
        for field in form.fields
    }
    # a field's own visible_when may not read the field itself either
    for field in form.fields:
        if any(field.key in _reads(text) for _a, text in field.expressions()):
            depends[field.key] = [*depends[field.key], field.key]
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    cycles: list[list[str]] = []
    for start in [field.key for field in form.fields]:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            key, index = stack.pop()
            if index == 0:
                state[key] = 1
                path.append(key)
            deps = depends[key]
            if index < len(deps):
                stack.append((key, index + 1))
                nxt = deps[index]
                if state.get(nxt) == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    if not any(set(cycle) == set(seen) for seen in cycles):
                        cycles.append(cycle)
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[key] = 2
                path.pop()
                order.append(key)
    return order, cycles


def check_form_expressions(
    form: FormSpec, path: str = "form"
) -> tuple[FormSpec, list[ErrorDetail]]:
    """The form with every formula's result type filled in, and every problem of its
    expressions (paths `form.fields[i].formula` …, a sub-table's row formulas
    `form.fields[i].columns[j].formula`); the form is unchanged where it has none."""
    errors: list[ErrorDetail] = []
    fields = list(form.fields)
    unresolved: set[str] = set()  # row formulas whose type their own error hides
    for index, field in enumerate(fields):
        if field.type is FieldType.TABLE and any(c.expressions() for c in field.columns):
            # a row formula reads its own row's columns only, checked (and ordered, and
            # searched for circles) as a form of its own
            columns, found = _check_fields(
                FormSpec(field.columns), f"{path}.fields[{index}].columns", row=True
            )
            fields[index] = replace(field, columns=columns.fields)
            errors.extend(found)
            unresolved |= {
                column_name(field.key, c.key)
                for c in columns.fields
                if c.type is FieldType.FORMULA and c.result is None
            }
    checked, found = _check_fields(
        FormSpec(tuple(fields)), f"{path}.fields", row=False, skip=unresolved
    )
    return checked, errors + found


def _check_fields(
    form: FormSpec, path: str, *, row: bool, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[FormSpec, list[ErrorDetail]]:
    index_of = {field.key: index for index, field in enumerate(form.fields)}
    errors: list[ErrorDetail] = []
    order, cycles = _order(form)
    for cycle in cycles:
        first = form.field(cycle[0])
        attribute = next(
            (a for a, text in first.expressions() if cycle[1] in _reads(text)),
            first.expressions()[0][0],
        )
        errors.append(
            ErrorDetail(
                f"{path}[{index_of[cycle[0]]}].{attribute}",
                "formula_cycle",
                "These fields are computed from each other in a circle: "
                + " → ".join(cycle)
                + " / 这些字段互相引用，形成循环："
                + " → ".join(cycle),
            )
        )
    # a field in a circle, or reading one, has no type to check against: the circle is
    # its error; every other field is still checked, so all problems come back at once
    in_cycles = {key for cycle in cycles for key in cycle}
    fields = {field.key: field for field in form.fields}
    for key in order:
        field = fields[key]
        if in_cycles and formula_inputs(form, _reads_of(field)) & in_cycles | ({key} & in_cycles):
            continue
        if skip and _reads_of(field) & skip:
            continue  # it reads a row formula that has an error of its own
        types = _types(FormSpec(tuple(fields.values())), row=row)
        for attribute, text in field.expressions():
            where = f"{path}[{index_of[key]}].{attribute}"
            try:
                compiled = compile_expression(text, types, expect=_expected(field, attribute))
            except ExprError as exc:
                errors.append(exc.as_detail(where))
                continue
            if attribute == "formula" and field.result is None:
                inferred = compiled.result_type
                if inferred not in (ExprType.NUMBER, ExprType.TEXT, ExprType.BOOL, ExprType.DATE):
                    errors.append(
                        ErrorDetail(
                            f"{path}[{index_of[key]}].result",
                            "required",
                            "The formula's type cannot be told; declare result: number, "
                            "text, bool or date",
                        )
                    )
                    continue
                field = fields[key] = replace(field, result=inferred.value)
    return FormSpec(tuple(fields.values())), errors


def _types(form: FormSpec, *, row: bool = False) -> dict[str, ExprType]:
    """What the form's expressions may read: its fields (a sub-table as its columns) and
    the applicant; a row formula (`row`) reads its row's columns only."""
    types = {key: ExprType(kind) for key, kind in expression_types(form).items()}
    return types if row else {**types, **APPLICANT_FIELDS}


@dataclass(frozen=True)
class FormState:
    """The form as its expressions make it for some values."""

    values: dict[str, object]
    hidden: frozenset[str]
    required: frozenset[str]
    errors: tuple[ErrorDetail, ...]


@dataclass(frozen=True)
class _Step:
    field: FieldSpec
    default: CompiledExpression | None
    visible_when: CompiledExpression | None
    formula: CompiledExpression | None
    required_when: CompiledExpression | None
    # a sub-table's row formulas, in the order they read each other (ADR 0036)
    rows: tuple[tuple[FieldSpec, CompiledExpression], ...] = ()


class FormComputer:
    """Runs a published form's expressions; built once per app version (registry.py)."""

    def __init__(self, form: FormSpec) -> None:
        self._form = form
        types = _types(form)
        order, cycles = _order(form)
        if cycles:  # parse_app refused it at publish
            raise ValueError("the form's expressions read each other in a circle")
        fields = {field.key: field for field in form.fields}
        steps: list[_Step] = []
        calls: set[str] = set()
        self.reads_applicant = False
        for key in order:
            field = fields[key]
            compiled: dict[str, CompiledExpression | None] = dict.fromkeys(
                ("default", "visible_when", "formula", "required_when")
            )
            for attribute, text in field.expressions():
                expression = compile_expression(text, types, expect=_expected(field, attribute))
                compiled[attribute] = expression
                calls |= _calls(text)
                if any(name in APPLICANT_FIELDS for name in expression.fields_used):
                    self.reads_applicant = True
            rows = _row_formulas(field)
            if any(compiled.values()) or rows:
                steps.append(_Step(field, **compiled, rows=rows))
        self._steps = tuple(steps)
        # a table with row formulas gets its columns typed when its step computes them
        computed_tables = {step.field.key for step in steps if step.rows}
        self._typed_first = FormSpec(tuple(f for f in form.fields if f.key not in computed_tables))
        self._always_required = frozenset(
            f.key for f in form.fields if f.required and not f.conditional
        )
        self.active = bool(steps)
        """Whether the form has any expression at all (otherwise `complete` is a no-op)."""
        self.reads_calendar = "WORKDAYS" in calls
        self.reads_clock = bool({"TODAY", "NOW"} & calls)

    def complete(
        self,
        stored: Mapping[str, object],
        *,
        context: EvalContext | None = None,
        applicant: Applicant = NOBODY_KNOWN,
        defaults: bool = True,
        locale: str = "en",
    ) -> dict[str, object]:
        """The values to store: `stored` (clean values of the whole form) with defaults
        filled (when `defaults`), hidden fields dropped and formulas computed; raises
        ValidationFailed naming every visible required field left empty."""
        state = self.state(
            stored, context=context, applicant=applicant, defaults=defaults, locale=locale
        )
        if state.errors:
            raise ValidationFailed(message("submission_invalid", locale), list(state.errors))
        return state.values

    def state(
        self,
        stored: Mapping[str, object],
        *,
        context: EvalContext | None = None,
        applicant: Applicant = NOBODY_KNOWN,
        defaults: bool = True,
        locale: str = "en",
    ) -> FormState:
        """What `complete` would store, which fields are hidden and which are required,
        and the problems, without raising (the web form's preview round trip)."""
        values = dict(stored)
        if not self.active:
            always = frozenset(f.key for f in self._form.fields if f.required)
            return FormState(values, frozenset(), always, ())
        evaluation = context or EvalContext()
        env: dict[str, object] = typed_values(self._typed_first, values)
        env.update(applicant_values(applicant))
        errors: list[ErrorDetail] = []
        hidden: set[str] = set()
        required_now = set(self._always_required)
        for step in self._steps:
            field = step.field
            key = field.key
            if step.default is not None and defaults and values.get(key) is None:
                filled = self._default(step, step.default.evaluate(env, evaluation), locale)
                if isinstance(filled, ErrorDetail):
                    errors.append(filled)
                elif filled is not None:
                    values[key] = filled
                    env.update(typed_values(FormSpec((field,)), {key: filled}))
            visible = step.visible_when
            if visible is not None and visible.evaluate(env, evaluation) is not True:
                values.pop(key, None)
                if field.type is FieldType.TABLE:
                    env.update(typed_columns(field, None))
                env[key] = None
                hidden.add(key)
                continue
            if step.rows:  # the row formulas, then the columns as lists for the readers
                listed = values.get(key)
                rows, columns = compute_rows(
                    step.field, step.rows, listed if isinstance(listed, list) else [], evaluation
                )
                if isinstance(listed, list):
                    values[key] = rows
                env.update(columns)
            if step.formula is not None:
                result = stored_result(step.formula.evaluate(env, evaluation))
                if result is None:
                    values.pop(key, None)
                    env[key] = None
                else:
                    values[key] = result
                    env[key] = typed_values(FormSpec((field,)), {key: result})[key]
                continue
            required = field.required or (
                step.required_when is not None
                and step.required_when.evaluate(env, evaluation) is True
            )
            if required:
                required_now.add(key)
                if _empty(values.get(key)):
                    errors.append(ErrorDetail(key, "required", message("required", locale)))
        order = {k: i for i, k in enumerate(self._form.keys())}
        errors.sort(key=lambda detail: order.get(field_of_path(detail.path), len(order)))
        return FormState(values, frozenset(hidden), frozenset(required_now), tuple(errors))

    def _default(self, step: _Step, value: object, locale: str) -> object:
        """A default's value cleaned as the field's own (a money default gets its
        decimals), or an error at the field when it does not fit it."""
        if value is None:
            return None
        raw: object = value
        if isinstance(value, Decimal) and step.field.decimals is not None:
            # a computed amount keeps the field's decimals, rounded half up as money is
            with suppress(ArithmeticError):  # too large: the field's own check refuses it
                value = value.quantize(Decimal(1).scaleb(-step.field.decimals), ROUND_HALF_UP)
        if isinstance(value, Decimal):
            raw = (
                int(value)
                if step.field.type in (FieldType.INTEGER, FieldType.RATING)
                and (value == value.to_integral_value())
                else format(value, "f")
            )
        elif isinstance(value, date):
            raw = value.isoformat()
        if step.field.type is FieldType.MULTI_CHOICE and isinstance(raw, str):
            raw = [part for part in raw.split(",") if part]
        try:
            clean = validate_submission(
                FormSpec((step.field,)),
                {step.field.key: raw},
                source="json",
                locale=locale,
                partial=True,
            )
        except ValidationFailed as exc:
            return exc.errors[0]
        return clean.get(step.field.key)


def _row_formulas(table: FieldSpec) -> tuple[tuple[FieldSpec, CompiledExpression], ...]:
    """A sub-table's formula columns compiled against its other columns, each after the
    columns it reads (check_form_expressions refused circles at publish)."""
    if table.type is not FieldType.TABLE or not any(c.formula for c in table.columns):
        return ()
    columns = FormSpec(table.columns)
    order, cycles = _order(columns)
    if cycles:
        raise ValueError("a table's row formulas read each other in a circle")
    types = _types(columns, row=True)
    by_key = {c.key: c for c in table.columns}
    return tuple(
        (by_key[key], compile_expression(by_key[key].formula or "", types))
        for key in order
        if by_key[key].formula is not None
    )


def compute_rows(
    table: FieldSpec,
    formulas: Sequence[tuple[FieldSpec, CompiledExpression]],
    rows: Sequence[object],
    context: EvalContext,
) -> tuple[list[dict[str, object]], dict[str, tuple[object, ...]]]:
    """The rows with their formula columns computed from their own other columns (a
    formula that gives null leaves its cell empty), and the table's columns as the lists
    of runtime values expressions read (`lines.amount`, as `typed_columns` gives them)."""
    columns = FormSpec(table.columns)
    out: list[dict[str, object]] = []
    cells: dict[str, list[object]] = {c.key: [] for c in table.columns}
    for raw in rows:
        row = dict(raw) if isinstance(raw, Mapping) else {}
        env = typed_values(columns, row)
        for column, compiled in formulas:
            result = stored_result(compiled.evaluate(env, context))
            if result is None:
                row.pop(column.key, None)
            else:
                row[column.key] = result
            env[column.key] = typed_value(column, result)
        out.append(row)
        for key, listed in cells.items():
            listed.append(env[key])
    typed = {column_name(table.key, key): tuple(listed) for key, listed in cells.items()}
    return out, typed


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []


def stored_result(value: object) -> object:
    """A formula's runtime value as stored JSON: numbers as exact text, dates ISO."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value
