"""Files sent with the ticket page's forms (decision, return, comment): uploaded through
the attachments service before the action, whose ids the action then carries (ADR 0028).
A refused file stops the action; the files already uploaded stay unlinked and are
purged after a day."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile

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
    ids: list[str] = []
    for value in form.getlist(UPLOAD_FIELD)[:MAX_FILES]:
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        view = attachments.upload(
            ctx, actor=session.actor, filename=value.filename, source=value.file, locale=locale
        )
        ids.append(view.id)
    return ids
