"""Attachment form fields (ADR 0037): the files a ticket's values name, checked and linked.

A field's value is the list of attachment ids its files got from `POST /attachments`
(ADR 0028). When the values are written, each new id must be the writer's own unlinked
upload (`attachments.unlinked_of`), of a type the field accepts and no larger than it
allows; then the files are linked to the ticket under the field's key in the same
transaction, so a refused or lost write links nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.access import Actor
from flowdesk.engines.forms import FieldSpec, FieldType, FormSpec
from flowdesk.engines.forms.messages import message
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services import attachments
from flowdesk.services.context import ServiceContext

MB = 1024 * 1024
Carried = dict[str, list[dict[str, Any]]]


def _ids(value: object) -> list[str]:
    return [str(i) for i in value] if isinstance(value, list) else []


def attachment_fields(form: FormSpec) -> tuple[FieldSpec, ...]:
    return tuple(f for f in form.fields if f.type is FieldType.ATTACHMENT)


def carried_files(
    ctx: ServiceContext,
    conn: Connection,
    actor: Actor,
    form: FormSpec,
    values: Mapping[str, object],
    *,
    before: Mapping[str, object] | None = None,
    locale: str = "en",
) -> Carried:
    """Each attachment field's new files (ids not in `before`), checked; ValidationFailed
    (422) naming `field[i]` for every id that is not the writer's unlinked upload, of a
    type the field does not accept or larger than it allows."""
    found: Carried = {}
    errors: list[ErrorDetail] = []
    for field in attachment_fields(form):
        ids = _ids(values.get(field.key))
        kept = set(_ids((before or {}).get(field.key)))
        new = [i for i in ids if i not in kept]
        if not new:
            continue
        try:
            carried = attachments.unlinked_of(ctx, conn, actor, new, locale)
        except ValidationFailed as exc:
            for detail in exc.errors:
                index = _index(detail.path)
                at = ids.index(new[index]) if index is not None else 0
                errors.append(ErrorDetail(f"{field.key}[{at}]", detail.code, detail.message))
            continue
        for summary in carried:
            problem = _refusal(field, summary, locale)
            if problem is not None:
                errors.append(ErrorDetail(f"{field.key}[{ids.index(summary['id'])}]", *problem))
        found[field.key] = carried
    if errors:
        raise ValidationFailed(message("submission_invalid", locale), errors)
    return found


def _index(path: str) -> int | None:
    """3 of "attachments[3]"."""
    head, _, rest = path.partition("[")
    number = rest.rstrip("]")
    return int(number) if head == "attachments" and number.isdigit() else None


def _refusal(field: FieldSpec, summary: Mapping[str, Any], locale: str) -> tuple[str, str] | None:
    name = str(summary.get("filename", ""))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if field.accept and extension not in field.accept:
        text = message("attachment_type", locale).format(limit=", ".join(field.accept))
        return "attachment_type", text
    if field.max_size_mb is not None and int(summary.get("size", 0)) > field.max_size_mb * MB:
        return "attachment_size", message("attachment_size", locale).format(limit=field.max_size_mb)
    return None


def step_links(carried: Carried, action: str) -> list[dict[str, Any]]:
    """The links of `carried` as a step's write lists them (StepWrite.attachments): each
    file under its field's key, linked only if the step's write wins (ADR 0028)."""
    return [
        {"id": f["id"], "task_id": None, "action": action, "field_key": key}
        for key, files in carried.items()
        for f in files
    ]
