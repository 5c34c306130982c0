"""Small helpers shared by the page modules."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

from flowdesk.kernel.errors import NotFound, ValidationFailed

ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def checked_id(value: str, what: str = "ticket") -> str:
    """Ids are 32 hex characters; anything else cannot exist, so it is simply not found."""
    if not ID_PATTERN.fullmatch(value):
        raise NotFound(f"{what.capitalize()} not found", f"{what}_not_found")
    return value


def checked_cursor(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not ID_PATTERN.fullmatch(value):
        raise ValidationFailed("Invalid cursor", code="invalid_cursor")
    return value


def form_text(form: FormData, key: str) -> str:
    """A posted field's text ("" when absent, or a file where text was expected)."""
    value = form.get(key)
    return value if isinstance(value, str) else ""
