"""Building the service context from settings: the one place that opens the database."""

from __future__ import annotations

from datetime import timedelta

from flowdesk.engines.calendar import CalendarSpec
from flowdesk.kernel.clock import Clock, SystemClock
from flowdesk.services import audit
from flowdesk.services import notifications as _notifications  # registers job handlers
from flowdesk.services.calendar_cache import CalendarCache
from flowdesk.services.context import AuthPolicy, ServiceContext
from flowdesk.store import migrate
from flowdesk.store.db import Database

__all__ = ["build_context", "migrate_database", "schema_behind"]
_ = _notifications


def build_context(
    url: str,
    *,
    sqlite_synchronous: str = "NORMAL",
    pool_size: int = 10,
    echo: bool = False,
    clock: Clock | None = None,
    auth: AuthPolicy | None = None,
    audit_algorithm: str = "sha256",
    calendar: CalendarSpec | None = None,
    urge_interval: timedelta | None = None,
) -> ServiceContext:
    db = Database(url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size, echo=echo)
    return ServiceContext(
        db=db,
        clock=clock or SystemClock(),
        auth=auth or AuthPolicy(),
        audit_algorithm=audit_algorithm,
        calendar=CalendarCache(calendar),
        urge_interval=urge_interval or timedelta(hours=4),
    )


def migrate_database(ctx: ServiceContext) -> None:
    """Brings the schema to the newest version and starts an empty audit chain with the
    configured hash algorithm (ConfigurationError if a chain with entries uses another)."""
    migrate.upgrade(ctx.db)
    audit.ensure_hash_algorithm(ctx)


def schema_behind(ctx: ServiceContext) -> str | None:
    """Why the database cannot be used by this version as it is, or None when its schema
    is the newest (every command but `migrate` and `serve`, which migrate, checks)."""
    current, newest = migrate.current_revision(ctx.db), migrate.head_revision()
    if current == newest:
        return None
    if current is None:
        return "the database has no flowdesk schema yet: run `flowdesk migrate` first"
    return (
        f"the database schema is at version {current}, this flowdesk needs {newest}:"
        " run `flowdesk migrate` first"
    )
