"""The new-ticket form with formulas, conditional fields and defaults (ADR 0031): the server
renders formulas read-only with their computed value, hides a field whose visible_when does
not hold, fills defaults, and answers an htmx round trip when a value changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import yaml
from web_helpers import LOAN, Browser, csrf_from

from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps, views
from flowdesk.services.context import ServiceContext

LABEL = {"en": "Monthly", "zh": "月供"}


@pytest.fixture
def formula_loan(demo_ctx: ServiceContext) -> None:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    definition["form"]["fields"] += [
        {
            "key": "monthly",
            "type": "formula",
            "label": dict(LABEL),
            "formula": "ROUND(amount / term_months, 2)",
        },
        {
            "key": "guarantor",
            "type": "text",
            "label": {"en": "Guarantor", "zh": "担保人"},
            "required": True,
            "visible_when": "amount >= 100000",
        },
        {
            "key": "contact",
            "type": "text",
            "label": {"en": "Contact", "zh": "联系人"},
            "default": "'Branch ' & applicant.department",
        },
    ]
    apps.publish_yaml(demo_ctx, yaml.safe_dump(definition, allow_unicode=True))


def _field_block(html: str, key: str) -> str:
    found = re.search(rf'<div class="field[^"]*" data-field="{key}"[^>]*>', html)
    assert found, key
    return found.group(0)


def test_the_form_shows_formulas_read_only_hides_and_fills_by_the_server(
    formula_loan: None, browser: Callable[..., Browser]
) -> None:
    me = browser("zhang.wei", locale="en")
    html = me.get("/apps/loan/new").text
    assert 'hx-post="/apps/loan/new/fields"' in html
    assert 'data-testid="computed-monthly">—<' in html  # nothing typed yet
    assert 'name="monthly"' not in html  # never posted
    assert " hidden" in _field_block(html, "guarantor")
    assert re.search(r'id="f-guarantor" name="guarantor" disabled', html)
    assert re.search(r'id="f-contact"[^>]*value="Branch [^"]+"', html)

    # the round trip when a value changes: the server computes and shows the guarantor
    fields = me.post(
        "/apps/loan/new/fields",
        data={**LOAN, "amount": "120000.00", "term_months": "12", "csrf_token": csrf_from(html)},
    )
    assert fields.status_code == 200
    assert 'data-testid="computed-monthly">10,000.00<' in fields.text
    assert " hidden" not in _field_block(fields.text, "guarantor")
    assert 'class="req"' in fields.text.split('data-field="guarantor"')[1].split("</div>")[0]


def test_a_submit_hides_ignores_and_computes_on_the_server(
    formula_loan: None,
    browser: Callable[..., Browser],
    demo_ctx: ServiceContext,
    actors: dict[str, Any],
) -> None:
    me = browser("zhang.wei", locale="en")
    refused = me.submit_loan(amount="120000.00")  # the guarantor is shown, so required
    assert refused.status_code == 422
    assert 'data-testid="error-guarantor"' in refused.text
    ticket_id = me.file_loan(amount="1000.00", guarantor="ignored", monthly="1")
    view = views.ticket(demo_ctx, actors["admin"], ticket_id)
    expected = (Decimal("1000.00") / int(LOAN["term_months"])).quantize(Decimal("0.01"))
    assert view.values["monthly"] == str(expected)
    assert "guarantor" not in view.values
