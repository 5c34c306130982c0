"""What the list pages share: reading the list vocabulary from the URL (one parser,
services/list_query.py) and answering with the whole page or, for "load more", the rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.services.auth import WebSession
from flowdesk.services.list_query import ListQuery, Sort, parse_list_query
from flowdesk.services.views import Page
from flowdesk.web.render import render


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
        "errors": errors,
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
    return render(request, full, context, status=422 if errors else 200, session=session)
