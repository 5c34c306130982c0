"""The form builder's endpoints without a browser (ADR 0039): who may open the page, the
CSRF header and JSON, Check and Publish answering every problem with the field and the
setting it names, and the preview drawn by the server with the draft's rules applied.
tests/e2e/test_form_builder.py drives the page itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from web_helpers import Browser

from builder_forms import loan_form_with, text_field
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

BASE = "/admin/apps/loan/form-builder"


def _posted(admin: Browser, url: str, body: object, token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    return admin.post(url, content=json.dumps(body), headers=headers)


def _draft() -> dict[str, Any]:
    return loan_form_with(
        text_field("guarantor", "Guarantor", "担保人", visible_when="amount > 100000")
    )


def test_the_builder_opens_for_administrators_only(browser: Callable[..., Browser]) -> None:
    admin = browser("admin", locale="en")
    page = admin.get(BASE)
    assert page.status_code == 200
    assert 'id="builder-palette"' in page.text and '"type": "resident_id"' in page.text
    assert '"key": "credit_rating"' in page.text  # the current form, as JSON
    # the apps a link field can name, the record app first, with their fields
    apps_json = page.text.split('id="builder-apps">', 1)[1].split("</script>", 1)[0]
    listed = json.loads(apps_json)
    assert listed[0]["key"] == "customers" and listed[0]["records"] is True
    assert "customer_name" in [f["key"] for f in listed[0]["fields"]]
    assert "loan" in [a["key"] for a in listed]
    assert f'href="{BASE}"' in admin.get("/admin/apps").text
    assert f'href="{BASE}"' in admin.get("/admin/apps/loan/designer").text
    assert admin.get("/admin/apps/nope/form-builder").status_code == 404
    requester = browser("zhang.wei")
    assert requester.get(BASE).status_code == 403
    refused = _posted(requester, f"{BASE}/check", {"form": _draft()}, requester.csrf())
    assert refused.status_code == 403


def test_check_and_publish_need_the_csrf_header_and_json(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin", locale="en")
    assert _posted(admin, f"{BASE}/publish", {"form": _draft()}).status_code == 403
    assert _posted(admin, f"{BASE}/publish", {"form": _draft()}, "wrong").status_code == 403
    as_yaml = admin.post(
        f"{BASE}/check",
        content="fields: []",
        headers={"Content-Type": "application/yaml", "X-CSRF-Token": admin.csrf()},
    )
    assert as_yaml.status_code == 415
    broken = admin.post(
        f"{BASE}/check",
        content="{",
        headers={"Content-Type": "application/json", "X-CSRF-Token": admin.csrf()},
    )
    assert broken.status_code == 400 and broken.json()["errors"][0]["code"] == "invalid_json"


def test_problems_name_the_field_and_setting_and_publish_answers_the_version(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    admin = browser("admin", locale="en")
    draft = _draft()
    draft["fields"][6]["visible_when"] = "amont > 1"
    draft["fields"][3]["options"][0]["value"] = ""
    checked = _posted(admin, f"{BASE}/check", {"form": draft}, admin.csrf())
    assert checked.status_code == 422
    errors = checked.json()["errors"]
    assert [(e["field"], e["setting"]) for e in errors] == [(3, "options"), (6, "visible_when")]
    published = _posted(admin, f"{BASE}/publish", {"form": _draft()}, admin.csrf())
    assert published.json() == {"ok": True, "version": 2, "changed": True}
    assert apps.current(demo_ctx, "loan").spec.form.keys()[-1] == "guarantor"
    again = _posted(admin, f"{BASE}/publish", {"form": _draft()}, admin.csrf())
    assert again.json() == {"ok": True, "version": 2, "changed": False}


def test_the_preview_runs_the_drafts_rules_on_the_server(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin", locale="en")
    small = {"form": _draft(), "values": {"amount": "2000"}}
    shown = _posted(admin, f"{BASE}/preview", small, admin.csrf())
    assert shown.status_code == 200
    block = shown.text.split('data-field="guarantor"')[1].split(">")[0]
    assert "hidden" in block
    large = {"form": _draft(), "values": {"amount": "200000"}}
    block = _posted(admin, f"{BASE}/preview", large, admin.csrf()).text
    assert "hidden" not in block.split('data-field="guarantor"')[1].split(">")[0]
    # a field that does not parse yet is left out; the others are still shown
    broken = _draft()
    broken["fields"][0]["type"] = "txt"
    partial = _posted(admin, f"{BASE}/preview", {"form": broken}, admin.csrf()).text
    assert 'data-field="applicant_name"' not in partial and 'data-field="amount"' in partial
    broken["fields"] = "none"
    unavailable = _posted(admin, f"{BASE}/preview", {"form": broken}, admin.csrf())
    assert 'data-testid="preview-unavailable"' in unavailable.text


def _lines(*columns: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": "lines",
        "type": "table",
        "label": {"en": "Lines", "zh": "明细"},
        "columns": list(columns),
    }


def test_a_columns_problem_names_the_column_and_its_setting(
    browser: Callable[..., Browser],
) -> None:
    """A sub-table's column's bad setting is answered at its column (the builder shows it
    there), and a formula summing that column is no second problem of its own."""
    admin = browser("admin", locale="en")
    draft = loan_form_with(
        _lines(
            {"key": "day", "type": "date", "label": {"en": "Date", "zh": "日期"}},
            {"key": "amount", "type": "money", "label": {"en": "Amount", "zh": "金额"}, "min": "x"},
        ),
        {
            "key": "total",
            "type": "formula",
            "label": {"en": "Total", "zh": "合计"},
            "formula": "SUM(lines.amount)",
        },
    )
    checked = _posted(admin, f"{BASE}/check", {"form": draft}, admin.csrf())
    assert checked.status_code == 422
    (error,) = checked.json()["errors"]
    at = len(draft["fields"]) - 2
    assert error["path"] == f"form.fields[{at}].columns[1].min"
    assert (error["field"], error["setting"]) == (at, "columns")
    assert (error["column"], error["column_setting"]) == (1, "min")
    draft["fields"][at]["columns"][1]["min"] = "0.01"
    assert _posted(admin, f"{BASE}/check", {"form": draft}, admin.csrf()).status_code == 200
