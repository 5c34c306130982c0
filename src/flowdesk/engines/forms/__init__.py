"""Form engine: typed field definitions and the server-side validation of what people submit.

Public API: `parse_form` builds a `FormSpec` from a definition; `validate_submission`
turns raw JSON/HTML input into clean stored values or one `ValidationFailed` listing
every bad field; `clean_comment` does the same for an approver's comment;
`validate_edits` checks the values an approver sends against the fields their step
may change; `typed_values` and `expression_types` feed the expression engine;
`display_value` and `amount_in_capitals` render values for people; `masked_value(s)`
hide personal numbers (resident ID, mobile, bank card) from those not allowed to see
them, and `is_masked_echo` tells a masked value posted back from a real change.
"""

from .auto_numbers import auto_number_formats, auto_numbers
from .capitals import amount_in_capitals
from .edits import FieldChange, refuse_locked, validate_edits
from .parse import parse_form
from .spec import PERSONAL_TYPES, ChoiceOption, FieldSpec, FieldType, FormSpec, LocalText
from .validate import clean_comment, validate_submission
from .values import (
    display_value,
    expression_types,
    is_masked_echo,
    mask_number,
    masked_value,
    masked_values,
    restore_masked,
    typed_values,
)

__all__ = [
    "PERSONAL_TYPES",
    "ChoiceOption",
    "FieldChange",
    "FieldSpec",
    "FieldType",
    "FormSpec",
    "LocalText",
    "amount_in_capitals",
    "auto_number_formats",
    "auto_numbers",
    "clean_comment",
    "display_value",
    "expression_types",
    "is_masked_echo",
    "mask_number",
    "masked_value",
    "masked_values",
    "parse_form",
    "refuse_locked",
    "restore_masked",
    "typed_values",
    "validate_edits",
    "validate_submission",
]
