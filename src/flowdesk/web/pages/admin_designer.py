"""The process designer: an administrator draws an app's process in bpmn-js and sets
what BPMN lacks (names in both languages, assignee rule, approval mode, editable fields,
branch conditions) in flowdesk's own side panel (static/designer/designer.js).

The page opens the current version's BPMN export (`/admin/apps/{key}/export.bpmn`); Check
and Publish post the drawn XML to the same import the Apps page and the API use
(services.apps.check_bpmn / publish_bpmn), with the CSRF token in the X-CSRF-Token
header, and answer JSON: every problem at its element id, the warnings, the version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from flowdesk.engines.forms import FieldType
from flowdesk.engines.process.spec import (
    APPROVAL_MODES,
    ASSIGNEE_KINDS,
    MAX_MANAGER_LEVEL,
    PICK_RULES,
    RESUBMIT_SETTINGS,
)
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail, NotFound
from flowdesk.services import apps
from flowdesk.services.auth import WebSession
from flowdesk.web import bpmn_assets, json_answers
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import CSRF_HEADER, CsrfRefused, Ctx, CurrentSession, csrf_ok

router = APIRouter(prefix="/admin/apps")

PEOPLE = frozenset({FieldType.USER, FieldType.USERS})
UNITS = frozenset({FieldType.DEPARTMENT})

XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml")
# bpmn[Task_Review].conditionExpression -> Task_Review
_ELEMENT = re.compile(r"^bpmn\[([^\]]+)\]")


@router.get("/{key}/designer")
def designer(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    apps.check_permission(session.actor)
    app = apps.current(ctx, key)
    locale = request_locale(request)
    fields = [(f.key, f.label.get(locale)) for f in app.spec.form.fields]
    # the fields an assignee rule can read (issue 8): people, and departments
    people = [(f.key, f.label.get(locale)) for f in app.spec.form.fields if f.type in PEOPLE]
    units = [(f.key, f.label.get(locale)) for f in app.spec.form.fields if f.type in UNITS]
    return render(
        request,
        "admin_designer.html",
        {
            "app": app.spec,
            "version": app.version,
            "fields": fields,
            "assignee_kinds": ASSIGNEE_KINDS,
            "people_fields": people,
            "department_fields": units,
            "pick_rules": PICK_RULES,
            "approval_modes": APPROVAL_MODES,
            "max_level": MAX_MANAGER_LEVEL,
            "resubmit_settings": RESUBMIT_SETTINGS,
            "assets": bpmn_assets,
        },
        session=session,
    )


@router.post("/{key}/designer/check")
async def check(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    """Dry run: what Publish would refuse or warn about, nothing stored."""
    data = await _posted_xml(request, session)
    if isinstance(data, Response):
        return data
    try:
        checked = await run_in_threadpool(apps.check_bpmn, ctx, session.actor, data, key)
    except (DefinitionInvalid, NotFound) as exc:
        return _problems(exc.errors or [ErrorDetail("", exc.code, exc.message)])
    return _json({"ok": True, "warnings": _details(checked.warnings)})


@router.post("/{key}/designer/publish")
async def publish(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    data = await _posted_xml(request, session)
    if isinstance(data, Response):
        return data
    try:
        result = await run_in_threadpool(apps.publish_bpmn, ctx, data, key, actor=session.actor)
    except (DefinitionInvalid, NotFound) as exc:
        return _problems(exc.errors or [ErrorDetail("", exc.code, exc.message)])
    published = result.published
    return _json(
        {
            "ok": True,
            "key": published.key,
            "version": published.version,
            "changed": published.changed,
            "warnings": _details(result.warnings),
        }
    )


async def _posted_xml(request: Request, session: WebSession) -> bytes | Response:
    if not csrf_ok(session.csrf_token, request.headers.get(CSRF_HEADER)):
        raise CsrfRefused()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES:
        problem = ErrorDetail("", "unsupported_media_type", f"Send one of: {', '.join(XML_TYPES)}")
        return _problems([problem], status=415)
    return await request.body()


def _element(path: str) -> dict[str, object]:
    """The element a problem or warning names, so a click can select it."""
    found = _ELEMENT.match(path)
    return {"element": found.group(1) if found else None}


def _details(found: Iterable[ErrorDetail]) -> list[dict[str, object]]:
    return json_answers.details(found, _element)


def _problems(errors: list[ErrorDetail], status: int = 422) -> JSONResponse:
    return json_answers.problems(errors, _element, status)


_json = json_answers.answer
