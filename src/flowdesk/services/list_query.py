"""The one filter, sort, search and cursor vocabulary of every list (API and web alike).

    app=loan  status=running  node=legal_review  assignee=me|<username>
    requester=me|<username>  department=<code>
    created_from / created_to / finished_from / finished_to = YYYY-MM-DD (bank's zone, inclusive)
    q=<text>  sort=created|updated|waiting  order=desc|asc  cursor=<opaque>  limit=1..100

`waiting` sorts by how long the current step has waited: `order=desc` (the default)
puts the longest wait first. A cursor is only valid for the sort and order it came
from; any other answer is a precise 422, never a silently different page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from flowdesk.kernel.errors import ErrorDetail, ValidationFailed
from flowdesk.kernel.search_terms import MAX_QUERY_TERMS, QueryTerm, query_terms
from flowdesk.kernel.serials import BANK_ZONE

Sort = Literal["created", "updated", "waiting"]
SORTS: tuple[Sort, ...] = ("created", "updated", "waiting")
STATUSES = ("running", "approved", "rejected", "cancelled", "revoked")  # ADR 0019, 0042
PARAMS = (
    "app",
    "status",
    "node",
    "assignee",
    "requester",
    "department",
    "created_from",
    "created_to",
    "finished_from",
    "finished_to",
    "q",
    "sort",
    "order",
    "cursor",
    "limit",
)
MAX_Q = 100
MAX_PAGE = 100
MAX_CURSOR = 200
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
SERIAL_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,11}-\d{4}(-\d{0,9})?")


@dataclass(frozen=True)
class ListQuery:
    app: str | None = None
    status: str | None = None
    node: str | None = None
    assignee: str | None = None  # "me" or a username
    requester: str | None = None
    department: str | None = None
    created_from: datetime | None = None  # UTC instants; `*_before` is exclusive
    created_before: datetime | None = None
    finished_from: datetime | None = None
    finished_before: datetime | None = None
    q: str = ""
    terms: tuple[QueryTerm, ...] = ()
    serial_prefix: str | None = None  # q that looks like (the start of) a serial
    sort: Sort = "created"
    descending: bool = True
    after: tuple[str, str] | None = None  # the cursor's (order value, id)
    limit: int = 20

    def filter_params(self) -> dict[str, str]:
        """The query as URL parameters, without cursor: for "more" links and forms."""
        out: dict[str, str] = {}
        for name in ("app", "status", "node", "assignee", "requester", "department"):
            value = getattr(self, name)
            if value:
                out[name] = value
        for name, moment, end in (
            ("created_from", self.created_from, False),
            ("created_to", self.created_before, True),
            ("finished_from", self.finished_from, False),
            ("finished_to", self.finished_before, True),
        ):
            if moment is not None:
                day = moment.astimezone(BANK_ZONE).date() - (
                    timedelta(days=1) if end else timedelta()
                )
                out[name] = day.isoformat()
        if self.q:
            out["q"] = self.q
        if self.sort != "created" or not self.descending:
            out["sort"] = self.sort
            out["order"] = "desc" if self.descending else "asc"
        return out


def parse_list_query(
    params: Mapping[str, str], *, default_sort: Sort = "created", default_limit: int = 20
) -> ListQuery:
    """Checks every parameter at once; unknown ones are refused (a typo would otherwise
    silently list everything)."""
    errors: list[ErrorDetail] = []
    for name in params:
        if name not in PARAMS:
            errors.append(ErrorDetail(name, "unknown_parameter", f"Unknown parameter '{name}'"))

    def text(name: str, pattern: re.Pattern[str], what: str) -> str | None:
        raw = params.get(name, "")
        if raw == "":
            return None
        if not pattern.fullmatch(raw):
            errors.append(ErrorDetail(name, f"invalid_{name}", f"Not a valid {what}"))
            return None
        return raw

    query = ListQuery(
        app=text("app", _KEY, "app key"),
        node=text("node", _KEY, "node id"),
        assignee=text("assignee", _NAME, "username (or me)"),
        requester=text("requester", _NAME, "username (or me)"),
        department=text("department", _KEY, "department code"),
        limit=default_limit,
        sort=default_sort,
    )
    status = params.get("status", "")
    if status and status not in STATUSES:
        errors.append(ErrorDetail("status", "invalid_status", f"One of: {', '.join(STATUSES)}"))
    sort = params.get("sort", "") or default_sort
    if sort not in SORTS:
        errors.append(ErrorDetail("sort", "invalid_sort", f"One of: {', '.join(SORTS)}"))
        sort = default_sort
    order = params.get("order", "") or "desc"
    if order not in ("asc", "desc"):
        errors.append(ErrorDetail("order", "invalid_order", "One of: asc, desc"))
        order = "desc"
    query = replace(
        query,
        status=status if status in STATUSES else None,
        sort=sort,
        descending=order == "desc",
        created_from=_day(params, "created_from", errors),
        created_before=_day(params, "created_to", errors, end=True),
        finished_from=_day(params, "finished_from", errors),
        finished_before=_day(params, "finished_to", errors, end=True),
        limit=_limit(params.get("limit", ""), default_limit, errors),
    )
    query = _search(query, params.get("q", ""), errors)
    cursor = params.get("cursor", "")
    if cursor:
        query = replace(query, after=_decode_cursor(cursor, query, errors))
    if errors:
        raise ValidationFailed("The list's parameters are invalid", errors, code="invalid_query")
    return query


def _day(
    params: Mapping[str, str], name: str, errors: list[ErrorDetail], *, end: bool = False
) -> datetime | None:
    """A calendar day in the bank's zone, as the UTC instant it starts (or, for the end
    of a range, the instant the next day starts: the range includes the whole day)."""
    raw = params.get(name, "")
    if raw == "":
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(ErrorDetail(name, "invalid_date", "A date as YYYY-MM-DD"))
        return None
    if end:
        if day == date.max:
            return None
        day += timedelta(days=1)
    return datetime.combine(day, time(), BANK_ZONE)


def _limit(raw: str, default: int, errors: list[ErrorDetail]) -> int:
    if raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        errors.append(ErrorDetail("limit", "invalid_limit", f"A whole number from 1 to {MAX_PAGE}"))
        return default
    return int(raw)


def _search(query: ListQuery, raw: str, errors: list[ErrorDetail]) -> ListQuery:
    q = raw.strip()
    if not q:
        return query
    if len(q) > MAX_Q:
        errors.append(ErrorDetail("q", "too_long", f"At most {MAX_Q} characters"))
        return query
    if any(ord(c) < 32 for c in q):
        errors.append(ErrorDetail("q", "invalid_characters", "Control characters are not allowed"))
        return query
    if SERIAL_LIKE.fullmatch(q):
        # A serial, whole or its start (LN-2026-0001): looked up by the serial itself,
        # not as the words LN, 2026 and 0001, which nearly every ticket of the app has.
        return replace(query, q=q, serial_prefix=q.upper())
    found = query_terms(q)
    if not found:
        errors.append(
            ErrorDetail(
                "q", "no_search_terms", "Give letters, digits or Chinese characters to search"
            )
        )
        return query
    if len(found) > MAX_QUERY_TERMS:
        errors.append(ErrorDetail("q", "too_many_terms", f"At most {MAX_QUERY_TERMS} words"))
        return query
    return replace(query, q=q, terms=tuple(found))


def encode_cursor(query: ListQuery, value: str, row_id: str) -> str:
    """Opaque to clients: the sort it belongs to and the last row's position in it."""
    data = [query.sort, "d" if query.descending else "a", value, row_id]
    raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return raw.decode().rstrip("=")  # no padding: nothing to percent-encode in a URL


def _decode_cursor(raw: str, query: ListQuery, errors: list[ErrorDetail]) -> tuple[str, str] | None:
    problem = "This cursor is not one this list gave"
    try:
        if len(raw) > MAX_CURSOR:
            raise ValueError(raw)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", raw):
            raise ValueError(raw)
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not (
            isinstance(data, list)
            and len(data) == 4
            and all(isinstance(part, str) and len(part) <= 64 for part in data)
            and re.fullmatch(r"[0-9a-f]{32}", data[3])
        ):
            raise ValueError(raw)
    except (ValueError, UnicodeError, binascii.Error):
        errors.append(ErrorDetail("cursor", "invalid_cursor", problem))
        return None
    sort, direction, value, row_id = data
    if sort != query.sort or direction != ("d" if query.descending else "a"):
        errors.append(
            ErrorDetail(
                "cursor",
                "cursor_sort_mismatch",
                "This cursor belongs to another sort or order; start again without it",
            )
        )
        return None
    return value, row_id
