"""The expression language: one small, safe language for conditions, formulas, rules and
record-level permission filters, so bank staff can write `amount <= 50000` without code.

Pipeline: `tokens` → `parser` (Pratt) → `nodes` (frozen dataclasses) → `checker` (static
types against the form's fields) → `compiler` (Python closures). User text is never given
to eval/exec/compile. Pure Python: no I/O, standard library and `flowdesk.kernel` only.

Public API::

    compiled = compile_expression("amount <= 50000", {"amount": ExprType.NUMBER},
                                  expect=ExprType.BOOL)
    compiled.evaluate({"amount": Decimal("42000")})   # True
    compiled.fields_used                             # frozenset({'amount'})
    compiled.evaluate(values, EvalContext(now=clock.now(), calendar=calendar))
                                                     # TODAY/NOW/WORKDAYS read these
    parse(text)                                      # the syntax tree (Node)

Values: NUMBER is Decimal (ints and kernel Money accepted from callers, floats refused
with code "float_value"), TEXT str, BOOL bool, DATE datetime.date; a missing field or
None is null. Arithmetic is Decimal with 28 significant digits; division by zero or
overflow gives null.

Language:
  literals      50000  0.05  1_000  'text'  "text" (escapes \\\\ \\' \\" \\n \\t \\r)
                true  false  null  DATE('2026-01-31')
  fields        amount  credit_rating  金额      (letters of any script, digits, '_')
                applicant.job_level    (dotted: an attribute the caller types, e.g.
                                        the applicant's, engines/apps/applicant.py)
  arithmetic    + - * / and unary -; '+' also joins two texts; '&' joins anything as text
  comparison    = == != <> < <= > >=   (same types; bool only = and !=)
  membership    x in ('A', 'B')   x not in [1, 2]
  logic         and or not  && || !   (keywords case-insensitive; short-circuit)
  functions     IF IFS AND OR NOT SUM AVERAGE MIN MAX ROUND ABS TODAY NOW DATEDIF
                WORKDAYS CONCAT LEFT RIGHT MID LEN UPPER LOWER TRIM TEXT VALUE
                REGEXMATCH REGEXEXTRACT CONTAINS ISBLANK DATE
                (case-insensitive; AND(a, b) and OR(a, b) as calls too; see `functions`)
  precedence    or < and < not < comparison/in < + - & < * / < unary - < call

Null rules: arithmetic with null is null; any comparison with null is false, except
`x = null` / `x != null`, which test whether x is missing; `x not in (...)` means
`x != a and x != b ...` (so false for a null x); null counts as false in and/or/not/IF;
'&' treats null as empty text.

Limits: at most `MAX_LENGTH` (4,000) characters ("too_long") and `MAX_DEPTH` (64) levels
of nesting ("too_deep").

Errors: `ExprError` (a kernel `FlowdeskError`, HTTP 422) with `.code`, `.message` and
`.position` (0-based character offset); `str(e)` is
``f"{message} (at character {position + 1})"``. Codes: syntax, too_long, too_deep,
unknown_field, unknown_function, argument_count, type_mismatch, invalid_date,
invalid_argument, invalid_pattern (compile time); float_value, invalid_value
(evaluation time).
"""

from flowdesk.engines.expr.compiler import CompiledExpression, compile_expression
from flowdesk.engines.expr.context import EvalContext, WorkdayCalendar
from flowdesk.engines.expr.errors import ERROR_CODES, ExprError
from flowdesk.engines.expr.functions import FUNCTIONS, FunctionSpec
from flowdesk.engines.expr.nodes import Node
from flowdesk.engines.expr.parser import MAX_DEPTH, MAX_LENGTH, parse
from flowdesk.engines.expr.valuetypes import ExprType

__all__ = [
    "ERROR_CODES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "CompiledExpression",
    "EvalContext",
    "ExprError",
    "ExprType",
    "FunctionSpec",
    "Node",
    "WorkdayCalendar",
    "compile_expression",
    "parse",
]
