"""API tests drive the whole application through TestClient on a fresh demo bank."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_client import Api
from fastapi.testclient import TestClient

from flowdesk.main import create_app
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings


@pytest.fixture
def client(demo_ctx: ServiceContext) -> Iterator[TestClient]:
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
