"""The web UI: server-rendered Jinja2 pages with HTMX and Alpine.js, in Chinese and English.

`mount_web` adds the static files (/static), the pages and HTML error handlers to the
application built by `flowdesk.main.create_app`. Handlers stay thin: they call
services and render templates.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from flowdesk.web import errors
from flowdesk.web.i18n import load_translations
from flowdesk.web.pages import (
    add_signs,
    admin,
    admin_calendar,
    admin_designer,
    admin_form_builder,
    admin_handover,
    admin_jobs,
    apps,
    attachments,
    auth,
    copies,
    delegate_task,
    delegations,
    home,
    notifications,
    records,
    repairs,
    tasks,
    ticket_diagram,
    ticket_imports,
    ticket_notes,
    ticket_returns,
    tickets,
    transfers,
    withdrawals,
)
from flowdesk.web.render import STATIC_DIR, build_ui


def mount_web(app: FastAPI, ctx: ServiceContext, settings: Settings) -> None:
    app.state.ctx = ctx
    app.state.settings = settings
    app.state.web = build_ui(load_translations())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        auth,
        home,
        apps,
        ticket_imports,
        tickets,
        ticket_returns,
        add_signs,
        transfers,
        delegate_task,
        delegations,
        withdrawals,
        repairs,
        ticket_notes,
        copies,
        tasks,
        notifications,
        admin_calendar,
        admin_designer,
        admin_form_builder,
        admin_handover,
        admin_jobs,
        admin,
        ticket_diagram,
        attachments,
        records,
    ):
        app.include_router(module.router, include_in_schema=False)
    errors.install(app)
