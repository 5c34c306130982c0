"""A service task's webhook body names form fields: each must be a field of the app's form
(checked when the app is published, like the fields a user task may edit)."""

from __future__ import annotations

import difflib

from flowdesk.engines.forms import FormSpec
from flowdesk.engines.process import ProcessSpec
from flowdesk.kernel.errors import ErrorDetail


def check_webhook_fields(form: FormSpec, process: ProcessSpec) -> list[ErrorDetail]:
    keys = [field.key for field in form.fields]
    errors: list[ErrorDetail] = []
    for i, node in enumerate(process.nodes.values()):
        if node.webhook is None:
            continue
        for key, (source, name) in node.webhook.body:
            if source == "form" and name not in keys:
                close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                errors.append(
                    ErrorDetail(
                        f"process.nodes[{i}].webhook.body.{key}",
                        "unknown_field",
                        f"No form field '{name}'{hint}",
                    )
                )
    return errors
