"""Linked records (ADR 0038): a `link` field holds ids of another app's records or
tickets; `lookup` names the linked app's fields shown beside each; a `rollup` field
aggregates one field over the records a link field holds (sum, count, min, max).

Look-ups and roll-ups are read live, when the ticket is read (services/links.py), never
stored: a linked record that changes shows its new values everywhere at once. Which app
and which of its fields exist is checked when the app is published (services/apps.py);
this module checks the shape and computes the aggregates.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .spec import FieldSpec, FieldType

if TYPE_CHECKING:
    from .parse import Problems

MAX_LINKS = 50  # records one link field holds
MAX_LOOKUP = 4
AGGREGATES = ("sum", "count", "min", "max")
_APP_KEY = re.compile(r"[a-z][a-z0-9_-]{1,40}")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class LinkRules:
    link_app: str | None = None
    multiple: bool = False
    lookup: tuple[str, ...] = ()
    link_field: str | None = None
    rollup_field: str | None = None
    aggregate: str | None = None

    def as_field(self) -> dict[str, Any]:
        return {
            "link_app": self.link_app,
            "multiple": self.multiple,
            "lookup": self.lookup,
            "link_field": self.link_field,
            "rollup_field": self.rollup_field,
            "aggregate": self.aggregate,
        }


def parse_link_rules(
    raw: Mapping[str, object], field_type: FieldType, path: str, errors: Problems
) -> LinkRules:
    if field_type is FieldType.LINK:
        app = raw.get("app")
        if not isinstance(app, str) or not _APP_KEY.fullmatch(app):
            errors.add(f"{path}.app", "required", "Name the linked app by its key, e.g. customers")
            app = None
        multiple = raw.get("multiple", False)
        if not isinstance(multiple, bool):
            errors.add(f"{path}.multiple", "invalid_type", "'multiple' must be true or false")
        lookup = _keys(raw.get("lookup", []), f"{path}.lookup", errors)
        if len(lookup) > MAX_LOOKUP:
            errors.add(f"{path}.lookup", "too_many", f"At most {MAX_LOOKUP} look-up fields")
        return LinkRules(link_app=app, multiple=multiple is True, lookup=lookup)
    link, field, aggregate = raw.get("link"), raw.get("field"), raw.get("aggregate")
    if not isinstance(link, str) or not _FIELD_KEY.fullmatch(link):
        errors.add(f"{path}.link", "required", "Name the link field it aggregates over")
        link = None
    if aggregate not in AGGREGATES:
        errors.add(f"{path}.aggregate", "invalid_choice", f"One of: {', '.join(AGGREGATES)}")
        aggregate = None
    if field is None and aggregate == "count":
        field = None  # count needs no field: it counts the linked records
    elif not isinstance(field, str) or not _FIELD_KEY.fullmatch(field):
        errors.add(f"{path}.field", "required", "Name the linked app's field it aggregates")
        field = None
    if raw.get("required") not in (None, False):
        errors.add(f"{path}.required", "invalid_rule", "A roll-up is computed, never filled in")
    return LinkRules(link_field=link, rollup_field=field, aggregate=aggregate)


def _keys(raw: object, path: str, errors: Problems) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        errors.add(path, "invalid_type", "A list of the linked app's field keys")
        return ()
    return tuple(dict.fromkeys(raw))


def check_rollup_links(
    raw_fields: list[object], parsed: list[FieldSpec], path: str, errors: Problems
) -> None:
    """Each roll-up names a link field of the same form."""
    links = [f.key for f in parsed if f.type is FieldType.LINK]
    index = {raw.get("key"): i for i, raw in enumerate(raw_fields) if isinstance(raw, Mapping)}
    for field in parsed:
        if field.type is not FieldType.ROLLUP or field.link_field in links:
            continue
        close = difflib.get_close_matches(str(field.link_field), links, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        errors.add(
            f"{path}[{index.get(field.key, 0)}].link",
            "unknown_field",
            f"No link field '{field.link_field}' in this form{hint}",
        )


def rollup(aggregate: str, values: Iterable[object]) -> Decimal | int | None:
    """The aggregate over the linked records' values: count counts the records (values
    given or not), sum / min / max the numbers among them; None when there is none."""
    items = list(values)
    if aggregate == "count":
        return len(items)
    numbers = [Decimal(str(v)) for v in items if _is_number(v)]
    if not numbers:
        return None
    if aggregate == "sum":
        return sum(numbers, Decimal(0))
    return min(numbers) if aggregate == "min" else max(numbers)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | Decimal):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except ArithmeticError:
            return False
        return value.strip() != ""
    return False
