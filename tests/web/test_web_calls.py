"""The ticket page links a call activity's parent and child both ways (ADR 0033), in
Chinese: the parent shows its sub-ticket's serial, the child its parent's."""

from __future__ import annotations

import re
from collections.abc import Callable

from web_helpers import Browser

from call_apps import child_app, order_values, parent_app
from flowdesk.engines.access import Actor
from flowdesk.services import apps, calls, tickets
from flowdesk.services.context import ServiceContext
from flowdesk.store import calls as calls_store


def test_parent_and_child_pages_link_each_other(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    apps.publish_yaml(demo_ctx, child_app())
    apps.publish_yaml(demo_ctx, parent_app())
    parent = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="credit_order", values=order_values()
    ).ticket_id
    calls.run_due(demo_ctx)
    with demo_ctx.db.read() as conn:
        (link,) = calls_store.children(conn, parent)
    page = browser("zhang.wei").get(f"/tickets/{parent}").text
    (card,) = re.findall(
        r'<section class="card" data-testid="call-links">.*?</section>', page, re.S
    )
    assert f'href="/tickets/{link.child_ticket_id}"' in card and "子单据" in card
    child_page = browser("zhang.wei").get(f"/tickets/{link.child_ticket_id}").text
    assert f'href="/tickets/{parent}"' in child_page and "由上级单据发起" in child_page
    assert "发起子单据" in page  # the timeline's child_called


def test_the_designer_panel_edits_a_call_activity(browser: Callable[..., Browser]) -> None:
    page = browser("admin").get("/admin/apps/loan/designer").text
    for field in ("panel-call-app", "panel-call-inputs", "panel-call-outputs"):
        assert f'data-testid="{field}"' in page
    assert "调用的应用" in page
