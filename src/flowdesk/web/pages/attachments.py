"""Downloading an attachment from the ticket page (ADR 0028): the session's person, the
same permission check as the API, never shown inline."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from flowdesk.services import attachments
from flowdesk.web.pages.common import checked_id
from flowdesk.web.session import Ctx, CurrentSession

router = APIRouter()


@router.get("/attachments/{attachment_id}")
def download(ctx: Ctx, session: CurrentSession, attachment_id: str) -> Response:
    checked_id(attachment_id, "attachment")
    view, chunks = attachments.download(ctx, actor=session.actor, attachment_id=attachment_id)
    headers = {
        **attachments.DOWNLOAD_HEADERS,
        "Content-Disposition": attachments.content_disposition(view.filename),
        "Content-Length": str(view.size),
    }
    return StreamingResponse(chunks, media_type=view.content_type, headers=headers)
