"""Web UI tests: the whole application (create_app) driven through FastAPI's TestClient.

Every test gets a fresh copy of a database that already holds the demo bank, on
SQLite and on PostgreSQL (fixtures in tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from web_helpers import Browser

from flowdesk.main import create_app
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(dev=True, run_worker=False)


@pytest.fixture
def app(demo_ctx: ServiceContext, settings: Settings) -> FastAPI:
    return create_app(settings, demo_ctx, migrate=False)


@pytest.fixture
def browser(app: FastAPI) -> Callable[..., Browser]:
    """browser("zhang.wei") → a logged-in Browser (Chinese unless locale="en")."""

    def make(username: str | None = None, locale: str = "zh") -> Browser:
        made = Browser(app, locale)
        if username is not None:
            response = made.login(username)
            assert response.status_code == 303, response.text
        return made

    return make


@pytest.fixture
def anon(app: FastAPI) -> Iterator[Browser]:
    yield Browser(app)
