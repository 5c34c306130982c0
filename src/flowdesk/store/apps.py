"""Apps and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, update

from flowdesk.store.driver_select import DriverSelect
from flowdesk.store.sql import Sql
from flowdesk.store.tables import App, AppVersion, User, table_of

apps = table_of(App)
versions = table_of(AppVersion)


_APP_BY_KEY = select(apps).where(apps.c.key == bindparam("key"))


_CURRENT_VERSION = Sql(
    "SELECT (SELECT current_version_id FROM apps WHERE key = :key), generation"
    " FROM org_generation WHERE id = 1"
)


def current_version_id(conn: Connection, key: str) -> tuple[str | None, int]:
    """The app's current version id, and the org generation read in the same statement."""
    version_id, generation = _CURRENT_VERSION.run(conn, {"key": key}).fetchone()
    return (str(version_id) if version_id else None), int(generation)


def version_id_by_number(conn: Connection, key: str, number: int) -> tuple[str | None, int]:
    """The id of version `number` of the app `key` (None: no such version), and the org
    generation read in the same transaction (a call activity pinned to it, ADR 0035)."""
    found = conn.execute(
        select(versions.c.id)
        .join(apps, apps.c.id == versions.c.app_id)
        .where(apps.c.key == key, versions.c.version == number)
    ).scalar()
    _, generation = current_version_id(conn, key)
    return (str(found) if found else None), generation


def app_by_key(conn: Connection, key: str) -> Row[Any] | None:
    return conn.execute(_APP_BY_KEY, {"key": key}).first()


_PUBLISHED_APPS = DriverSelect(
    select(apps).where(apps.c.current_version_id.is_not(None)).order_by(apps.c.key)
)


def list_apps(conn: Connection) -> list[Any]:
    return _PUBLISHED_APPS.rows(conn)


def insert_app(
    conn: Connection,
    *,
    id: str,
    key: str,
    name_en: str,
    name_zh: str,
    category: str | None,
    created_at: datetime,
) -> None:
    conn.execute(
        apps.insert(),
        {
            "id": id,
            "key": key,
            "name_en": name_en,
            "name_zh": name_zh,
            "category": category,
            "current_version_id": None,
            "created_at": created_at,
        },
    )


def version_by_id(conn: Connection, version_id: str) -> Row[Any] | None:
    return conn.execute(select(versions).where(versions.c.id == version_id)).first()


def latest_version_number(conn: Connection, app_id: str) -> int:
    value = conn.execute(
        select(func.max(versions.c.version)).where(versions.c.app_id == app_id)
    ).scalar()
    return int(value or 0)


def insert_version(
    conn: Connection,
    *,
    id: str,
    app_id: str,
    version: int,
    definition: dict[str, Any],
    sha256: str,
    published_at: datetime,
    published_by: str | None,
) -> None:
    conn.execute(
        versions.insert(),
        {
            "id": id,
            "app_id": app_id,
            "version": version,
            "definition": definition,
            "definition_sha256": sha256,
            "published_at": published_at,
            "published_by": published_by,
        },
    )


def set_current_version(
    conn: Connection,
    *,
    app_id: str,
    version_id: str,
    name_en: str,
    name_zh: str,
    category: str | None,
) -> None:
    conn.execute(
        update(apps)
        .where(apps.c.id == app_id)
        .values(current_version_id=version_id, name_en=name_en, name_zh=name_zh, category=category)
    )


def versions_of(conn: Connection, app_id: str) -> list[Row[Any]]:
    """Every published version of an app, newest first (without the definitions)."""
    users = table_of(User)
    query = (
        select(
            versions.c.id,
            versions.c.version,
            versions.c.definition_sha256,
            versions.c.published_at,
            users.c.username.label("published_by"),
        )
        .outerjoin(users, users.c.id == versions.c.published_by)
        .where(versions.c.app_id == app_id)
        .order_by(versions.c.version.desc())
    )
    return list(conn.execute(query))
