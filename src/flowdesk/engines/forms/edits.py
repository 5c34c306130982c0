"""Changes to a filed ticket's values by the person deciding a task: refused by default.

A ticket's values are what approvers decide on, so a task may change only the fields its
node declares `editable` (none unless the app says so); any other key is refused with
`field_not_editable` (`field_hidden` for one the node hides, ADR 0037) and nothing is
written. An accepted change is returned with its old and new stored value so the caller
can keep both in the timeline and the audit. `refuse_locked` is the same refusal for the
start form's hidden and read-only fields.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed

from .messages import message
from .parse import KEY_PATTERN
from .spec import FieldType, FormSpec
from .validate import field_of_path, validate_submission
from .values import is_masked_echo, restore_masked_rows


@dataclass(frozen=True)
class FieldChange:
    """One field's stored value before and after a decision; None means absent."""

    field: str
    type: FieldType
    old: object
    new: object


def validate_edits(
    form: FormSpec,
    raw: Mapping[str, object],
    *,
    editable: Collection[str],
    hidden: Collection[str] = (),
    current: Mapping[str, object],
    source: Literal["json", "html"],
    locale: str = "en",
) -> tuple[FieldChange, ...]:
    """The changes `raw` makes to `current`, in form order, or ValidationFailed naming every
    refused key: `field_not_editable` for a field the node does not open, `unknown_field`
    for a key that is not a field, or the field's own validation error.

    A given editable field that cleans to nothing (blank text, JSON null) clears an optional
    field and is refused with `required` for a required one.
    """
    errors: list[ErrorDetail] = []
    fields = {field.key: field for field in form.fields}
    wanted: dict[str, object] = {}
    for key, value in raw.items():
        if key not in fields:
            path = key if isinstance(key, str) and KEY_PATTERN.fullmatch(key) else "(unknown)"
            errors.append(ErrorDetail(path, "unknown_field", message("unknown_field", locale)))
        elif key not in editable:
            errors.append(_locked(key, hidden, locale))
        elif is_masked_echo(fields[key], value, current.get(key)):
            continue  # shown masked, sent back untouched: the stored number stays
        elif fields[key].type is FieldType.TABLE:
            # row by row: a masked cell sent back as shown keeps its stored number
            wanted[key] = restore_masked_rows(fields[key], value, current.get(key))
        else:
            wanted[key] = value
    clean: dict[str, object] = {}
    try:
        clean = validate_submission(form, wanted, source=source, locale=locale, partial=True)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    failed = {field_of_path(detail.path) for detail in errors}
    for key in wanted:
        if key not in clean and key not in failed and fields[key].required:
            errors.append(ErrorDetail(key, "required", message("required", locale)))
    if errors:
        ordered = sorted(errors, key=_form_order(form))
        if any(detail.code in _LOCKED_CODES for detail in errors):
            raise ValidationFailed(message("edits_refused", locale), ordered, "values_not_editable")
        raise ValidationFailed(message("submission_invalid", locale), ordered)
    return tuple(
        FieldChange(key, field.type, current.get(key), clean.get(key))
        for key, field in fields.items()
        if key in wanted and current.get(key) != clean.get(key)
    )


_LOCKED_CODES = ("field_not_editable", "field_hidden")


def _locked(key: str, hidden: Collection[str], locale: str) -> ErrorDetail:
    code = "field_hidden" if key in hidden else "field_not_editable"
    return ErrorDetail(key, code, message(code, locale))


def refuse_locked(
    form: FormSpec,
    raw: Mapping[str, object],
    *,
    locked: Collection[str],
    hidden: Collection[str],
    locale: str = "en",
) -> None:
    """ValidationFailed (`values_not_editable`) naming each key of `raw` that the start
    form locks: `field_hidden` for a hidden field, `field_not_editable` for a read-only one."""
    errors = [_locked(key, hidden, locale) for key in raw if key in locked]
    if errors:
        raise ValidationFailed(
            message("start_fields_refused", locale),
            sorted(errors, key=_form_order(form)),
            "values_not_editable",
        )


def _form_order(form: FormSpec) -> Callable[[ErrorDetail], int]:
    order = {key: index for index, key in enumerate(form.keys())}

    def position(detail: ErrorDetail) -> int:
        return order.get(field_of_path(detail.path), len(order))

    return position
