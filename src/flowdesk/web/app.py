"""Web UI entry (placeholder until the UI lands)."""

from __future__ import annotations

from fastapi import FastAPI

from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings


def mount_web(app: FastAPI, ctx: ServiceContext, settings: Settings) -> None:
    _ = (app, ctx, settings)
