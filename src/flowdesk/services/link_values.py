"""Linked records (ADR 0038): checking what a link field holds and reading the look-ups
and roll-ups live (the picker's search is services/links.py).

A link holds ids of the linked app's tickets or records. On every write the ids must be
live ones of that app (not deleted, not cancelled): a refusal is a 422 at the field,
nothing written. Look-ups (the linked records' chosen fields) and roll-ups (sum, count,
min, max of a linked field) are computed when the ticket is read, from the linked
records as they are then: one read for all of a ticket's links, nothing stored, so a
linked record's change shows at once and nothing has to be kept in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from flowdesk.engines.apps.records import DELETED_STATUS
from flowdesk.engines.apps.spec import AppSpec
from flowdesk.engines.forms import FieldType, FormSpec, display_value, masked_value
from flowdesk.engines.forms.links import rollup
from flowdesk.engines.forms.messages import message
from flowdesk.engines.forms.spec import NUMERIC_TYPES
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail, NotFound, ValidationFailed
from flowdesk.services.context import ServiceContext
from flowdesk.services.registry import PublishedApp
from flowdesk.store import apps as apps_store
from flowdesk.store import tickets as tickets_store

DEAD_STATUSES = frozenset({DELETED_STATUS, "cancelled"})


@dataclass(frozen=True)
class LookupValue:
    key: str
    label: dict[str, str]
    text: str


@dataclass(frozen=True)
class LinkedRecord:
    id: str
    serial: str
    title: str
    status: str
    lookup: tuple[LookupValue, ...]


def link_fields(form: FormSpec) -> list[Any]:
    return [f for f in form.fields if f.type is FieldType.LINK]


def check_links(
    ctx: ServiceContext,
    conn: Connection,
    app: PublishedApp,
    values: Mapping[str, object],
    locale: str,
) -> None:
    """Refuses (422 at the field, `link_not_found`) ids that are not live tickets or
    records of the field's linked app."""
    errors: list[ErrorDetail] = []
    for field in link_fields(app.spec.form):
        ids = values.get(field.key)
        if not isinstance(ids, list) or not ids:
            continue
        target = apps_store.app_by_key(conn, str(field.link_app))
        rows = tickets_store.tickets_by_ids(conn, [str(i) for i in ids])
        live = {
            r.id
            for r in rows
            if target is not None and r.app_id == target.id and r.status not in DEAD_STATUSES
        }
        if any(i not in live for i in ids):
            errors.append(
                ErrorDetail(field.key, "link_not_found", message("link_not_found", locale))
            )
    if errors:
        raise ValidationFailed(message("submission_invalid", locale), errors)


def live_records(
    ctx: ServiceContext, conn: Connection, field: Any, ids: list[str], locale: str
) -> tuple[LinkedRecord, ...]:
    """Those of `ids` that are live records (or tickets) of the link field's app, in the
    order given, with the field's look-ups."""
    target = apps_store.app_by_key(conn, str(field.link_app))
    if target is None:
        return ()
    rows = {
        r.id: r
        for r in tickets_store.tickets_by_ids(conn, ids)
        if r.app_id == target.id and r.status not in DEAD_STATUSES
    }
    out = []
    for record_id in dict.fromkeys(ids):
        row = rows.get(record_id)
        if row is not None:
            form = ctx.apps.version(conn, row.app_version_id).spec.form
            lookup = lookup_values(form, field.lookup, row.values, locale)
            out.append(LinkedRecord(row.id, row.serial, row.title, row.status, lookup))
    return tuple(out)


def resolve(
    ctx: ServiceContext,
    conn: Connection,
    app: PublishedApp,
    values: Mapping[str, object],
    locale: str,
) -> tuple[dict[str, tuple[LinkedRecord, ...]], dict[str, Any]]:
    """Each link field's records with their look-ups, and each roll-up's value, from the
    linked records as they are now (a deleted one is shown as deleted and not counted)."""
    fields = link_fields(app.spec.form)
    wanted = [str(i) for f in fields for i in _ids(values.get(f.key))]
    if not wanted:
        return {}, _rollups(app.spec, {}, {})
    rows = {r.id: r for r in tickets_store.tickets_by_ids(conn, wanted)}
    versions = {r.app_version_id: ctx.apps.version(conn, r.app_version_id) for r in rows.values()}
    links: dict[str, tuple[LinkedRecord, ...]] = {}
    for field in fields:
        found = []
        for record_id in _ids(values.get(field.key)):
            row = rows.get(record_id)
            if row is None:
                continue
            form = versions[row.app_version_id].spec.form
            found.append(
                LinkedRecord(
                    row.id,
                    row.serial,
                    row.title,
                    row.status,
                    lookup_values(form, field.lookup, row.values, locale),
                )
            )
        links[field.key] = tuple(found)
    stored = {r.id: (r.values, r.status) for r in rows.values()}
    return links, _rollups(app.spec, values, stored)


def _ids(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def lookup_values(
    form: FormSpec, keys: tuple[str, ...], stored: Mapping[str, Any], locale: str
) -> tuple[LookupValue, ...]:
    fields = {f.key: f for f in form.fields}
    out = []
    for key in keys:
        field = fields.get(key)
        if field is None:  # the linked app's newer version dropped it
            continue
        value = stored.get(key)
        shown = masked_value(field, value) if field.personal else value
        text = display_value(field, shown, locale) if shown is not None else ""
        out.append(LookupValue(key, {"en": field.label.en, "zh": field.label.zh}, text))
    return tuple(out)


def _rollups(
    spec: AppSpec, values: Mapping[str, object], stored: Mapping[str, tuple[Any, str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in spec.form.fields:
        if field.type is not FieldType.ROLLUP or field.aggregate is None:
            continue
        live = [
            stored[i][0]
            for i in _ids(values.get(str(field.link_field)))
            if i in stored and stored[i][1] not in DEAD_STATUSES
        ]
        result = rollup(field.aggregate, (v.get(field.rollup_field) for v in live))
        out[field.key] = None if result is None else str(result)
    return out


def check_link_targets(ctx: ServiceContext, conn: Connection, spec: AppSpec) -> None:
    """At publish: each link names a published app and look-up fields it has; each
    roll-up a field of it (a number for sum, min and max)."""
    errors: list[ErrorDetail] = []
    links = {f.key: f for f in link_fields(spec.form)}
    for i, field in enumerate(spec.form.fields):
        path = f"form.fields[{i}]"
        if field.type is FieldType.LINK:
            target = _published(ctx, conn, str(field.link_app), spec)
            if target is None:
                errors.append(
                    ErrorDetail(
                        f"{path}.app", "unknown_app", f"No published app '{field.link_app}'"
                    )
                )
                continue
            keys = set(target.keys())
            errors.extend(
                ErrorDetail(
                    f"{path}.lookup[{j}]",
                    "unknown_field",
                    f"'{field.link_app}' has no field '{key}'",
                )
                for j, key in enumerate(field.lookup)
                if key not in keys
            )
        elif field.type is FieldType.ROLLUP and field.link_field in links:
            link = links[str(field.link_field)]
            target = _published(ctx, conn, str(link.link_app), spec)
            if target is None or field.rollup_field is None:
                continue
            kinds = {f.key: f.type for f in target.fields}
            kind = kinds.get(field.rollup_field)
            if kind is None:
                errors.append(
                    ErrorDetail(
                        f"{path}.field",
                        "unknown_field",
                        f"'{link.link_app}' has no field '{field.rollup_field}'",
                    )
                )
            elif field.aggregate != "count" and kind not in NUMERIC_TYPES:
                errors.append(
                    ErrorDetail(
                        f"{path}.field",
                        "not_a_number",
                        f"'{field.rollup_field}' is not a number to {field.aggregate}",
                    )
                )
    if errors:
        raise DefinitionInvalid(errors)


def _published(ctx: ServiceContext, conn: Connection, key: str, spec: AppSpec) -> FormSpec | None:
    if key == spec.key:
        return spec.form  # an app may link to its own records
    try:
        return ctx.apps.current(conn, key).spec.form
    except NotFound:
        return None
