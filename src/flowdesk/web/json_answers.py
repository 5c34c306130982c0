"""The JSON answers of the admin pages' own scripts (the process designer, the form
builder): each problem or warning with what it names on the page, and the security
headers every page of flowdesk sends (nosniff, no-store and the rest)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi.responses import JSONResponse

from flowdesk.kernel.errors import ErrorDetail
from flowdesk.web.render import SECURITY_HEADERS

# what a problem's path names on the page: {"element": …} or {"field": …, "setting": …}
Locate = Callable[[str], Mapping[str, object]]


def details(found: Iterable[ErrorDetail], locate: Locate) -> list[dict[str, object]]:
    return [{"path": d.path, **locate(d.path), "code": d.code, "message": d.message} for d in found]


def problems(errors: Iterable[ErrorDetail], locate: Locate, status: int = 422) -> JSONResponse:
    return answer({"ok": False, "errors": details(errors, locate)}, status)


def answer(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=dict(SECURITY_HEADERS))
