"""Files sent with the ticket page's forms (decision, return, comment): uploaded through
the attachments service before the action, whose ids the action then carries (ADR 0028).
A refused file stops the action; the files already uploaded stay unlinked and are
purged after a day."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import FormData, UploadFile

from flowdesk.engines.files import AttachmentRefused
from flowdesk.engines.forms import FieldType, FormSpec
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services import attachments
from flowdesk.services.auth import WebSession
from flowdesk.services.context import ServiceContext

UPLOAD_FIELD = "files"
MAX_FILES = 10


def upload_files(
    ctx: ServiceContext, session: WebSession, form: FormData, locale: str
) -> list[str]:
    """The ids of the files posted in `files` (an empty file input sends one nameless,
    empty part: skipped)."""
    return _upload(ctx, session, form.getlist(UPLOAD_FIELD)[:MAX_FILES], locale)


def _upload(
    ctx: ServiceContext, session: WebSession, parts: Sequence[object], locale: str
) -> list[str]:
    ids: list[str] = []
    for value in parts:
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        # read from the request's spooled part in chunks, never whole (ADR 0028)
        view = attachments.upload(
            ctx, actor=session.actor, filename=value.filename, source=value.file, locale=locale
        )
        ids.append(view.id)
    return ids


def field_uploads(
    ctx: ServiceContext,
    session: WebSession,
    form_spec: FormSpec,
    data: FormData,
    values: dict[str, object],
    locale: str,
) -> None:
    """A ticket form's attachment fields (ADR 0037): the files each picker posted
    (`key[]`) uploaded, the field's value becoming their ids (a field without files is
    left out). A refused file is a 422 at its field; the service checks the rest."""
    for field in form_spec.fields:
        if field.type is not FieldType.ATTACHMENT:
            continue
        parts = data.getlist(field.key + "[]")
        values.pop(field.key, None)
        try:
            ids = _upload(ctx, session, parts[: (field.max_files or 1) + 1], locale)
        except AttachmentRefused as exc:
            raise ValidationFailed(
                exc.message, [ErrorDetail(field.key, exc.code, exc.message)], exc.code
            ) from None
        if ids:
            values[field.key] = ids
