"""Service tests use the shared fixtures of tests/conftest.py (demo bank per test)."""

from __future__ import annotations

import pytest
from loan_desk import Desk

from flowdesk.engines.access import Actor
from flowdesk.services.context import ServiceContext


@pytest.fixture
def desk(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> Desk:
    return Desk(demo_ctx, actors)
