"""Check a whole app definition at once: its own keys, the form, the process, and the
branch conditions against the form's fields.

The checks span engines (a condition names form fields), so they live here, where
the engines' public APIs meet; the result is one `DefinitionInvalid` listing every
problem with its path, so a builder fixes a definition in one pass.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flowdesk.engines.expr import ExprError, ExprType, compile_expression
from flowdesk.engines.forms import FieldType, FormSpec, LocalText, expression_types, parse_form
from flowdesk.engines.process import ProcessSpec, parse_process
from flowdesk.engines.process.bpmn import Diagram, parse_diagram
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail
from flowdesk.kernel.serials import PREFIX_PATTERN

from .applicant import APPLICANT_FIELDS
from .assignee_fields import check_assignee_fields
from .formulas import check_form_expressions, formula_inputs
from .records import RECORD_PROCESS, RecordSettings, parse_records
from .spec import AppSpec, WithdrawSettings
from .webhooks import check_webhook_fields

APP_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_-]{1,40}")
APP_KEYS = (
    "key",
    "name",
    "description",
    "category",
    "serial_prefix",
    "summary",
    "form",
    "process",
    "diagram",
    "withdraw",
    "edit_on_resubmit",
    "records",
)
MAX_SUMMARY_FIELDS = 4
MAX_CATEGORY_LENGTH = 50
# a name a suggestion is sought for; dotted ones too (applicant.job_level)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def parse_app(data: object) -> AppSpec:
    """Build an AppSpec; raise DefinitionInvalid with every problem of every part."""
    errors: list[ErrorDetail] = []
    if not isinstance(data, Mapping):
        raise DefinitionInvalid(
            [ErrorDetail("app", "invalid_type", "An app must be a mapping of key, name, form...")]
        )
    _check_top_keys(data, errors)
    key = _parse_app_key(data.get("key"), errors)
    name = _parse_text(data.get("name"), "name", errors, required=True)
    description = _parse_text(data.get("description"), "description", errors, required=False)
    category = _parse_category(data.get("category"), errors)
    prefix = _parse_prefix(data.get("serial_prefix"), errors)
    form = _parse_form(data.get("form"), errors)
    records, process = _parse_records_or_process(data, errors)
    if isinstance(form, FormSpec):
        # formulas, visibility, requiredness, defaults (ADR 0031); a formula's result type
        # is inferred here, so conditions can read it
        form, form_errors = check_form_expressions(form)
        errors.extend(form_errors)
        conditions = (
            process.conditions("process")
            if isinstance(process, ProcessSpec)
            else _raw_conditions(data.get("process"))
        )
        errors.extend(check_conditions(form, conditions))
        if isinstance(process, ProcessSpec):
            errors.extend(check_editable(form, process))
            errors.extend(check_webhook_fields(form, process))
            errors.extend(check_assignee_fields(form, process))
            errors.extend(check_message_fields(form, process))
    summary = _parse_summary(data.get("summary"), form, errors)
    diagram = _parse_diagram(data.get("diagram"), process, errors)
    withdraw = _parse_withdraw(data.get("withdraw"), errors)
    edit_on_resubmit = data.get("edit_on_resubmit", True)
    if not isinstance(edit_on_resubmit, bool):
        errors.append(ErrorDetail("edit_on_resubmit", "invalid_type", "true or false"))
        edit_on_resubmit = True
    if errors or key is None or name is None or form is None or process is None:
        raise DefinitionInvalid(errors)
    return AppSpec(
        key=key,
        name=name,
        description=description,
        category=category,
        prefix=prefix,
        summary=summary,
        form=form,
        process=process,
        diagram=diagram,
        withdraw=withdraw,
        edit_on_resubmit=edit_on_resubmit,
        records=records,
    )


def _parse_records_or_process(
    data: Mapping[object, object], errors: list[ErrorDetail]
) -> tuple[RecordSettings | None, ProcessSpec | None]:
    """A record app (`records:`, ADR 0038) has no process; any other app needs one."""
    if "records" not in data:
        return None, _parse_process(data.get("process"), errors)
    records = parse_records(data.get("records"), errors)
    if data.get("process") is not None:
        errors.append(
            ErrorDetail(
                "process",
                "records_with_process",
                "A record app (records:) has no process: remove one or the other",
            )
        )
    return records, RECORD_PROCESS


def _parse_withdraw(raw: object, errors: list[ErrorDetail]) -> WithdrawSettings:
    """`withdraw: {applicant: true, cancel: true, revoke_days: 0}` (ADR 0019, 0042); the
    first two default to true, `revoke_days` (通过后撤销 within N days) to 0: off."""
    if raw is None:
        return WithdrawSettings()
    if not isinstance(raw, Mapping):
        errors.append(
            ErrorDetail(
                "withdraw",
                "invalid_type",
                "withdraw is {applicant: bool, cancel: bool, revoke_days: int}",
            )
        )
        return WithdrawSettings()
    found: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "revoke_days":
            if type(value) is not int or not 0 <= value <= 3650:
                errors.append(
                    ErrorDetail(
                        "withdraw.revoke_days", "invalid_value", "a whole number of days, 0-3650"
                    )
                )
            else:
                found["revoke_days"] = value
        elif key not in ("applicant", "cancel"):
            errors.append(
                ErrorDetail(
                    f"withdraw.{key}", "unknown_key", "allowed: applicant, cancel, revoke_days"
                )
            )
        elif not isinstance(value, bool):
            errors.append(ErrorDetail(f"withdraw.{key}", "invalid_type", "true or false"))
        else:
            found[str(key)] = value
    return WithdrawSettings(**found)


def field_types(form: FormSpec) -> dict[str, ExprType]:
    """The form's fields as the expression engine types them."""
    return {key: ExprType(kind) for key, kind in expression_types(form).items()}


def condition_types(form: FormSpec) -> dict[str, ExprType]:
    """What a condition may read: the form's fields and the applicant's attributes
    (applicant.job_level …, applicant.py)."""
    return {**field_types(form), **APPLICANT_FIELDS}


def check_conditions(form: FormSpec, conditions: Sequence[tuple[str, str]]) -> list[ErrorDetail]:
    """Type-check each (path, condition) against the form and the applicant's attributes;
    each must be a BOOL expression."""
    fields = condition_types(form)
    errors: list[ErrorDetail] = []
    for path, text in conditions:
        try:
            compile_expression(text, fields, expect=ExprType.BOOL)
        except ExprError as exc:
            message = f"{exc.message} at column {exc.position + 1}"
            if exc.code == "unknown_field" and "did you mean" not in exc.message.lower():
                message += _suggestion(text, exc.position, fields)
            errors.append(ErrorDetail(path=path, code=f"expr_{exc.code}", message=message))
    return errors


def check_editable(form: FormSpec, process: ProcessSpec) -> list[ErrorDetail]:
    """Each node's field permissions (ADR 0037) must name form fields; no user task may
    open a field a condition reads or a formula computes; a field locked at the start
    (hidden or read-only there) must not be one the applicant has to fill.

    A field a condition routes on is never editable at a user task: changing it after the
    route was taken (an amount lowered past the committee) would make the ticket's path a
    lie. The check is whole-process rather than "downstream of the gateway" on purpose,
    so a loop back to an earlier gateway cannot reopen the question. The start event is
    before every condition, so it may open them.
    """
    fields = {f.key: f for f in form.fields}
    readable = condition_types(form)
    routed: set[str] = set()
    for _path, text in process.conditions():
        try:
            routed |= compile_expression(text, readable, expect=ExprType.BOOL).fields_used
        except ExprError:
            continue  # reported by check_conditions
    # a condition on a formula routes on what the formula reads, too (ADR 0031)
    routed = formula_inputs(form, routed)
    errors: list[ErrorDetail] = []
    for i, node in enumerate(process.nodes.values()):
        for key, access in node.fields:
            path = f"process.nodes[{i}].fields.{key}"
            field = fields.get(key)
            if field is None:
                close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                errors.append(ErrorDetail(path, "unknown_field", f"No form field '{key}'{hint}"))
            elif access == "editable" and field.computed:  # formulas, auto-numbers, roll-ups
                errors.append(
                    ErrorDetail(path, "editable_formula", f"'{key}' is computed by the server")
                )
            elif (
                access == "editable" and node.type != "start" and field.type is FieldType.ATTACHMENT
            ):
                errors.append(
                    ErrorDetail(
                        path,
                        "editable_attachment",
                        f"'{key}' holds files, which only the applicant adds (at filing "
                        "or resubmission); a step adds files to its decision instead",
                    )
                )
            elif access == "editable" and node.type != "start" and key in routed:
                errors.append(
                    ErrorDetail(
                        path,
                        "editable_field_routes",
                        f"'{key}' is read by a branch condition, so it cannot be editable",
                    )
                )
            elif (
                access != "editable"
                and node.type == "start"
                and field.required
                and not field.computed
                and field.default is None
            ):
                errors.append(
                    ErrorDetail(
                        path,
                        "start_locked_required",
                        f"'{key}' is required, so the applicant must be able to fill it; "
                        "make it optional or give it a default",
                    )
                )
    return errors


def check_message_fields(form: FormSpec, process: ProcessSpec) -> list[ErrorDetail]:
    """A message event's correlation key is a form field (ADR 0023)."""
    keys = [f.key for f in form.fields]
    errors: list[ErrorDetail] = []
    for i, node in enumerate(process.nodes.values()):
        if node.message is not None and node.message.key and node.message.key not in keys:
            close = difflib.get_close_matches(node.message.key, keys, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            errors.append(
                ErrorDetail(
                    f"process.nodes[{i}].message.key",
                    "unknown_field",
                    f"No form field '{node.message.key}'{hint}",
                )
            )
    return errors


def _suggestion(text: str, position: int, fields: Mapping[str, ExprType]) -> str:
    match = _IDENTIFIER.match(text, position)
    if not match:
        return ""
    close = difflib.get_close_matches(match.group(), list(fields), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _raw_conditions(process: object) -> list[tuple[str, str]]:
    """Conditions straight from an invalid process definition, so they are checked too."""
    if not isinstance(process, Mapping):
        return []
    flows = process.get("flows")
    if not isinstance(flows, list):
        return []
    return [
        (f"process.flows[{i}].condition", flow["condition"])
        for i, flow in enumerate(flows)
        if isinstance(flow, Mapping) and isinstance(flow.get("condition"), str)
    ]


def _parse_diagram(
    raw: object, process: ProcessSpec | None, errors: list[ErrorDetail]
) -> Diagram | None:
    """The drawn layout; entries of nodes or flows the process no longer has are dropped
    (a diagram is cosmetic, and a YAML edit that renames a node should not fail on it)."""
    if raw is None:
        return None
    diagram, problems = parse_diagram(raw, "diagram")
    errors.extend(problems)
    if process is None:
        return None
    kept = diagram.restricted(list(process.nodes), [flow.id for flow in process.flows])
    return kept or None


def _parse_form(raw: object, errors: list[ErrorDetail]) -> FormSpec | None:
    if raw is None:
        errors.append(ErrorDetail("form", "required", "An app needs a form"))
        return None
    try:
        return parse_form(raw, "form")  # type: ignore[arg-type]  # parse_form checks the type
    except DefinitionInvalid as exc:
        errors.extend(exc.errors)
        return None


def _parse_process(raw: object, errors: list[ErrorDetail]) -> ProcessSpec | None:
    if raw is None:
        errors.append(
            ErrorDetail(
                "process",
                "required",
                "An app needs a process (or a records: block for a record app)",
            )
        )
        return None
    try:
        return parse_process(raw, "process")  # type: ignore[arg-type]  # checks the type too
    except DefinitionInvalid as exc:
        errors.extend(exc.errors)
        return None


def _check_top_keys(data: Mapping[object, object], errors: list[ErrorDetail]) -> None:
    for key in data:
        if isinstance(key, str) and key in APP_KEYS:
            continue
        close = difflib.get_close_matches(str(key), APP_KEYS, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(APP_KEYS)}"
        errors.append(ErrorDetail(str(key), "unknown_key", f"Unknown key '{key}'{hint}"))


def _parse_app_key(raw: object, errors: list[ErrorDetail]) -> str | None:
    if raw is None:
        errors.append(ErrorDetail("key", "required", "An app needs a key, such as 'loan'"))
        return None
    if not isinstance(raw, str) or not APP_KEY_PATTERN.fullmatch(raw):
        errors.append(
            ErrorDetail(
                "key",
                "invalid_key",
                "An app key is 2 to 41 characters: a lowercase letter, then lowercase "
                "letters, digits, '_' or '-'",
            )
        )
        return None
    return raw


def _parse_text(
    raw: object, path: str, errors: list[ErrorDetail], *, required: bool
) -> LocalText | None:
    """`{en: ..., zh: ...}` with both languages."""
    if raw is None:
        if required:
            errors.append(ErrorDetail(path, "required", "Give this text as {en: ..., zh: ...}"))
        return None
    if not isinstance(raw, Mapping):
        errors.append(ErrorDetail(path, "invalid_type", "Must be a mapping {en: ..., zh: ...}"))
        return None
    before = len(errors)
    for lang in raw:
        if lang not in ("en", "zh"):
            errors.append(ErrorDetail(f"{path}.{lang}", "unknown_key", "Allowed: en, zh"))
    texts = {lang: raw.get(lang) for lang in ("en", "zh")}
    for lang, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            errors.append(
                ErrorDetail(f"{path}.{lang}", "required", f"Give a non-empty '{lang}' text")
            )
    if len(errors) > before:
        return None
    return LocalText(en=str(texts["en"]), zh=str(texts["zh"]))


def _parse_category(raw: object, errors: list[ErrorDetail]) -> str | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, str)
        or not raw.strip()
        or len(raw) > MAX_CATEGORY_LENGTH
        or any(ord(c) < 32 for c in raw)
    ):
        errors.append(
            ErrorDetail(
                "category",
                "invalid_category",
                f"A category is text of 1 to {MAX_CATEGORY_LENGTH} characters",
            )
        )
        return None
    return raw


def _parse_prefix(raw: object, errors: list[ErrorDetail]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not PREFIX_PATTERN.fullmatch(raw):
        errors.append(
            ErrorDetail(
                "serial_prefix",
                "invalid_serial_prefix",
                "A serial prefix is 1 to 12 characters: a capital letter, then capital"
                " letters or digits, such as LN",
            )
        )
        return None
    return raw


def _parse_summary(
    raw: object, form: FormSpec | None, errors: list[ErrorDetail]
) -> tuple[str, ...]:
    """`summary: [amount, ...]`: form fields shown in list rows."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        errors.append(
            ErrorDetail("summary", "invalid_type", "A list of form field keys, such as [amount]")
        )
        return ()
    if len(raw) > MAX_SUMMARY_FIELDS:
        errors.append(
            ErrorDetail(
                "summary", "too_many", f"At most {MAX_SUMMARY_FIELDS} summary fields fit a row"
            )
        )
    known = [f.key for f in form.fields] if form is not None else None
    seen: set[str] = set()
    for i, key in enumerate(raw):
        if key in seen:
            errors.append(ErrorDetail(f"summary[{i}]", "duplicate", f"'{key}' is listed twice"))
        seen.add(key)
        if known is not None and key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            errors.append(
                ErrorDetail(f"summary[{i}]", "unknown_field", f"No form field '{key}'{hint}")
            )
    return tuple(raw)
