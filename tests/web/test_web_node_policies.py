"""The ticket page says when a step decided itself, and why, in the viewer's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from web_helpers import Browser

from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext


def test_an_automatic_approval_is_shown_with_its_condition(
    demo_ctx: ServiceContext, browser: Callable[..., Browser]
) -> None:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] == "branch_review":
            node["auto"] = {"when": "amount <= 50000"}
    apps.publish_yaml(demo_ctx, yaml.safe_dump(definition, allow_unicode=True))
    applicant = browser("zhang.wei")
    ticket_id = applicant.file_loan(amount="30,000.00")
    page = applicant.get(f"/tickets/{ticket_id}").text
    line = page[page.index('data-kind="node_skipped"') :][:1000]
    assert "自动处理" in line and "自动通过：amount &lt;= 50000" in line and "支行行长审批" in line
    english = browser("zhang.wei", locale="en").get(f"/tickets/{ticket_id}").text
    assert "Approved automatically: amount &lt;= 50000" in english
