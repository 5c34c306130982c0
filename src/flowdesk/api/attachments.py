"""REST API v1: attachments (ADR 0028). Upload first (multipart), then name the ids in
an action's `attachments`; download permission-checked, never rendered inline."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from flowdesk.api.answers import answer
from flowdesk.api.body import BadRequest
from flowdesk.api.deps import Ctx, CurrentActor, operation_id, request_locale
from flowdesk.api.openapi_errors import DESCRIPTIONS
from flowdesk.engines.files import KNOWN_TYPES
from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services import attachments

router = APIRouter(generate_unique_id_function=operation_id)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "title": "AttachmentUpload",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The file; its name's extension declares its type",
                        }
                    },
                    "additionalProperties": False,
                }
            }
        },
    }
}


# Every type a download is served as: the one its extension proved (engines/files).
DOWNLOAD_CONTENT = {
    content_type: {"schema": {"type": "string", "format": "binary"}}
    for content_type in sorted({served for served, _ in KNOWN_TYPES.values()})
}


class AttachmentOut(BaseModel):
    id: str = Field(description="Name it in an action's `attachments` to attach the file")
    filename: str = Field(description="The display name: the uploaded name, sanitised")
    content_type: str = Field(description="From the extension the file's bytes proved")
    size: int
    sha256: str
    created_at: datetime


def attachment_answer(view: attachments.AttachmentView) -> dict[str, object]:
    return {
        "id": view.id,
        "filename": view.filename,
        "content_type": view.content_type,
        "size": view.size,
        "sha256": view.sha256,
        "created_at": view.created_at,
    }


@router.post(
    "/attachments",
    response_model=AttachmentOut,
    status_code=201,
    tags=["attachments"],
    openapi_extra=UPLOAD_BODY,
)
async def upload_attachment(request: Request, actor: CurrentActor, ctx: Ctx) -> Response:
    """Uploads one file (multipart/form-data, field `file`), unlinked until an approve,
    reject, return or comment names its id in `attachments` (only the uploader may use or
    download it until then; unused uploads are deleted after a day).

    Too large: 413 `attachment_too_large`. Refused with 422: `attachment_type_refused`
    (an extension outside the allowed list), `attachment_double_extension`
    (`invoice.pdf.exe`, `a.php.jpg`), `attachment_type_mismatch` (bytes that are not what
    the extension says, such as a .pdf that is a ZIP), `attachment_archive_bomb`,
    `attachment_archive_nested` (an archive or program inside a .zip),
    `attachment_archive_encrypted`, `attachment_empty`, `attachment_file_required`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise BadRequest("Send multipart/form-data", "unsupported_media_type", 415)
    locale = request_locale(request)
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            text = "请选择要上传的文件" if locale == "zh" else "Send the file in the field `file`"
            raise ValidationFailed(
                text, [ErrorDetail("file", "required", text)], code="attachment_file_required"
            )
        view = await run_in_threadpool(
            attachments.upload,
            ctx,
            actor=actor,
            filename=upload.filename or "",
            source=upload.file,
            locale=locale,
        )
    return answer(attachment_answer(view), status_code=201)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    tags=["attachments"],
    responses={
        200: {
            "description": "The file's bytes, as a download (Content-Disposition: attachment)",
            "content": DOWNLOAD_CONTENT,
        },
        404: {"description": DESCRIPTIONS[404]},
    },
)
def download_attachment(attachment_id: str, actor: CurrentActor, ctx: Ctx) -> Response:
    """Downloads an attachment: anyone who may read the ticket it is attached to, or its
    uploader before it is attached. Anyone else gets 404 `attachment_not_found`, as for an
    id that does not exist. Served with its stored type, `X-Content-Type-Options: nosniff`
    and `Content-Disposition: attachment` (the name as RFC 5987 `filename*`)."""
    view, chunks = attachments.download(ctx, actor=actor, attachment_id=attachment_id)
    headers = {
        **attachments.DOWNLOAD_HEADERS,
        "Content-Disposition": attachments.content_disposition(view.filename),
        "Content-Length": str(view.size),
    }
    return StreamingResponse(chunks, media_type=view.content_type, headers=headers)
