"""导入工单: an app's tickets from the rows of a spreadsheet, in the browser (ADR 0032).

Step 1 sends the file: the preview (services/ticket_import.py with `dry_run`) shows
each column and the field it fills, with a menu to change it, and every row's errors.
Step 2 sends the previewed file back (base64 in the page, as the org-chart import does)
with the chosen columns and mode: the rows are checked again from scratch and filed,
all or nothing unless "import the valid rows" was chosen."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services import apps, ticket_import
from flowdesk.services.spreadsheets import ENCODINGS
from flowdesk.web.pages.common import form_text
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import CheckedForm, Ctx, CurrentSession

router = APIRouter()
# The preview posts the file back, base64, under the web's body limit; larger files go
# through the API or `flowdesk app import-rows`.
MAX_WEB_IMPORT_BYTES = 700_000
MAP_PREFIX = "map:"


@router.get("/apps/{key}/import")
def import_form(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    return _page(request, ctx, session, key, {})


@router.post("/apps/{key}/import")
async def run_import(
    request: Request, ctx: Ctx, session: CurrentSession, form: CheckedForm, key: str
) -> Response:
    encoding = form_text(form, "encoding")
    if encoding not in ENCODINGS:
        encoding = "auto"
    mode = "valid_rows" if form_text(form, "mode") == "valid_rows" else "all"
    applying = form_text(form, "apply") == "1"
    name, content, problem = await _uploaded(form, applying)
    context: dict[str, Any] = {"encoding": encoding, "mode": mode, "name": name}
    if problem is not None:
        context["errors"] = [problem]
        return _page(request, ctx, session, key, context, status=422)
    mapping = {
        field_name[len(MAP_PREFIX) :]: value
        for field_name, value in form.multi_items()
        if field_name.startswith(MAP_PREFIX) and isinstance(value, str)
    }
    try:
        report = ticket_import.import_rows(
            ctx,
            session.actor,
            key,
            filename=name,
            content=content,
            mapping=mapping or None,
            mode=mode,  # type: ignore[arg-type]
            dry_run=not applying,
            encoding=encoding,  # type: ignore[arg-type]
            locale=request_locale(request),
        )
    except ValidationFailed as exc:
        context["errors"] = exc.errors or [ErrorDetail("", exc.code, exc.message)]
        context["problem"] = exc.code
        if applying and exc.code in _FIXABLE:  # the preview again, to change the mapping
            context["report"] = _preview(
                ctx, session, key, name, content, mapping, encoding, request
            )
            context["payload"] = base64.b64encode(content).decode()
        return _page(request, ctx, session, key, context, status=422)
    context["report"] = report
    if report.dry_run:
        context["payload"] = base64.b64encode(content).decode()
    return _page(request, ctx, session, key, context)


# What the mapping or the mode can fix; any other refusal is of the file itself.
_FIXABLE = frozenset({"import_rows_invalid", "required_field_unmapped", "invalid_mapping"})


def _preview(
    ctx: Ctx,
    session: CurrentSession,
    key: str,
    name: str,
    content: bytes,
    mapping: dict[str, str],
    encoding: str,
    request: Request,
) -> ticket_import.ImportReport | None:
    """The dry run of the same file with the same columns, for the page to show again."""
    try:
        return ticket_import.import_rows(
            ctx,
            session.actor,
            key,
            filename=name,
            content=content,
            mapping=mapping or None,
            dry_run=True,
            encoding=encoding,  # type: ignore[arg-type]
            locale=request_locale(request),
        )
    except ValidationFailed:
        try:  # the chosen mapping itself was refused: the automatic one
            return ticket_import.import_rows(
                ctx,
                session.actor,
                key,
                filename=name,
                content=content,
                dry_run=True,
                encoding=encoding,  # type: ignore[arg-type]
                locale=request_locale(request),
            )
        except ValidationFailed:
            return None


def _page(
    request: Request,
    ctx: Ctx,
    session: CurrentSession,
    key: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    published = apps.current(ctx, key)
    locale = request_locale(request)
    fields = [(f.key, f.label.get(locale) or f.key) for f in published.spec.form.fields]
    return render(
        request,
        "app_import.html",
        {
            "app": published.spec,
            "app_key": key,
            "fields": fields,
            "report": None,
            "errors": [],
            "encoding": "auto",
            "mode": "all",
            "max_bytes": MAX_WEB_IMPORT_BYTES,
            "payload": None,
            "problem": None,
            "name": "",
            **context,
        },
        status=status,
        session=session,
    )


async def _uploaded(form: FormData, applying: bool) -> tuple[str, bytes, ErrorDetail | None]:
    if applying:
        name = form_text(form, "name")[:100] or "import"
        try:
            return name, base64.b64decode(form_text(form, "payload"), validate=True), None
        except (binascii.Error, ValueError):
            return name, b"", ErrorDetail("file", "invalid_upload", "The upload was damaged")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "", b"", ErrorDetail("file", "no_file", "Choose a file")
    content = await upload.read(MAX_WEB_IMPORT_BYTES + 1)
    name = upload.filename[:100]
    if len(content) > MAX_WEB_IMPORT_BYTES:
        return name, b"", ErrorDetail("file", "file_too_large", "Too large for the web")
    if not content:
        return name, b"", ErrorDetail("file", "no_file", "The file is empty")
    return name, content, None
