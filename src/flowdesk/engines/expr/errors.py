"""Why this module exists: an author must learn exactly what is wrong with a condition, and where.

Conditions are typed by bank staff in a designer and checked again when a definition is
published. Every failure of the expression language is an `ExprError` carrying a stable
`code` (what UIs translate and tests assert), a clear English `message`, and the 0-based
character `position` of the offending token so the designer can underline it.

`str(error)` is ``f"{message} (at character {position + 1})"``: the attribute is a 0-based
offset for programs, the text shows the 1-based character number people count with.

Messages name fields, functions and types, never a submitted runtime value, so personal
data cannot leak through an error.
"""

from __future__ import annotations

from flowdesk.kernel.errors import ErrorDetail, FlowdeskError

# Stable error codes. Add new ones here; never rename an existing one.
SYNTAX = "syntax"
TOO_LONG = "too_long"
TOO_DEEP = "too_deep"
UNKNOWN_FIELD = "unknown_field"
UNKNOWN_FUNCTION = "unknown_function"
ARGUMENT_COUNT = "argument_count"
TYPE_MISMATCH = "type_mismatch"
INVALID_DATE = "invalid_date"
INVALID_ARGUMENT = "invalid_argument"  # a literal argument a function cannot use (a TEXT format)
INVALID_PATTERN = "invalid_pattern"  # a REGEX* pattern that is invalid, too long or too slow
FLOAT_VALUE = "float_value"
INVALID_VALUE = "invalid_value"

ERROR_CODES: frozenset[str] = frozenset(
    {
        SYNTAX,
        TOO_LONG,
        TOO_DEEP,
        UNKNOWN_FIELD,
        UNKNOWN_FUNCTION,
        ARGUMENT_COUNT,
        TYPE_MISMATCH,
        INVALID_DATE,
        INVALID_ARGUMENT,
        INVALID_PATTERN,
        FLOAT_VALUE,
        INVALID_VALUE,
    }
)


class ExprError(FlowdeskError):
    """An expression cannot be parsed, type-checked or evaluated with the given values.

    A `FlowdeskError` (HTTP 422), so the API layer reports it like any other invalid input.
    """

    def __init__(self, message: str, code: str, position: int) -> None:
        super().__init__(message, code, [], 422)
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"

    def __repr__(self) -> str:
        return f"ExprError({self.message!r}, {self.code!r}, {self.position!r})"

    def as_detail(self, path: str) -> ErrorDetail:
        """This error as one entry of a definition's error list, e.g. for `DefinitionInvalid`."""
        return ErrorDetail(path=path, code=self.code, message=str(self))
