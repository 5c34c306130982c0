"""Publishing apps: a definition is validated, then stored as a new immutable version.

Importing the same definition again publishes nothing (its SHA-256 matches the
current version), so `flowdesk app import` is safe to re-run from version control.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from flowdesk.engines.access import Actor, decide
from flowdesk.engines.apps import (
    AppSpec,
    BpmnAppImport,
    dump_app_bpmn,
    dump_app_yaml,
    load_app_bpmn,
    load_app_yaml,
    with_form,
)
from flowdesk.kernel.errors import Conflict, DefinitionInvalid, ErrorDetail, Forbidden, NotFound
from flowdesk.kernel.ids import new_id
from flowdesk.services import webhooks
from flowdesk.services.call_checks import check_calls
from flowdesk.services.context import ServiceContext
from flowdesk.services.link_values import check_link_targets
from flowdesk.services.registry import PublishedApp
from flowdesk.store import apps as apps_store
from flowdesk.store import audit as audit_store

SYSTEM = "system"


@dataclass(frozen=True)
class PublishResult:
    key: str
    version: int
    version_id: str
    changed: bool


@dataclass(frozen=True)
class AppSummary:
    key: str
    name: dict[str, str]
    category: str | None
    version: int


def _refuse_what_this_installation_does(
    ctx: ServiceContext, spec: AppSpec, *, bpmn: bool = False
) -> None:
    """A definition's service tasks as this installation sees them: secret names it
    configures, addresses it lets webhooks reach (ADR 0024)."""
    refused = webhooks.publish_problems(ctx.webhooks, spec, bpmn=bpmn)
    if refused:
        raise DefinitionInvalid(refused)


def publish_yaml(ctx: ServiceContext, text: str, *, actor: Actor | None = None) -> PublishResult:
    """Validates YAML (all errors at once, with paths) and publishes it; `actor` None = CLI."""
    if actor is not None and not decide(actor, "app.publish"):
        raise Forbidden("Only administrators may publish apps")
    return publish(ctx, load_app_yaml(text), actor=actor)


def publish(ctx: ServiceContext, spec: AppSpec, *, actor: Actor | None = None) -> PublishResult:
    definition = spec.to_dict()
    digest = hashlib.sha256(
        json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    now = ctx.clock.now()
    _refuse_what_this_installation_does(ctx, spec)
    with ctx.db.write() as conn:
        _check_serial_prefix(ctx, conn, spec)
        check_calls(ctx, conn, spec)  # the apps it calls, their fields, no cycle (ADR 0033)
        check_link_targets(ctx, conn, spec)  # linked apps and their fields (ADR 0038)
        app = apps_store.app_by_key(conn, spec.key)
        if app is None:
            app_id = new_id()
            apps_store.insert_app(
                conn,
                id=app_id,
                key=spec.key,
                name_en=spec.name.en,
                name_zh=spec.name.zh,
                category=spec.category,
                created_at=now,
            )
        else:
            app_id = app.id
            if app.current_version_id is not None:
                current = apps_store.version_by_id(conn, app.current_version_id)
                if current is not None and current.definition_sha256 == digest:
                    return PublishResult(spec.key, current.version, current.id, False)
        number = apps_store.latest_version_number(conn, app_id) + 1
        version_id = new_id()
        apps_store.insert_version(
            conn,
            id=version_id,
            app_id=app_id,
            version=number,
            definition=definition,
            sha256=digest,
            published_at=now,
            published_by=actor.user_id if actor else None,
        )
        apps_store.set_current_version(
            conn,
            app_id=app_id,
            version_id=version_id,
            name_en=spec.name.en,
            name_zh=spec.name.zh,
            category=spec.category,
        )
        audit_store.append(
            conn,
            at=now,
            actor=actor.username if actor else SYSTEM,
            action="app.publish",
            target_type="app",
            target_id=app_id,
            details={"key": spec.key, "version": number, "sha256": digest},
        )
    return PublishResult(spec.key, number, version_id, True)


def _check_serial_prefix(ctx: ServiceContext, conn: Connection, spec: AppSpec) -> None:
    """Serials are unique across apps (LN-2026-000123 names one ticket), so two apps
    cannot share a prefix: the second app's first ticket would repeat the first's serial."""
    prefix = spec.serial_prefix
    for other in apps_store.list_apps(conn):
        if other.key == spec.key or other.current_version_id is None:
            continue
        if ctx.apps.version(conn, other.current_version_id).spec.serial_prefix == prefix:
            raise Conflict(
                f"The serial prefix {prefix} is already used by app '{other.key}'; "
                "choose another serial_prefix",
                "serial_prefix_taken",
            )


def export_yaml(ctx: ServiceContext, key: str) -> str:
    return dump_app_yaml(current(ctx, key).spec)


@dataclass(frozen=True)
class BpmnPublishResult:
    published: PublishResult
    # What the file held that flowdesk read but does not use, or mapped from a vendor
    # notation (path bpmn[<element id>]); shown to the builder, never stored.
    warnings: tuple[ErrorDetail, ...]


def publish_bpmn(
    ctx: ServiceContext,
    data: str | bytes,
    app_key: str,
    *,
    actor: Actor | None = None,
    process_id: str | None = None,
) -> BpmnPublishResult:
    """Replaces the process of app `app_key` with a BPMN file's and publishes a new
    version; the form and the rest of the app stay. DefinitionInvalid lists every
    problem at its element id."""
    imported = check_bpmn(ctx, actor, data, app_key, process_id=process_id)
    return BpmnPublishResult(publish(ctx, imported.spec, actor=actor), imported.warnings)


def check_bpmn(
    ctx: ServiceContext,
    actor: Actor | None,
    data: str | bytes,
    app_key: str,
    *,
    process_id: str | None = None,
) -> BpmnAppImport:
    """What `publish_bpmn` would publish, without publishing it."""
    check_permission(actor)
    imported = load_app_bpmn(data, current(ctx, app_key).spec, process_id=process_id)
    _refuse_what_this_installation_does(ctx, imported.spec, bpmn=True)
    with ctx.db.read() as conn:  # the apps it calls (ADR 0033), as publishing checks them
        check_calls(ctx, conn, imported.spec)
    return imported


def export_bpmn(ctx: ServiceContext, key: str) -> str:
    """The current version's process as BPMN 2.0 with its diagram."""
    return dump_app_bpmn(current(ctx, key).spec)


def check_form(ctx: ServiceContext, actor: Actor | None, app_key: str, form: object) -> AppSpec:
    """The app `app_key` with `form` (`{fields: [...]}`, as the form builder and
    `PUT /api/v1/admin/apps/{key}/form` send it) in place of its form, checked as
    publishing checks it, nothing stored; DefinitionInvalid lists every problem at its
    path (`form.fields[2].formula`)."""
    check_permission(actor)
    spec = with_form(current(ctx, app_key).spec, form)
    _refuse_what_this_installation_does(ctx, spec)
    return spec


def publish_form(
    ctx: ServiceContext, app_key: str, form: object, *, actor: Actor | None = None
) -> PublishResult:
    """Publishes app `app_key` with `form` as its form (ADR 0039): a new version, by the
    same path as a YAML import; the same form again publishes nothing."""
    return publish(ctx, check_form(ctx, actor, app_key, form), actor=actor)


def current(ctx: ServiceContext, key: str) -> PublishedApp:
    with ctx.db.read() as conn:
        return ctx.apps.current(conn, key)


def list_apps(ctx: ServiceContext) -> list[AppSummary]:
    # One statement; the published versions it names never change (no snapshot needed).
    with ctx.db.read(snapshot=False) as conn:
        rows = apps_store.list_apps(conn)
        summaries = []
        for row in rows:
            published = ctx.apps.version(conn, row.current_version_id)
            summaries.append(
                AppSummary(
                    row.key,
                    {"en": published.spec.name.en, "zh": published.spec.name.zh},
                    row.category,
                    published.version,
                )
            )
    return summaries


@dataclass(frozen=True)
class LinkTarget:
    """A published app a link field can name (ADR 0038), with its fields by key: what the
    form builder offers for a link's `app`, `lookup` and a roll-up's `field`."""

    key: str
    name: dict[str, str]
    records: bool
    fields: tuple[tuple[str, dict[str, str]], ...]  # (key, label) in form order


def link_targets(ctx: ServiceContext) -> list[LinkTarget]:
    """Every published app, record apps first, each with its current form's fields."""
    with ctx.db.read(snapshot=False) as conn:
        specs = [
            ctx.apps.version(conn, row.current_version_id).spec
            for row in apps_store.list_apps(conn)
        ]
    targets = [
        LinkTarget(
            spec.key,
            {"en": spec.name.en, "zh": spec.name.zh},
            spec.is_records,
            tuple((f.key, {"en": f.label.en, "zh": f.label.zh}) for f in spec.form.fields),
        )
        for spec in specs
    ]
    return sorted(targets, key=lambda t: (not t.records, t.key))


@dataclass(frozen=True)
class VersionSummary:
    id: str
    version: int
    sha256: str
    published_at: datetime
    published_by: str | None  # username; None when published from the command line
    is_current: bool


def check_permission(actor: Actor | None) -> None:
    """Managing apps (versions, export, publishing) is for administrators."""
    if actor is not None and not decide(actor, "app.publish"):
        raise Forbidden("Only administrators may manage apps")


_may_publish = check_permission


def check_yaml(actor: Actor | None, text: str, ctx: ServiceContext | None = None) -> AppSpec:
    """Validates an app's YAML without publishing it (DefinitionInvalid lists every error);
    with `ctx`, as this installation would publish it (webhooks' secrets and addresses)."""
    _may_publish(actor)
    spec = load_app_yaml(text)
    if ctx is not None:
        _refuse_what_this_installation_does(ctx, spec)
        with ctx.db.read() as conn:  # the apps it calls (ADR 0033)
            check_calls(ctx, conn, spec)
    return spec


def versions(ctx: ServiceContext, actor: Actor | None, key: str) -> list[VersionSummary]:
    _may_publish(actor)
    with ctx.db.read() as conn:
        app = apps_store.app_by_key(conn, key)
        if app is None:
            raise NotFound(f"No app {key[:64]}", "app_not_found")
        rows = apps_store.versions_of(conn, app.id)
    return [
        VersionSummary(
            row.id,
            row.version,
            row.definition_sha256,
            row.published_at,
            row.published_by,
            row.id == app.current_version_id,
        )
        for row in rows
    ]
