"""The form builder: an administrator builds an app's form in the browser (ADR 0039).

The page draws its palette and settings panel from the form engine's palette
(engines/forms/palette.py) and edits the current version's form as the JSON that app
YAML holds under `form:` (static/builder/builder.js). Check, Preview and Publish post
that JSON, with the CSRF token in the X-CSRF-Token header, to the services the API uses
(services.apps.check_form / publish_form): every problem comes back at once, each with
the field (by position) and the setting it names; the preview is the new-ticket form's
own fields as the server draws them for what was typed into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from flowdesk.engines.apps import MAX_YAML_BYTES, parseable_fields
from flowdesk.engines.apps.formulas import FormState
from flowdesk.engines.forms import FormSpec
from flowdesk.engines.forms.palette import GROUPS, palette
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail, NotFound
from flowdesk.services import apps, form_values
from flowdesk.services.auth import WebSession
from flowdesk.web import json_answers
from flowdesk.web.forms import field_views
from flowdesk.web.render import render, request_locale
from flowdesk.web.session import CSRF_HEADER, CsrfRefused, Ctx, CurrentSession, csrf_ok

router = APIRouter(prefix="/admin/apps")
T = TypeVar("T")

# form.fields[3].options[0].value -> field 3, setting "options"; a sub-table's
# form.fields[2].columns[1].max -> field 2, setting "columns", column 1, its setting "max"
_AT_FIELD = re.compile(r"^form\.fields\[(\d+)\](?:\.([a-z_]+))?(?:\[(\d+)\](?:\.([a-z_]+))?)?")


@router.get("/{key}/form-builder")
def builder(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    apps.check_permission(session.actor)
    app = apps.current(ctx, key)
    return render(
        request,
        "admin_form_builder.html",
        {
            "app": app.spec,
            "version": app.version,
            "form_json": app.spec.form.to_dict(),
            "palette_json": [kind.to_dict() for kind in palette()],
            "apps_json": [
                {
                    "key": t.key,
                    "name": t.name,
                    "records": t.records,
                    "fields": [{"key": k, "label": label} for k, label in t.fields],
                }
                for t in apps.link_targets(ctx)
            ],
            "groups": GROUPS,
        },
        session=session,
    )


@router.post("/{key}/form-builder/check")
async def check(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    """Dry run: every problem Publish would refuse, nothing stored."""
    posted = await _posted_json(request, session)
    if isinstance(posted, Response):
        return posted
    checked = await _service(apps.check_form, ctx, session.actor, key, posted.get("form"))
    if isinstance(checked, Response):
        return checked
    return json_answers.answer({"ok": True, "errors": []})


@router.post("/{key}/form-builder/preview")
async def preview(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    """The draft form's fields as the new-ticket page would draw them for what was typed
    into the preview: shown or hidden, required, computed (its rules run on the server)."""
    posted = await _posted_json(request, session)
    if isinstance(posted, Response):
        return posted
    apps.check_permission(session.actor)
    locale = request_locale(request)
    values = posted.get("values")
    raw = _raw(values if isinstance(values, Mapping) else {})
    form: FormSpec | None
    state: FormState | None = None
    try:
        spec = await run_in_threadpool(apps.check_form, ctx, session.actor, key, posted.get("form"))
    except DefinitionInvalid as exc:  # the fields that parse, no rules until all check
        form = parseable_fields(posted.get("form"), exc.errors)[1]
    else:
        form = spec.form
        state = await run_in_threadpool(
            form_values.draft_state, ctx, session.actor, form, raw, locale=locale
        )
    if form is None:
        return render(
            request, "_builder_preview.html", {"fields": None}, fragment=True, session=session
        )
    fields = field_views(form, locale, raw, {}, {}, state)
    return render(
        request,
        "_builder_preview.html",
        {"fields": fields, "app_key": key},
        fragment=True,
        session=session,
    )


@router.post("/{key}/form-builder/publish")
async def publish(request: Request, ctx: Ctx, session: CurrentSession, key: str) -> Response:
    posted = await _posted_json(request, session)
    if isinstance(posted, Response):
        return posted
    result = await _service(apps.publish_form, ctx, key, posted.get("form"), actor=session.actor)
    if isinstance(result, Response):
        return result
    return json_answers.answer({"ok": True, "version": result.version, "changed": result.changed})


def _raw(values: Mapping[object, object]) -> dict[str, str]:
    """What was typed into the preview as text; a multi choice's ticked values joined."""
    raw: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, list):
            value = ",".join(v for v in value if isinstance(v, str))
        if isinstance(name, str) and isinstance(value, str):
            raw[name] = value
    return raw


async def _posted_json(request: Request, session: WebSession) -> dict[str, Any] | Response:
    if not csrf_ok(session.csrf_token, request.headers.get(CSRF_HEADER)):
        raise CsrfRefused()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        problem = ErrorDetail("", "unsupported_media_type", "Send application/json")
        return _problems([problem], status=415)
    body = await request.body()
    if len(body) > MAX_YAML_BYTES:
        problem = ErrorDetail("", "too_large", f"At most {MAX_YAML_BYTES:,} bytes")
        return _problems([problem], status=413)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return _problems([ErrorDetail("", "invalid_json", "The body is not JSON")], status=400)
    if not isinstance(data, dict):
        return _problems([ErrorDetail("", "invalid_json", "Send a JSON object")], status=400)
    return data


def _at(path: str) -> dict[str, object]:
    """The field (its position in the list) and the setting a problem names, so the
    builder shows it beside them."""
    found = _AT_FIELD.match(path)
    if not found:
        return {"field": None, "setting": None}
    at: dict[str, object] = {"field": int(found.group(1)), "setting": found.group(2)}
    if found.group(2) == "columns" and found.group(3) is not None:
        at.update(column=int(found.group(3)), column_setting=found.group(4))
    return at


def _problems(errors: list[ErrorDetail], status: int = 422) -> JSONResponse:
    return json_answers.problems(errors, _at, status)


async def _service(call: Callable[..., T], *args: object, **kwargs: object) -> T | Response:
    """The service's answer, or its problems (the app's definition, an unknown app) as
    the page's JSON."""
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    except (DefinitionInvalid, NotFound) as exc:
        return _problems(exc.errors or [ErrorDetail("", exc.code, exc.message)])
