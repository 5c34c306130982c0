"""Published app versions, parsed once per process and kept: versions are immutable.

Looking a version up by id is a dictionary hit after the first ticket, so the hot
path never re-parses YAML or recompiles branch conditions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Connection

from flowdesk.engines.apps import AppSpec, ConditionEvaluator, parse_app
from flowdesk.engines.apps.formulas import FormComputer
from flowdesk.kernel.errors import NotFound
from flowdesk.store import apps as apps_store


@dataclass(frozen=True)
class PublishedApp:
    version_id: str
    app_id: str
    version: int
    spec: AppSpec
    conditions: ConditionEvaluator
    formulas: FormComputer


class AppRegistry:
    def __init__(self) -> None:
        self._versions: dict[str, PublishedApp] = {}
        self._lock = threading.Lock()

    def version(self, conn: Connection, version_id: str) -> PublishedApp:
        found = self._versions.get(version_id)
        if found is not None:
            return found
        row = apps_store.version_by_id(conn, version_id)
        if row is None:
            raise NotFound("App version not found", "app_version_not_found")
        spec = parse_app(row.definition)
        published = PublishedApp(
            row.id, row.app_id, row.version, spec, ConditionEvaluator(spec), FormComputer(spec.form)
        )
        with self._lock:
            self._versions[version_id] = published
        return published

    def current(self, conn: Connection, app_key: str) -> PublishedApp:
        return self.current_and_org_generation(conn, app_key)[0]

    def current_and_org_generation(
        self, conn: Connection, app_key: str
    ) -> tuple[PublishedApp, int]:
        """The app's current version and the org generation, read in one statement."""
        version_id, org_generation = apps_store.current_version_id(conn, app_key)
        if version_id is None:
            raise NotFound(f"No app {app_key!r}", "app_not_found")
        return self.version(conn, version_id), org_generation

    def called(self, conn: Connection, app_key: str, number: int) -> tuple[PublishedApp, int]:
        """What a call activity calls (ADR 0033, 0035): the app's current version (`number`
        0, "latest") or its published version `number` (pinned), with the org generation."""
        if not number:
            return self.current_and_org_generation(conn, app_key)
        version_id, org_generation = apps_store.version_id_by_number(conn, app_key, number)
        if version_id is None:
            raise NotFound(f"App {app_key!r} has no version {number}", "app_version_not_found")
        return self.version(conn, version_id), org_generation
