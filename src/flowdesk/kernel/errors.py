"""One error vocabulary for every layer; the API turns it into problem+json (RFC 9457).

Messages are short English defaults; `code` is stable and is what UIs translate.
Details never carry a submitted value, so personal data cannot leak through errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    path: str
    code: str
    message: str


@dataclass
class FlowdeskError(Exception):
    """Base of all expected failures; `status` is the HTTP status it maps to."""

    message: str
    code: str = "error"
    errors: list[ErrorDetail] = field(default_factory=list)
    status: int = 400

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        details = "; ".join(f"{e.path}: {e.message}" for e in self.errors)
        return f"{self.message} ({details})"


class ValidationFailed(FlowdeskError):
    def __init__(
        self, message: str, errors: list[ErrorDetail] | None = None, code: str = "validation_failed"
    ) -> None:
        super().__init__(message, code, errors or [], 422)


class DefinitionInvalid(FlowdeskError):
    """An app, form or process definition cannot be published; errors name the path."""

    def __init__(self, errors: list[ErrorDetail]) -> None:
        super().__init__("The definition is invalid", "definition_invalid", errors, 422)


class NotFound(FlowdeskError):
    def __init__(self, message: str, code: str = "not_found") -> None:
        super().__init__(message, code, [], 404)


class Forbidden(FlowdeskError):
    def __init__(self, message: str, code: str = "forbidden") -> None:
        super().__init__(message, code, [], 403)


class Unauthenticated(FlowdeskError):
    def __init__(
        self, message: str = "Authentication required", code: str = "unauthenticated"
    ) -> None:
        super().__init__(message, code, [], 401)


class Conflict(FlowdeskError):
    """The target changed or finished meanwhile: someone else acted first."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message, code, [], 409)


class TooManyAttempts(FlowdeskError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many attempts; try again later", "too_many_attempts", [], 429)
        self.retry_after_seconds = retry_after_seconds


class ConfigurationError(FlowdeskError):
    """The settings contradict the database or the machine: flowdesk refuses to start."""

    def __init__(self, message: str, code: str = "configuration_error") -> None:
        super().__init__(message, code, [], 500)
