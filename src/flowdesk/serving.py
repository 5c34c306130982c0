"""Serving with several processes: what `flowdesk serve --workers N` runs in each one.

uvicorn starts its worker processes fresh (multiprocessing "spawn"), so each one must
build its own application: `worker_app` is the factory uvicorn imports by name. The
parent (`serve`) has already migrated the database and put the resolved configuration
into the environment (`worker_environment`), so every process serves the same database
with the same secret key.

The job worker never runs inside these processes: `serve` runs exactly one, in the
parent, beside uvicorn's supervisor (on SQLite two job loops would only contend for the
write lock; on PostgreSQL run more with `flowdesk worker`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from fastapi import FastAPI

from flowdesk.kernel.heap import freeze_long_lived
from flowdesk.settings import Settings

FACTORY = "flowdesk.serving:worker_app"

# uvicorn's fast parts, used when installed (they are pinned in pyproject.toml).
try:  # pragma: no cover - depends on the platform's wheels
    import uvloop  # noqa: F401

    LOOP = "uvloop"
except ImportError:  # pragma: no cover
    LOOP = "asyncio"
try:  # pragma: no cover
    import httptools  # noqa: F401

    HTTP = "httptools"
except ImportError:  # pragma: no cover
    HTTP = "h11"


def worker_environment(settings: Settings) -> Mapping[str, str]:
    """The variables that make `Settings()` in a worker process equal to the parent's."""
    return {
        "FLOWDESK_DEV": "1" if settings.dev else "0",
        "FLOWDESK_SECRET_KEY": settings.secret_key.get_secret_value(),
        "FLOWDESK_DATABASE_URL": settings.effective_database_url,
        "FLOWDESK_RUN_WORKER": "false",
    }


def worker_app() -> FastAPI:
    """One server process's application (the schema is current: the parent migrated it)."""
    from flowdesk.main import create_app

    settings = Settings(dev=os.environ.get("FLOWDESK_DEV") == "1")
    app = create_app(settings, migrate=False)
    freeze_long_lived()  # its routes, templates and caches: never walked by the collector
    return app
