"""The app's check of assignee rules that read a form field (issue 8): the field exists
and holds what the rule reads, a department for field_department_head, a user or users
field for field_user. The process parser cannot say it, since it never sees the form."""

from __future__ import annotations

import difflib

from flowdesk.engines.forms import FormSpec
from flowdesk.engines.process import AssigneeRule, ProcessSpec
from flowdesk.engines.process.assignees import FIELD_TYPES
from flowdesk.kernel.errors import ErrorDetail


def check_assignee_fields(form: FormSpec, process: ProcessSpec) -> list[ErrorDetail]:
    types = {field.key: field.type.value for field in form.fields}
    errors: list[ErrorDetail] = []
    for i, node in enumerate(process.nodes.values()):
        path = f"process.nodes[{i}]"
        rules: list[tuple[str, AssigneeRule]] = []
        if node.assignee is not None:
            rules.append((f"{path}.assignee", node.assignee))
        if node.on_empty is not None and node.on_empty.fallback is not None:
            rules.append((f"{path}.on_empty.assignee", node.on_empty.fallback))
        for at, rule in rules:
            wanted = FIELD_TYPES.get(rule.kind)
            if wanted is None or rule.field is None:
                continue
            kind = types.get(rule.field)
            if kind is None:
                close = difflib.get_close_matches(rule.field, list(types), n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                errors.append(
                    ErrorDetail(
                        f"{at}.field", "unknown_field", f"No form field '{rule.field}'{hint}"
                    )
                )
            elif kind not in wanted:
                errors.append(
                    ErrorDetail(
                        f"{at}.field",
                        "assignee_field_wrong_type",
                        f"'{rule.field}' is a {kind} field; {rule.kind} reads a "
                        f"{' or '.join(wanted)} field",
                    )
                )
    return errors
