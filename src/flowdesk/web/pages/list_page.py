"""What the list pages share: reading the list vocabulary from the URL (one parser,
services/list_query.py) and answering with the whole page or, for "load more", the rows.

A bad parameter (an unknown sort, a malformed date, a cursor the list did not give, an
app or user that does not exist) is answered 400 with the list page and what was wrong
above it, in the page's language: the template words each error by its code (the
service's codes and English messages stay what the API sends)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.kernel.search_terms import MAX_QUERY_TERMS
from flowdesk.services.auth import WebSession
from flowdesk.services.list_query import MAX_PAGE, MAX_Q, ListQuery, Sort, parse_list_query
from flowdesk.services.views import Page
from flowdesk.web.render import render

T = TypeVar("T")
# An unknown parameter is named on the page only when it looks like a parameter name
# (never a long or personal string someone put in the URL).
SHOWN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")
BAD_QUERY_STATUS = 400


def read_query(
    request: Request, *, ignore: tuple[str, ...], default_sort: Sort, page_size: int
) -> tuple[ListQuery, list[ErrorDetail]]:
    """The query, or the default one and what was wrong (shown above the list). Empty
    form fields mean "no filter", as a submitted filter bar sends them."""
    params = {k: v for k, v in request.query_params.items() if k not in ignore and v != ""}
    try:
        return parse_list_query(params, default_sort=default_sort, default_limit=page_size), []
    except ValidationFailed as exc:
        fallback = parse_list_query({}, default_sort=default_sort, default_limit=page_size)
        return fallback, exc.errors or [ErrorDetail("", exc.code, exc.message)]


def fetch_page(
    errors: list[ErrorDetail], fetch: Callable[[], Page[T]]
) -> tuple[Page[T] | None, list[ErrorDetail]]:
    """The page, unless the query was already refused; what the list's service refuses
    once it looks names up (an unknown app or user, a cursor from another list, a person
    other than me) is shown above the list like a parsing error."""
    if errors:
        return None, errors
    try:
        return fetch(), []
    except ValidationFailed as exc:
        if exc.code != "invalid_query":
            raise
        return None, exc.errors or [ErrorDetail("", exc.code, exc.message)]


def _shown(error: ErrorDetail) -> ErrorDetail:
    if error.code == "unknown_parameter" and not SHOWN_NAME.fullmatch(error.path):
        return ErrorDetail("", error.code, error.message)
    return error


def list_page(
    request: Request,
    session: WebSession,
    query: ListQuery,
    errors: list[ErrorDetail],
    page: Page[Any] | None,
    *,
    full: str,
    rows: str,
    extra: dict[str, Any],
) -> Response:
    base: dict[str, str] = extra.get("base_params", {})
    params = {**base, **query.filter_params()}
    context = {
        **extra,
        "page": page or Page([], None),
        "query": query,
        "errors": [_shown(e) for e in errors],
        "limits": {"page": MAX_PAGE, "q": MAX_Q, "terms": MAX_QUERY_TERMS},
        "more_url": (
            f"{request.url.path}?{urlencode({**params, 'cursor': page.next_cursor})}"
            if page and page.next_cursor
            else ""
        ),
        # Sorting is not filtering: "no tickets match" and "clear filters" need a filter.
        "filtered": bool(set(query.filter_params()) - {"sort", "order"}),
        # The filter bar stays folded (a phone's screen) unless the URL chose something.
        "filters_open": bool(
            {k for k, v in request.query_params.items() if v} - {"q", "cursor", "tab", "scope"}
        ),
    }
    if request.headers.get("HX-Request") == "true" and request.query_params.get("cursor"):
        return render(request, rows, context, fragment=True, session=session)
    status = BAD_QUERY_STATUS if errors else 200
    return render(request, full, context, status=status, session=session)
