"""Auto-number fields (ADR 0038): which fields a form numbers, and their stored values.

The number itself is given by the store when it numbers the ticket's serial (the format
applied to the serial's year and sequence, kernel/serials.format_number), so it is as
gap-free and as safe under concurrency as the serial; nobody types or changes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from .spec import FieldType, FormSpec


def auto_number_formats(form: FormSpec) -> tuple[tuple[str, str], ...]:
    """(field key, format) of each auto-number field, in form order."""
    return tuple(
        (f.key, f.number_format)
        for f in form.fields
        if f.type is FieldType.AUTO_NUMBER and f.number_format is not None
    )


def auto_numbers(form: FormSpec, values: Mapping[str, object]) -> dict[str, object]:
    """The auto-numbers a ticket was given, from its stored values."""
    return {key: values[key] for key, _ in auto_number_formats(form) if key in values}
